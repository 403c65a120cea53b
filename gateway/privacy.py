"""Personal data (PIPL): phone and ID numbers are kept masked plus a keyed hash, never in clear."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import closing, suppress
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from gateway.errors import StorageError
from gateway.typed import AS_HYPHEN, DASHES, typed

_NOT_DIGIT_OR_X = re.compile(r"[^0-9Xx]")
_NOT_LETTER_OR_DIGIT = re.compile(r"[^0-9A-Z]")
KEY_BYTES = 32
# The document an ID number is read from. A visitor with no mainland ID card (a foreigner, a Hong
# Kong, Macau or Taiwan resident) gives the number of the document he carries instead.
IdKind = Literal["resident_id", "passport", "hk_macau_permit", "taiwan_permit", "foreign_permanent"]
ID_KINDS: tuple[IdKind, ...] = get_args(IdKind)


class Secrets:
    """The site's secret key, made on first start in the data directory, readable by the gateway only."""

    def __init__(self, key: bytes):
        self._key = key

    @classmethod
    def load_or_create(cls, data_dir: Path) -> Secrets:
        path = data_dir / "secret.key"
        try:
            if not path.exists():
                _refuse_if_hashed(data_dir, path)
                _create_key(path)
            key = path.read_bytes()
        except OSError as exc:
            raise StorageError(
                f"cannot read or make the site key {path}: {exc.strerror}",
                fix=f"give it to the gateway's user: chown estate-gateway:estate-gateway {path}; "
                f"chmod 600 {path} (a key restored or made as root is not readable by the service)",
            ) from exc
        if len(key) < KEY_BYTES:
            # Never made anew here: every phone and ID hash stored with the old key would stop
            # matching, and returning visitors and phone searches would find no one.
            raise StorageError(
                f"{path} holds {len(key)} bytes, a site key has {KEY_BYTES}: it is damaged or was cut "
                "short, and phone and ID numbers cannot be hashed with it",
                fix=f"restore secret.key from a backup of {data_dir} (same owner, mode 600); only on "
                "a gateway that has stored no phone or ID numbers yet, delete it and start again to "
                "make a new key",
            )
        return cls(key)

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash: a returning visitor is found by it, the number cannot be read back."""
        number = normalize_phone(value) if purpose == "phone" else normalize_number(value)
        return self._hash(purpose, number)

    def id_digest(self, kind: IdKind, number: str) -> str:
        """The keyed hash of an ID number read from a document of `kind`. A resident ID card's is the
        one stored before other documents were taken, so its holders are found again as before;
        another document's names its kind, so that no two documents' numbers match each other."""
        if kind == "resident_id":
            return self.digest("id_number", number)
        return self._hash(f"id_number:{kind}", normalize_document(number, kind))

    def kept_phone(self, phone: str) -> tuple[str, str]:
        """What is kept of a phone number: (masked, keyed hash); ("", "") for none given."""
        return (mask_phone(phone), self.digest("phone", phone)) if phone else ("", "")

    def kept_id(self, number: str, kind: IdKind) -> tuple[str, str]:
        """What is kept of an ID number of a document of `kind`: (masked, keyed hash); ("", "") for
        none given."""
        return (mask_id_number(number, kind), self.id_digest(kind, number)) if number else ("", "")

    def phone_digests(self, phone: str) -> list[str]:
        """Every keyed hash `phone` may be stored under, to look it up with (IN): this version's,
        and for a mainland mobile the two an older gateway stored when the number was typed with
        its country code (it hashed every digit: +86 138 0013 8000 as 8613800138000). Those rows
        stay as they are: the number to hash them anew is not stored. Likewise another number, the one
        stored when it was typed with 00 (00852 9123 4567 as 0085291234567, before 00 was left out)."""
        number = normalize_phone(phone)
        if _mainland_mobile(number):
            forms = [number, f"86{number}", f"0086{number}"]
        else:
            forms = [number] if number.startswith("0") else [number, f"00{number}"]  # no code begins 0
        return [self._hash("phone", form) for form in forms]

    def _hash(self, purpose: str, number: str) -> str:
        return hmac.new(self._key, f"{purpose}:{number}".encode(), hashlib.sha256).hexdigest()


# The keyed hashes the store keeps (table, column): a phone or ID number is found again only with
# the key it was hashed with.
_HASHED = tuple(
    (table, column)
    for table in ("residents", "passes", "pass_people")
    for column in ("phone_hash", "id_hash")
    if (table, column) != ("residents", "id_hash")
)


def _refuse_if_hashed(data_dir: Path, path: Path) -> None:
    """A key missing where the database holds numbers hashed with one: lost (fsck on a failing SD
    card, a restore that left it out), never made anew here. Made anew, every stored phone and ID
    hash stopped matching, silently: a resident's phone found nobody, a returning visitor was new.
    Refused, as a key cut short is (StorageError: exit 78), by every process that would make it."""
    database = data_dir / "gateway.db"  # store.database.DB_NAME; not imported: the store imports this
    if not database.exists():
        return
    hashed = 0
    # A table not there in this database's version, or a database unreadable: the start says so.
    with (
        suppress(sqlite3.Error),
        closing(sqlite3.connect(database.resolve().as_uri() + "?mode=ro", uri=True)) as conn,
    ):
        for table, column in _HASHED:
            with suppress(sqlite3.Error):
                hashed += conn.execute(f"SELECT count(*) FROM {table} WHERE {column} != ''").fetchone()[0]
    if hashed:
        raise StorageError(
            f"the site key {path} is missing, but the database holds phone or ID numbers hashed with it "
            f"({hashed}): a new key would find none of them again (a resident's phone, a returning "
            "visitor)",
            fix=f"restore secret.key from the newest backup of {data_dir} (`gateway backup` copies it): "
            f"sudo install -o estate-gateway -g estate-gateway -m 600 BACKUP/secret.key {path}; fsck "
            "may have put it in lost+found (a 32-byte file). Only to start anew on purpose, those "
            f"numbers never found again: sudo -u estate-gateway sh -c 'umask 077; head -c {KEY_BYTES} "
            f"/dev/urandom > {path}'",
        )


def _create_key(path: Path) -> None:
    """Write a new key whole or not at all: a power cut must not leave an empty secret.key."""
    fd, tmp = tempfile.mkstemp(prefix=".secret.key.", dir=path.parent)  # mode 600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(KEY_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # unlike a rename, never replaces a key another process just made
        except FileExistsError:
            pass  # `gateway import` and the service started together: the first key stands
        except OSError:
            os.replace(tmp, path)  # a file system without hard links
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the new name survives a power cut too
    finally:
        os.close(dir_fd)


def normalize_number(value: str) -> str:
    """The digits (and an ID number's X) of a phone or ID number, those typed full-width (１３８,
    Ｘ, as a Chinese input method's 全角 mode types them) as their ASCII selves: left out, the
    number's hash was that of a few digits or none, and the ID number was refused as too short."""
    return _NOT_DIGIT_OR_X.sub("", typed(value)).upper()


def normalize_phone(value: str) -> str:
    """The digits of a phone number; one dialled with 00 (the international prefix) loses it, so
    00852 9123 4567 and +852 9123 4567 are the same person; a mainland mobile typed with its country
    code (+86, 0086 or 86) loses it too, so +86 138 0013 8000 and 13800138000 are the same person."""
    digits = normalize_number(value)
    if digits.startswith("00"):  # no number dialled at home begins 00
        digits = digits[2:]
    rest = digits.removeprefix("86")
    return rest if rest != digits and _mainland_mobile(rest) else digits


def _mainland_mobile(digits: str) -> bool:
    return len(digits) == 11 and digits.startswith("1")


def mask_phone(phone: str) -> str:
    """138****5678 for a mobile (11 digits or more); a shorter number, a landline such as 8765 4321,
    keeps only its last four digits and never more than it hides: ****4321, ****210."""
    digits = normalize_phone(phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    shown = min(4, max(len(digits) - 4, 0))
    return "*" * (len(digits) - shown) + digits[len(digits) - shown :]


def normalize_document(value: str, kind: IdKind = "resident_id") -> str:
    """An ID number as its document prints it: a resident ID card's digits and X; another
    document's letters (in capitals) and digits (a passport's E12345678, a permit's H12345678),
    spaces, dashes and brackets typed with them left out, full-width ones as their ASCII selves."""
    if kind == "resident_id":
        return normalize_number(value)
    return _NOT_LETTER_OR_DIGIT.sub("", typed(value).upper())


def mask_id_number(id_number: str, kind: IdKind = "resident_id") -> str:
    """An ID number by its last four characters, and never more than it hides, as mask_phone: an ID
    card's **************002X, a passport's *****5678; a short one (5 to 7 characters are taken)
    ****34, ****456."""
    chars = normalize_document(id_number, kind)
    shown = min(4, max(len(chars) - 4, 0))
    return "*" * (len(chars) - shown) + chars[len(chars) - shown :]


# Free text a guard types (a handover note, a correction's reason, an alarm's note) may hold a phone
# or ID number: a run of 7 digits or more (an ID number's with its X), a mobile typed in groups as
# contact cards print it (138 1234 5678, 138-1234-5678, 138.1234.5678, 138·1234·5678; the dash as a
# Chinese keyboard types it too, 138—1234—5678 or 138——1234——5678, _as_matched), a landline in
# its groups (0571-8765 4321; a local number never begins with 0 or 1, so a time such as 0830-1130
# is none, nor what is left of a number masked already, ****4005 4614; without its area code only
# after a phone word, 座机 8765 4321, as 2030-2200 or 3栋2201-2204室 is a time or a range) or an ID
# card's number in the groups the card prints (110101 19900307 123X) or in any groups (_ids_in_groups).
# A phone of Taiwan's in its groups (0912-345-678, 0912 345678), and any number dialled with its
# country code (+852 9123 4567, +853 6612 3456, +886 912 345 678, (+86)139 1234 5678, 00852 9123
# 4567, +1 (415) 555-2671: _with_country_code; 852 9123 4567 as Hong Kong cards print it:
# _with_code_unsigned) are someone's too, and so is a document's number read out in groups after
# a word naming the document (已核对护照 E 1234 5678: _documents_in_groups).
# Kept: a receipt number the gateway makes (20261125-0001, store/payments.py), a date (20261125)
# and a thing's code (_a_code).
# Between groups: a space, a dot or a dash; two dashes, as an input method gives —— for its dash key.
_GROUPS = r"(?:[ .·]|--?)"
_ID_GROUPS = r"(?: |--?)"
_NUMBER_IN_TEXT = re.compile(
    r"(?<![0-9])(?P<receipt>[0-9]{8}-[0-9]{4,})(?![0-9])"
    rf"|(?<![0-9])(?P<id>[0-9]{{6}}{_ID_GROUPS}?[0-9]{{8}}{_ID_GROUPS}?[0-9]{{3}}[0-9Xx])(?![0-9])"
    rf"|(?<![0-9])(?P<mobile>1[0-9]{{2}}{_GROUPS}[0-9]{{4}}{_GROUPS}[0-9]{{4}})(?![0-9])"
    rf"|(?<![0-9])(?P<taiwan>09[0-9]{{2}}{_GROUPS}[0-9]{{3}}{_GROUPS}?[0-9]{{3}})(?![0-9])"
    rf"|(?<![0-9*])(?P<landline>(?P<area>0[0-9]{{2,3}}{_GROUPS}?)?[2-9][0-9]{{2,3}}{_GROUPS}[0-9]{{4}})(?![0-9])"
    r"|(?<![0-9])(?P<number>[0-9]{7,}[Xx]?)(?![0-9])"
)
_MATCHED_AS_TYPED = frozenset("0123456789Xx -.+()")
# No phone or ID card number is longer (18, an ID's X included): a longer run is a payment's
# transaction number (WeChat's and Alipay's are 28 digits), which the office looks up in full.
_LONGEST_PERSONAL = 18


def _as_matched(char: str) -> str:
    """A character as the number patterns read it: a full-width digit, X, space (U+3000), dash
    (U+FF0D), dot (U+FF0E), plus or bracket (＋, （）), as a Chinese input method's 全角 mode types
    them, as its ASCII self (NFKC), and a dash a Chinese keyboard gives for the hyphen (— in Chinese
    punctuation mode, – from a phone's keyboard: DASHES) as '-'; anything else as it is. One
    character for one, so a match's place is its place in the text as typed."""
    if char in DASHES:
        return "-"
    plain = unicodedata.normalize("NFKC", char)
    return plain if len(plain) == 1 and plain in _MATCHED_AS_TYPED else char


def _a_date(digits: str) -> bool:
    try:
        return 1900 <= datetime.strptime(digits, "%Y%m%d").year < 2100
    except ValueError:
        return False


# What a thing's code is written with: ASCII letters glued to its digits (SF1234567890123, a
# serial's C1Z2034567, 2160000W) or before them with a dash (or an input method's two, BCD——
# 2160000), colon, # or dot (BCD-2160000, SN:12345678, No.1234567), matched on the text before the
# digits as NFKC and _as_matched read it (ＳＮ：, — as -).
_CODE_BEFORE = re.compile(r"(?P<letters>[A-Za-z][A-Za-z/]*)(?:(?:--?|[:#.]) *)?$")
# The letters glued to the digits, a word of their own (E in 护照E12345678, not Z in C1Z2034567).
_GLUED_LETTERS = re.compile(r"(?<![0-9A-Za-z])[A-Za-z]{1,3}$")
# Words that say the number after them is a person's (Tel:87654321, QQ:12345678, ID-..., 护照
# E12345678, Passport No. E12345678): masked, whether the letters before the digits are the word
# itself or a document's own (ID:E12345678).
_CONTACT_WORDS = ("tel", "phone", "mobile", "mob", "cell", "fax", "call", "contact", "qq", "wx", "vx", "id")
_DOCUMENT_WORDS = ("passport", "护照", "通行证", "回乡证", "台胞证", "居留证", "身份证", "证件")
# What may stand between such a word and the number: 证件号码：, Passport No. , ID#.
_NUMBER_WORD = re.compile(r"(?:号码|号|(?<![A-Za-z])(?:no|nr|number))$")
_SEPARATORS = " -:#."
_LOOK_BACK = 24
# A passport's number as printed: China's E12345678 (G, P, S, D on older or official ones, EA1234567
# once E's ran out), Hong Kong's K or H, a 往来港澳通行证's C. With a Hong Kong/Macau permit's and a
# 2017 foreign permanent residence card's whose letters are a nationality (_DOCUMENTS), a document's
# shape: masked even written as a code.
_PASSPORT_IN_TEXT = re.compile(r"[CDEGHKPS][0-9]{8}|E[A-Z][0-9]{7}")
# The nationality a 2017 foreign permanent residence card's number begins with: an ISO 3166-1 alpha-3
# code (GB/T 2659; the list as Debian's iso-codes has it). 3 letters and 12 digits is also a courier's
# waybill (Deppon's DPK301234567890, JD's JDX012345678901): those letters are no country's.
_ISO_3166_ALPHA_3 = """
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR
BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL
COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK
FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV
HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO
LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG
MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN
PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE
SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO
TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
"""
_NATIONALITIES = frozenset(_ISO_3166_ALPHA_3.split())
# Shapes that are a document's only where the clause names one a little before the number (within
# _NEAR characters: 护照号为TK1234567, 已核对护照，号码TK1234567, passport number is TK1234567):
# another country's passport, 1 or 2 letters and 7 or 8 digits (Japan's TK1234567, Thailand's
# AA1234567, India's or Vietnam's B1234567), and a residence card's 3 letters and 12 digits whose
# letters are no nationality. Alone they are as often a thing's code (a model, a waybill), kept.
_NAMED_DOCUMENT_SHAPE = re.compile(r"[A-Z]{1,2}[0-9]{7,8}|[A-Z]{3}[0-9]{12}")
_NEAR = 12


def _words(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `words` in lower-case text; an ASCII one as a word of its own (ID, not paid)."""
    return re.compile("|".join(rf"(?<![a-z]){w}(?![a-z])" if w.isascii() else w for w in words))


_DOCUMENT_WORD = _words((*_DOCUMENT_WORDS, "id"))
# What may stand between a document word and its number: number words, 为/是/is, spaces and
# punctuation but a sentence's end (。；！？ as NFKC reads them, a new line). Any other word says the
# number is something else's: 凭身份证放行，冰箱 SN AB12345678, 证件齐全，资产编号ZC12345678.
_DOCUMENT_WORD_TO_NUMBER = re.compile(r"(?:号码|号|为|是|码|no|nr|number|is|[^\w。;!?\n])*")
# Words saying a landline's local number (8765 4321, without its area code) follows in the clause.
_PHONE_WORD = _words(
    ("电话", "座机", "固话", "手机", "联系", "热线", "传真", "tel", "phone", "fax", "call", "contact")
)
# A phone word's clause ends at a comma too: 已电话通知，2030-2200 封闭 is a time.
_CLAUSE_END = re.compile(r"[。;!?\n,、]")


def _ascii_letter(char: str) -> bool:
    plain = unicodedata.normalize("NFKC", char)
    return plain.isascii() and plain.isalpha()


# A landline with its area code (or a number dialled abroad, 00...), 10 to 12 digits: no area code
# begins 01 but Beijing's 010, so a JD waybill's digits (JDX012345678901) are none.
_LANDLINE_WITH_AREA = re.compile(r"010[0-9]{7,9}|0[02-9][0-9]{8,10}")


def _personal_shape(digits: str) -> bool:
    """A mobile (138..., with its 86 too), a landline with its area code (010 65123456, 0512
    6512345) or an ID card's number: masked even written as a code."""
    return (
        _mainland_mobile(normalize_phone(digits))
        or _LANDLINE_WITH_AREA.fullmatch(digits) is not None
        or len(digits) in (15, 18)
    )


def _document_shape(code: str) -> bool:
    """A passport's (E12345678), a Hong Kong/Macau permit's (H12345678, M1234567890) or a foreign
    permanent residence card's number (USA123456789012), letters and digits as one word in capitals."""
    if _DOCUMENTS["foreign_permanent"][0].fullmatch(code):
        return code[:3] in _NATIONALITIES  # not a courier's DPK301234567890
    return bool(_PASSPORT_IN_TEXT.fullmatch(code) or _DOCUMENTS["hk_macau_permit"][0].fullmatch(code))


def _document_word_near(before: str) -> bool:
    """Whether the text `before` a number names a document (护照, 证件, passport, ID...) at most _NEAR
    characters before it with only number words and punctuation between: 护照（TK1234567）,
    已核对护照，号码TK1234567, passport number is TK1234567 (not 凭身份证放行，型号 TK1234567)."""
    # Only the tail can hold such a word (passport, the longest, and the letter before it).
    tail = unicodedata.normalize("NFKC", before[-(_NEAR + len("passport") + 1) :]).lower()
    return any(
        len(tail) - word.end() <= _NEAR and _DOCUMENT_WORD_TO_NUMBER.fullmatch(tail[word.end() :])
        for word in _DOCUMENT_WORD.finditer(tail)
    )


def _phone_word_near(before: str) -> bool:
    """Whether a phone word (电话, 座机, Tel...) is written at most _NEAR characters before a number, in
    its clause: 物业座机 8765.4321, 王师傅电话 8765-4321."""
    tail = unicodedata.normalize("NFKC", before[-(_NEAR + len("contact") + 1) :]).lower()
    clause = _CLAUSE_END.split(tail)[-1]
    return any(len(clause) - word.end() <= _NEAR for word in _PHONE_WORD.finditer(clause))


# An ID card's number in groups other than the card's (110101 1990 0307 1234, 1101 0119 9003 0712
# 34, as read out or copied from a message): taken when its digits, joined, are one (_an_id_number).
_DIGITS_IN_GROUPS = re.compile(rf"(?<![0-9])[0-9]{{2,8}}(?:{_ID_GROUPS}[0-9]{{1,8}}){{1,8}}[Xx]?(?![0-9])")


def _an_id_number(number: str) -> bool:
    """Whether `number` (18 characters) is an ID card's: a birth date and its check character."""
    return _a_date(number[6:14]) and _resident_id_problem(number.upper()) is None


def _ids_in_groups(text: str, matched: str) -> Iterator[tuple[int, int, str]]:
    """Where `matched` (_as_matched) holds an ID card's number in groups, 110101 1990 0307 1234, and
    what is shown of it."""
    for m in _DIGITS_IN_GROUPS.finditer(matched):
        if _an_id_number(number := re.sub("[ -]", "", m[0])):
            yield m.start(), m.end(), mask_id_number(number)


# A number dialled with its country code: + (or 00, the code then typed apart from the number) and
# digit groups with a space, dot or dash between, a bracket round the code or the area code or the
# (0) a UK number is written with ((+86)139 1234 5678, +1 (415) 555-2671, +44 (0)20 7946 0958), or a
# line break, the number going on on the next line (+86 138 1234 / 5678: _goes_on).
_LINE_BREAK = r"[ \t]*\r?\n[ \t]*"
_DIALLED_GAP = rf"(?=[^0-9])\)?(?:{_GROUPS}|{_LINE_BREAK})?\(?"
_WITH_COUNTRY_CODE = re.compile(
    rf"(?<![0-9])(?:\+|(?<![A-Za-z])00(?=[1-9][0-9]{{0,3}}{_DIALLED_GAP}[0-9]))"
    rf"[0-9]{{1,15}}(?:{_DIALLED_GAP}[0-9]{{1,15}}){{0,6}}(?![0-9])"
)
_DIGIT_RUN = re.compile("[0-9]+")
# No country code begins with 0, and only North America's (1) and Russia's (7) have one digit.
_A_COUNTRY_CODE = re.compile("[17]|[1-9][0-9]{1,3}")
# A phone number has 15 digits at most with its country code (ITU-T E.164), 7 at least without it;
# past them a number after it (+852 9123 4567 2030-2200) is another's, read on its own.
_LONGEST_DIALLED = 15
_SHORTEST_LOCAL = 7
# What a count or an amount written with + is followed by (加时 +1 2030-2200, 访客 +12 1800-2200,
# 月卡续费 +12 2026-11-25 到期, +1 2026.11.25 补登): a time range of valid hours and minutes or a
# valid date, written so; no phone is. Hong Kong's and Macau's 8 digits are written 4 and 4, so
# after +852 or +853 (no count) 2030-2200 is a number.
_TIME_RANGE = re.compile(r"([0-9]{2})([0-9]{2})--?([0-9]{2})([0-9]{2})(?![0-9])")
_DATE_WRITTEN = re.compile(rf"([0-9]{{4}}){_GROUPS}([0-9]{{1,2}}){_GROUPS}([0-9]{{1,2}})(?![0-9])")
_FOUR_AND_FOUR = ("852", "853")


def _a_time(hours: str, minutes: str) -> bool:
    return int(hours) < 24 and int(minutes) < 60 or hours + minutes == "2400"


def _a_time_or_date(matched: str, at: int, code: str = "") -> bool:
    """Whether `matched` at `at` begins with a time range (1800-2200) or a date (2026-11-25), not a
    number dialled with `code`."""
    date = _DATE_WRITTEN.match(matched, at)
    if date is not None and _a_date(f"{date[1]}{int(date[2]):02}{int(date[3]):02}"):
        return True
    times = _TIME_RANGE.match(matched, at)
    return (
        times is not None
        and code not in _FOUR_AND_FOUR
        and _a_time(*times.groups()[:2])
        and _a_time(*times.groups()[2:])
    )


def _goes_on(code: str, number: str, group: str) -> bool:
    """Whether `group`, on the line after `number`, is the rest of it: the number so far is too short
    to be one (+852 9123 / 4567), or a mainland mobile's beginning the group makes whole (+86 138 1234
    / 5678). A number on the next line after a whole one is another's (+852 9123 4567 / 1800 到)."""
    return len(number) < _SHORTEST_LOCAL or code == "86" and number[:1] == "1" and len(number + group) == 11


def _with_country_code(text: str, matched: str) -> Iterator[tuple[int, int, str]]:
    """Where `matched` holds a phone number dialled with its country code typed apart from it (or
    glued to its first group, +8529123 4567), and what is shown of it: the code as typed and the
    number by its last four digits (+852 ****4567, +886 *****5678, +1 (415) 555-2671 as +1
    ******2671), a mainland mobile's as anywhere ((+86)139****5678); one typed over two lines keeps
    its line break after it. Its digits after the code are at least 7: +86 2030 is no phone, and a
    count before a time or a date (+1 2030-2200, +12 2026-11-25) none either."""
    for m in _WITH_COUNTRY_CODE.finditer(matched):
        lead = 1 if m[0].startswith("+") else 2  # + or 00
        groups = list(_DIGIT_RUN.finditer(m[0], lead))
        if len(groups) == 1:
            continue  # +85291234567: a run of digits, read as one (_NUMBER_IN_TEXT)
        code = groups[0][0] if len(groups[0][0]) <= 4 else ""
        if code and not _A_COUNTRY_CODE.fullmatch(code):
            continue  # 加时 +2 2030-2200: no country's code
        dialled = groups[1:] if code else groups
        if code and _a_time_or_date(matched, m.start() + dialled[0].start(), code):
            continue  # 加时 +1 2030-2200: a count, then a time
        number, end = "", 0
        for group in dialled:
            if len(number) >= _SHORTEST_LOCAL and len(code + number + group[0]) > _LONGEST_DIALLED:
                break  # +852 9123 4567 2030-2200: the time is read on its own
            if "\n" in m[0][end : group.start()] and number and not _goes_on(code, number, group[0]):
                break
            number, end = number + group[0], group.end()
        if len(number) < _SHORTEST_LOCAL:
            continue
        kept = dialled[0].start() if code else lead
        while kept > lead and m[0][kept - 1] == "(":
            kept -= 1  # +1 (415) 555-2671: the bracket goes with what it is round
        line_breaks = "".join(re.findall(r"\r?\n", m[0][kept:end]))
        shown = text[m.start() : m.start() + kept] + _mask_dialled(number) + line_breaks
        yield m.start(), m.start() + end, shown


def _mask_dialled(number: str) -> str:
    """A number dialled from abroad by its last four digits; a mainland mobile as mask_phone shows it
    (139****5678): whatever country's, one longer than a local number may have the next number's
    digits in it (+852 9123 4567 2030), and its first three are then the person's."""
    if len(number) < 11 or _mainland_mobile(normalize_phone(number)):
        return mask_phone(number)
    return "*" * (len(number) - 4) + number[-4:]


# A Hong Kong, Macau or Taiwan number with its country code written without + or 00, as the
# region's cards print it (852 9123 4567, （852）9123 4567, 852-9123-4567, 886 912 345 678): the
# code, then a number of the region's shape, Hong Kong's or Macau's 8 digits (4 and 4, or a run),
# Taiwan's mobile (9 and 8 digits) or landline (its area code, 2 to 8, and 7 or 8 digits). 852 before
# anything else (收费 852 元, 852室) is kept, and so is a time after it (车位 852 2030-2200 占用).
_CODE_UNSIGNED = re.compile(
    rf"(?<![0-9+])(?P<open>\()?(?P<code>85[23]|886)(?(open)\) ?|{_GROUPS})"
    rf"(?P<number>[0-9]{{1,9}}(?:{_GROUPS}[0-9]{{3,4}}){{0,2}})(?![0-9])"
)
_REGION_NUMBER = {"852": re.compile("[2-9][0-9]{7}"), "853": re.compile("[2-9][0-9]{7}")}
_TAIWAN_NUMBER = re.compile("9[0-9]{8}|[2-8][0-9]{7,8}")


def _with_code_unsigned(text: str, matched: str) -> Iterator[tuple[int, int, str]]:
    """Where `matched` holds a Hong Kong, Macau or Taiwan number after its country code written
    without + (港车司机 852 9123 4567), and what is shown of it: the code as typed and the number by
    its last four digits (852 ****4567)."""
    for m in _CODE_UNSIGNED.finditer(matched):
        digits = normalize_number(m["number"])
        shape = _REGION_NUMBER.get(m["code"], _TAIWAN_NUMBER)
        if not shape.fullmatch(digits) or _a_time_or_date(matched, m.start("number")):
            continue
        yield m.start(), m.end(), text[m.start() : m.start("number")] + _mask_dialled(digits)


# A document's number read out or copied in groups (E 1234 5678, H 1234 5678, 1990 0307): taken
# after a word naming a document (_document_word_near), its letters kept as typed, its digits masked
# as a pass's ID number is.
_DOCUMENT_IN_GROUPS = re.compile(
    rf"(?<![0-9A-Za-z])(?:[A-Za-z]{{1,3}}{_GROUPS}?)?(?P<digits>[0-9]{{1,10}}(?:{_GROUPS}[0-9]{{1,10}}){{0,5}})"
    r"[Xx]?(?![0-9A-Za-z])"
)
# A passport's, a permit's or a 2017 foreign permanent residence card's digits: 7 to 12. An ID card's
# 18 in groups are one only with its birth date and check character (_ids_in_groups).
_LONGEST_DOCUMENT_DIGITS = 12
_DATE_IN_GROUPS = re.compile(rf"[0-9]{{4}}{_GROUPS}[0-9]{{1,2}}{_GROUPS}[0-9]{{1,2}}")


def _documents_in_groups(text: str, matched: str) -> Iterator[tuple[int, int, str]]:
    """Where `matched` holds a document's number in groups after a word naming the document (已核对护照
    E 1234 5678, 台胞证 1990 0307), and what is shown of it (E ****5678). A date so written after it
    (证件 2026-11-25 到期) is kept."""
    for m in _DOCUMENT_IN_GROUPS.finditer(matched):
        digits = normalize_number(m["digits"])
        if m["digits"].isdigit() or not _SHORTEST_LOCAL <= len(digits) <= _LONGEST_DOCUMENT_DIGITS:
            continue  # not in groups: read as any number (mask_numbers_in); an ID card's: _ids_in_groups
        if _DATE_IN_GROUPS.fullmatch(m["digits"]):
            continue
        if _document_word_near(text[: m.start()]) or _document_word_near(text[: m.start("digits")]):
            yield m.start("digits"), m.end(), mask_id_number(matched[m.start("digits") : m.end()])


def _numbers_in_groups(text: str, matched: str) -> list[tuple[int, int, str]]:
    """Where `matched` holds a person's number in groups that _NUMBER_IN_TEXT does not read whole, and
    what is shown of each, in the order they are written; where two overlap, the first found."""
    found: list[tuple[int, int, str]] = []
    for start, end, shown in [
        *_ids_in_groups(text, matched),
        *_with_country_code(text, matched),
        *_with_code_unsigned(text, matched),
        *_documents_in_groups(text, matched),
    ]:
        if all(end <= s or start >= e for s, e, _ in found):
            found.append((start, end, shown))
    return sorted(found)


def _a_document(text: str, start: int, end: int) -> bool:
    """Whether the digits text[start:end], with the letters glued before them, are a document's
    number: in a document's printed shape wherever it is written (护照E12345678, 回乡证H12345678), or
    in a shape any country's passport may have after a word naming a document (护照号为TK1234567).
    Masked to its last four as a pass's is."""
    glued = _GLUED_LETTERS.search(unicodedata.normalize("NFKC", text[max(start - 4, 0) : start]))
    if glued is None or end < len(text) and _ascii_letter(text[end]):
        return False
    code = (glued[0] + normalize_number(text[start:end])).upper()
    return _document_shape(code) or (
        _NAMED_DOCUMENT_SHAPE.fullmatch(code) is not None
        and _document_word_near(text[: max(start - len(glued[0]), 0)])
    )


def _after_a_persons_word(text: str, words: tuple[str, ...] = _CONTACT_WORDS + _DOCUMENT_WORDS) -> bool:
    """Whether `text` (NFKC) ends with a contact or document word (one of `words`), and what may
    follow it."""
    text = text.rstrip(_SEPARATORS).lower()
    text = _NUMBER_WORD.sub("", text).rstrip(_SEPARATORS)
    for word in words:
        rest = text.removesuffix(word)
        if rest != text and not (word.isascii() and rest[-1:].isascii() and rest[-1:].isalpha()):
            return True  # ID:, 证件号, not Android
    return False


def _a_code(text: str, start: int, end: int) -> bool:
    """Whether the digits text[start:end] are a thing's code, a model, serial, asset tag or waybill
    number (what a materials record says left the estate, which the owner may dispute), not a
    person's number: letters are written with them, no contact or document word before them, and
    they have neither a phone's or ID card's shape nor, with the letters glued to them, a
    passport's or permit's (_a_document, asked first)."""
    if _personal_shape(normalize_number(text[start:end])):
        return False
    # A Chinese keyboard's dash is the hyphen of a model typed with it (BCD—2160000).
    look_back = unicodedata.normalize("NFKC", text[max(start - _LOOK_BACK, 0) : start]).translate(AS_HYPHEN)
    before = _CODE_BEFORE.search(look_back)
    if before is not None and before["letters"].lower().endswith(_CONTACT_WORDS):
        return False
    if _after_a_persons_word(look_back[: before.start()] if before is not None else look_back):
        return False
    return before is not None or end < len(text) and _ascii_letter(text[end])


def _no_ones_number(text: str, start: int, end: int) -> bool:
    """Whether the digits text[start:end], not a document's (_a_document: 护照E19900307 is one),
    are a date (20261125), a QR payment's transaction number (4200001234202611251234567890: longer
    than any phone or ID number) or a thing's code (SF1234567890123, BCD-2160000, SN:C1Z2034567)."""
    digits = normalize_number(text[start:end])
    return (
        len(digits) == 8
        and _a_date(digits)
        and not _right_after_a_number_word(text, start)
        or len(digits) > _LONGEST_PERSONAL
        or _a_code(text, start, end)
    )


# The words a phone's number follows at once (电话20120315, 手机号：20120315) besides _CONTACT_WORDS.
_PHONE_NOUNS = ("电话", "座机", "固话", "手机", "热线", "传真")


def _right_after_a_number_word(text: str, start: int) -> bool:
    """Whether the 8 digits at `start` that read as a date follow a contact, document or phone word
    at once (号, 号码, No. or a colon allowed between): 台胞证19900307 (a Taiwan permit's 8 digits),
    电话20120315 are someone's number, 交班 20261125 a date."""
    look_back = unicodedata.normalize("NFKC", text[max(start - _LOOK_BACK, 0) : start])
    return _after_a_persons_word(look_back, _CONTACT_WORDS + _DOCUMENT_WORDS + _PHONE_NOUNS)


def mask_numbers_in(text: str) -> str:
    """`text` with every phone- or ID-like number in it masked (REQUIREMENTS *Privacy*: never
    upstream in clear): 电话13812345678 -> 电话138****5678, an ID card's number to its last four.
    Numbers typed full-width (１３８　１２３４－５６７８) are read as theirs, and so are a phone's
    groups with dots between (138.1234.5678, 139·1234·5678, 0571-8765 4321) or a Chinese
    keyboard's dashes (138—1234—5678, 138——1234——5678, 138–1234–5678); the rest of the text is
    kept as typed. Kept: a date (20261125), a receipt number (20261125-0001), a run of more
    than 18 digits (a QR payment's transaction number) and a thing's code written with letters
    (SF1234567890123, BCD-2160000, SN:C1Z2034567) that has no phone's or ID card's shape and
    follows no contact or document word; a landline with its extension is masked, and a passport's
    or a permit's number (护照E12345678, H12345678, M1234567890, 护照号为TK1234567) keeps its last
    four digits, as do a number dialled with its country code (+852 9123 4567 -> +852 ****4567), a
    Taiwan mobile in its groups (0912-345-678) and a document's number in groups after its word
    (已核对护照 E 1234 5678 -> E ****5678)."""

    parts: list[str] = []
    kept_to = 0
    for start, end, shown in _masked(text, "".join(map(_as_matched, text))):
        parts += [text[kept_to:start], shown]
        kept_to = end
    return "".join([*parts, text[kept_to:]])


def _masked(text: str, matched: str) -> Iterator[tuple[int, int, str]]:
    """Where mask_numbers_in masks `text` (`matched`, as the patterns read it), and what it shows."""
    searched_from = 0
    end_of_text = (len(matched), len(matched), "")
    for grouped_start, grouped_end, grouped in [*_numbers_in_groups(text, matched), end_of_text]:
        for m in _NUMBER_IN_TEXT.finditer(matched, searched_from, grouped_start):
            if m["receipt"] and _a_date(m[0][:8]):  # a receipt number, 20261125-0001, not 65123456-8001
                continue
            if m["landline"] and not m["area"] and not _phone_word_near(text[: m.start()]):
                continue  # 2030-2200, 3栋2201-2204室: a time or a range
            # A mobile's groups or an ID card's are always someone's; a run of digits or a landline's
            # groups may be a date or a thing's code, unless the letters before make a document's.
            maybe_no_ones = bool(m["number"] or m["landline"])
            document = maybe_no_ones and _a_document(text, m.start(), m.end())
            if maybe_no_ones and not document and _no_ones_number(text, m.start(), m.end()):
                continue
            digits = normalize_number(m[0])
            yield (
                m.start(),
                m.end(),
                _by_last_four(digits) if len(digits) >= 15 or document else mask_phone(digits),
            )
        if grouped:
            yield grouped_start, grouped_end, grouped
        searched_from = grouped_end


def _by_last_four(digits: str) -> str:
    """An ID card's number, or a document's digits written after its letters (护照EA***4567, the
    letters kept before them), by their last four."""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_name(name: str) -> str:
    """张三丰 -> 张**; shown to guards on lane events. An invisible character pasted before the
    name (U+200B from WeChat) is no surname: kept, the mask showed ** and hid 张."""
    name = typed(name)
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else name


def mask_card(card: str) -> str:
    """Card numbers in logs and on screens keep their last four characters."""
    return "*" * max(len(card) - 4, 0) + card[-4:]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


# What each other document's number looks like, and the words saying so.
_DOCUMENTS: dict[IdKind, tuple[re.Pattern[str], str]] = {
    "passport": (re.compile(r"[0-9A-Z]{5,17}"), "a passport number has 5 to 17 letters and digits"),
    # 港澳居民来往内地通行证 (回乡证): H (Hong Kong) or M (Macau), then 8 digits (10 on older ones).
    "hk_macau_permit": (
        re.compile(r"[HM](\d{8}|\d{10})"),
        "a Hong Kong/Macau permit (回乡证) number is H or M, then 8 or 10 digits",
    ),
    # 台湾居民来往大陆通行证 (台胞证): the card issued since 2015 has 8 digits.
    "taiwan_permit": (re.compile(r"\d{8}"), "a Taiwan permit (台胞证) number has 8 digits"),
    # 外国人永久居留身份证: the 2017 card's 3 letters and 12 digits; the 2023 card's 18 characters
    # (checked as a resident ID card, below).
    "foreign_permanent": (
        re.compile(r"[A-Z]{3}\d{12}"),
        "a foreign permanent residence ID has 15 characters (3 letters, 12 digits) or 18 "
        "(beginning with 9, the last a check character)",
    ),
}


def id_number_problem(text: str, kind: IdKind = "resident_id") -> str | None:
    """Why `text` is not the number of a document of `kind`, or None. A resident identity card's
    (GB 11643: 18 characters with a check character) is checked by its check character, which
    catches most typing mistakes at the booth; another document's by its shape."""
    if kind == "resident_id":
        return _resident_id_problem(normalize_number(text))
    number = normalize_document(text, kind)
    shape, words = _DOCUMENTS[kind]
    if shape.fullmatch(number):
        return None
    if kind == "foreign_permanent" and len(number) == 18 and number.startswith("9"):
        return _resident_id_problem(number)  # the 2023 card: numbered as a resident ID card
    return words


def _resident_id_problem(number: str) -> str | None:
    if len(number) != 18 or not number[:17].isdigit():
        return "an ID card number has 18 characters: 17 digits, then a digit or X"
    expected = _ID_CHECK[sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS, strict=False)) % 11]
    if number[17] != expected:
        return "the ID card number's last character does not match (a digit mistyped?)"
    return None
