"""The formats of Chinese licence plates (GA 36-2018), as pure functions of text.

A reading that fits none of these formats is not a plate; the recognizer never offers it, nor one
that fits only a format the camera cannot read (camera=False: typed and imported only).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from itertools import combinations

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Letters on plates: the Latin alphabet without I and O (they read as 1 and 0).
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# The office letter (second character) may be O as well: 粤O is issued to Guangdong's
# public-security organs, 京O to Beijing police cars on civil plates. ALPHABET leaves it out: the
# model has never seen one, so the camera cannot read these plates until it is retrained, but
# they can be registered, imported, typed by a guard and matched.
OFFICE_LETTERS = LETTERS + "O"
DIGITS = "0123456789"
ALNUM = LETTERS + DIGITS
SUFFIXES = "学挂警港澳领"
SPECIAL_PREFIXES = "使"
# Every character the camera's formats can hold (no O, nor the 应急 of typed-only plates): the
# recognizer's output alphabet.
ALPHABET = PROVINCES + LETTERS + DIGITS + SUFFIXES + SPECIAL_PREFIXES

_P = f"[{PROVINCES}]"
_A = f"[{ALNUM}]"
# New-energy plates: the first serial character of a small car names its energy kind
# (D/F originally, A-K since 2022 when D/F ran out); large vehicles carry it last.
_NEV_KIND = "[A-HJK]"
# A serial (everything after the office letter) holds at most two letters: the number allocation
# rules, as we understand them, cap it there, and none of the 2,629 real plates in
# ../shared/plates has more. Raise it here if a real plate ever shows otherwise.
MAX_SERIAL_LETTERS = 2
_SERIAL_CAP = f"(?!(?:[^A-Z]*[A-Z]){{{MAX_SERIAL_LETTERS + 1}}})"


@dataclass(frozen=True, slots=True)
class PlateFormat:
    name: str
    colours: tuple[str, ...]
    pattern: re.Pattern[str]
    rows: tuple[int, ...] = (1,)
    # False for a plate the camera cannot read (the model was never trained on its layout, so it
    # has no SLOTS entry and the decoder never offers it) but that is on the road: it can be
    # registered, imported, typed by a guard and matched like any other.
    camera: bool = True

    def matches(self, text: str) -> bool:
        return self.pattern.fullmatch(text) is not None


def _fmt(
    name: str, colours: tuple[str, ...], regex: str, rows: tuple[int, ...] = (1,), *, camera: bool = True
) -> PlateFormat:
    return PlateFormat(name, colours, re.compile(regex), rows, camera)


# The registration office (province, letter), then the cap on the serial's letters.
_OFFICE = f"{_P}[{OFFICE_LETTERS}]{_SERIAL_CAP}"


FORMATS: tuple[PlateFormat, ...] = (
    _fmt("standard", ("blue", "yellow"), f"{_OFFICE}{_A}{{5}}", (1, 2)),
    _fmt("new_energy_small", ("green",), f"{_OFFICE}{_NEV_KIND}{_A}[0-9]{{4}}"),
    _fmt("new_energy_large", ("green",), f"{_OFFICE}[0-9]{{5}}{_NEV_KIND}"),
    _fmt("coach", ("yellow",), f"{_OFFICE}{_A}{{4}}学"),
    _fmt("trailer", ("yellow",), f"{_OFFICE}{_A}{{4}}挂", (1, 2)),
    _fmt("police", ("white",), f"{_OFFICE}{_A}{{4}}警"),
    _fmt("hong_kong", ("black",), f"粤Z{_SERIAL_CAP}{_A}{{4}}港"),
    _fmt("macau", ("black",), f"粤Z{_SERIAL_CAP}{_A}{{4}}澳"),
    _fmt("consulate", ("black",), f"{_OFFICE}{_A}{{4}}领"),
    _fmt("embassy", ("black",), "使[0-9]{6}"),
    # Not GA 36 (the army's and the armed police's own standards, the 2018 notice for 应急), so
    # the renderer never drew them and the camera cannot read them: typed and imported only.
    # The army (since 2013): a unit letter (red) and a second letter, then five digits: VA·12345.
    _fmt("military", ("white",), f"[{LETTERS}]{{2}}[0-9]{{5}}", camera=False),
    # The armed police (since 2013): WJ, the province (none on the headquarters' own cars: WJ·12345),
    # four digits, then a digit or the service's letter (X fire, B border, T transport...).
    _fmt("armed_police", ("white",), f"WJ{_P}?[0-9]{{4}}{_A}", camera=False),
    # Fire and rescue (应急救援, since 2018): the province, the team's letter, four characters, 应急.
    _fmt("emergency", ("white",), f"{_P}[{LETTERS}]{_SERIAL_CAP}{_A}{{4}}应急", camera=False),
)

# The middle dot has look-alikes that Chinese and Japanese input methods offer in its place
# (・ U+30FB, also what NFKC makes of the half-width ･; ‧ U+2027; ∙ U+2219; ⋅ U+22C5), so all
# count; and the '.' key in Chinese punctuation mode gives the ideographic full stop 。 (U+3002,
# also what NFKC makes of the half-width ｡), the dot a guard meant. The hyphen counts as typed on a
# Chinese keyboard too: the dashes of gateway/typed.py DASHES (— or —— in Chinese punctuation
# mode, – from a phone's keyboard or WeChat), which NFKC leaves as they are.
_SEPARATORS = re.compile(r"[\s·・‧∙⋅•.。\-_‐‑‒–—―]")


def _visible(text: str) -> str:
    # Format characters (Unicode category Cf: the zero-width space U+200B that WeChat and QQ
    # messages carry, U+FEFF, the joiners U+200C/U+200D, U+2060, the soft hyphen) show nothing, so
    # a pasted plate that holds one looks right; \s does not match them and NFKC keeps them.
    # Printable text holds none (str.isprintable is false for every category C* character): the
    # common case, asked in C, where the scan below took a tenth of an import's reading of its files.
    if text.isprintable():
        return text
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def normalize(text: str) -> str:
    """Upper-case a plate and drop the separators people type (spaces, the middle dot and its
    look-alikes) and the invisible characters pasted text carries (a zero-width space); letters,
    digits and separators typed full-width (a Chinese input method's 全角: Ａ１２, －) count as
    their ASCII selves."""
    return _cleaned(text).upper()


def _cleaned(text: str) -> str:
    """`text` with normalize's cleanup but its case kept: full-width folded (NFKC), invisible
    characters and separators dropped (serial_as_digits reads a small l before upper-casing)."""
    return _SEPARATORS.sub("", _visible(unicodedata.normalize("NFKC", text)).strip())


# A serial never holds I or O (LETTERS), so there a guard's I is the digit 1 and O is 0: what he read
# off a dirty plate. L is a serial's letter, so only l written small (which looks like 1) is read as
# 1, before upper-casing. O is an office letter (粤O), so the office letter keeps it.
# 〇 (U+3007, the Chinese numeral zero a Chinese input method gives for "ling") is the 0 he meant.
_SERIAL_DIGITS = str.maketrans({"I": "1", "i": "1", "l": "1", "O": "0", "o": "0", "〇": "0"})


def serial_as_digits(text: str) -> str:
    """A plate, or a piece of one, as normalize reads it, with I, l and O in its serial read as the
    digits 1 and 0 (皖AI2345 and 皖Al2345 are 皖A12345). The serial is what follows the province (or
    使) and the office letter; a piece typed without its province (AO1234) keeps its first letter as
    the office letter, one beginning with a digit (2O45) is all serial."""
    raw = _cleaned(text)
    first, start = raw[:1], 0
    if first and first in PROVINCES + SPECIAL_PREFIXES:
        start = 1
    office = raw[start : start + 1].upper()
    if office and office in OFFICE_LETTERS and first not in SPECIAL_PREFIXES:
        start += 1
    return (raw[:start] + raw[start:].translate(_SERIAL_DIGITS)).upper()


# A green new-energy small car's plate without its province: the office letter, the energy kind
# (_NEV_KIND: D or F first, A-K without I since 2022) and five digits. 苏ED12345 typed or imported
# as ED12345 fits the army's format whole (two letters, five digits), and was taken for an army car
# (Review 67 G1): the resident's car let in as a stranger, counted twice; 皖AA12345 as AA12345 the
# same (Review 67 J2: only D and F were caught). An army plate has its separator after the two
# letters (VA·12345), so written with one it is the army's.
_PROVINCE_LEFT_OUT = re.compile(f"[{LETTERS}]{_NEV_KIND}[0-9]{{5}}")
ARMY_SEPARATOR = "-"


def province_left_out(text: str) -> bool:
    """Whether `text`, as a person typed or imported it, reads as a green new-energy plate without
    its province rather than an army plate: it is an army plate's two letters and five digits
    (normalize), the second letter an energy kind's (_NEV_KIND: A-H, J, K), with no separator
    after the letters (ED12345, AA12345, E·D12345). ED-12345, ED·12345 or ED 12345 is the army
    plate. Not for the recognizer's readings (it never
    offers an army plate) nor a plate as the gateway stores it (the separator dropped)."""
    if _PROVINCE_LEFT_OUT.fullmatch(normalize(text)) is None:
        return False
    raw = _visible(unicodedata.normalize("NFKC", text)).strip()
    kept = 0
    for i, char in enumerate(raw):
        if _SEPARATORS.fullmatch(char) is None:
            kept += 1
            if kept == 2:  # the second letter: five digits follow, so raw[i + 1] exists
                return _SEPARATORS.fullmatch(raw[i + 1]) is None
    return False


def as_written(plate: str) -> str:
    """A stored plate as a person writes it so that province_left_out takes it back: an army plate
    that would read as a green plate without its province with ARMY_SEPARATOR after its letters
    (ED12345 as ED-12345, what `gateway export` writes); any other plate as it is."""
    if _PROVINCE_LEFT_OUT.fullmatch(plate) is None:
        return plate
    return f"{plate[:2]}{ARMY_SEPARATOR}{plate[2:]}"


def formats_of(text: str) -> list[PlateFormat]:
    """Every format the (normalized) text fits; empty when it is not a plate."""
    return [f for f in FORMATS if f.matches(text)]


def camera_formats_of(text: str) -> list[PlateFormat]:
    """The formats the camera reads that the text fits: what a reading may be. Every character of
    a military plate (VA12345) is in ALPHABET, so a plate whose province the network took for a
    letter would otherwise be offered as one."""
    return [f for f in FORMATS if f.camera and f.matches(text)]


# All formats in one pattern: checking 100,000 plates of an import is one regex call each.
_ANY_FORMAT = re.compile("|".join(f"(?:{f.pattern.pattern})" for f in FORMATS))
_ANY_FORMAT_UNCAPPED = re.compile(_ANY_FORMAT.pattern.replace(_SERIAL_CAP, ""))


def is_plate(text: str) -> bool:
    return _ANY_FORMAT.fullmatch(text) is not None


def colours_of(text: str) -> tuple[str, ...]:
    """The plate colours a text can appear on, in format order, without repeats."""
    seen: dict[str, None] = {}
    for fmt in formats_of(text):
        for colour in fmt.colours:
            seen.setdefault(colour)
    return tuple(seen)


# The camera's formats as per-position character sets, for decoders that cannot run a regex over
# probabilities; slot_variants adds the cap on the serial's letters. They hold only what the
# recognizer can read (characters of ALPHABET, so no office letter O; no format with
# camera=False): the decoder, the plate renderer and the impostor generator draw from them.
# tests/plates/test_plates_grammar.py checks that they agree with FORMATS on such text.
_NEV = "ABCDEFGHJK"
SLOTS: dict[str, tuple[str, ...]] = {
    "standard": (PROVINCES, LETTERS) + (ALNUM,) * 5,
    "new_energy_small": (PROVINCES, LETTERS, _NEV, ALNUM) + (DIGITS,) * 4,
    "new_energy_large": (PROVINCES, LETTERS) + (DIGITS,) * 5 + (_NEV,),
    "coach": (PROVINCES, LETTERS) + (ALNUM,) * 4 + ("学",),
    "trailer": (PROVINCES, LETTERS) + (ALNUM,) * 4 + ("挂",),
    "police": (PROVINCES, LETTERS) + (ALNUM,) * 4 + ("警",),
    "hong_kong": ("粤", "Z") + (ALNUM,) * 4 + ("港",),
    "macau": ("粤", "Z") + (ALNUM,) * 4 + ("澳",),
    "consulate": (PROVINCES, LETTERS) + (ALNUM,) * 4 + ("领",),
    "embassy": ("使",) + (DIGITS,) * 6,
}


@cache
def slot_variants(name: str) -> tuple[tuple[str, ...], ...]:
    """SLOTS[name] split so that each variant lets at most MAX_SERIAL_LETTERS serial positions
    hold a letter (the others keep only their non-letters): together they hold exactly the
    format's plates, and each is a plain per-position sequence again."""
    slots = SLOTS[name]
    open_ = [i for i in range(2, len(slots)) if any(c in LETTERS for c in slots[i])]
    if len(open_) <= MAX_SERIAL_LETTERS:
        return (slots,)
    variants: dict[tuple[str, ...], None] = {}
    for chosen in combinations(open_, MAX_SERIAL_LETTERS):
        variant = tuple(
            s if i in chosen or i not in open_ else "".join(c for c in s if c not in LETTERS)
            for i, s in enumerate(slots)
        )
        if all(variant):  # a letters-only position must be among the chosen
            variants.setdefault(variant)
    return tuple(variants)


def over_letter_cap(text: str) -> bool:
    """Text that would be a plate but for more than MAX_SERIAL_LETTERS letters in its serial."""
    return not is_plate(text) and _ANY_FORMAT_UNCAPPED.fullmatch(text) is not None
