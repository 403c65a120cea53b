from __future__ import annotations

import random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.core.credentials import canonical
from gateway.store.csv_rows import RowError, plate_value
from plates.grammar import (
    ALPHABET,
    FORMATS,
    PROVINCES,
    SLOTS,
    colours_of,
    formats_of,
    is_plate,
    normalize,
    over_letter_cap,
    slot_variants,
)
from plates.matcher import PlateMatcher
from plates.synth.texts import text_for


@pytest.mark.parametrize(
    ("text", "formats"),
    [
        ("皖A12345", ["standard"]),
        ("京AD12345", ["new_energy_small"]),
        ("沪B12345F", ["new_energy_large"]),
        ("粤B1234学", ["coach"]),
        ("苏E1234挂", ["trailer"]),
        ("浙A1234警", ["police"]),
        ("粤Z1234港", ["hong_kong"]),
        ("粤Z1234澳", ["macau"]),
        ("使123456", ["embassy"]),
        ("皖AI2345", []),  # no I on plates
        ("皖A1234O", []),  # nor O in the serial
        ("粤O12345", ["standard"]),  # but O is an office letter (粤O: Guangdong public security)
        ("京OA1234", ["standard"]),
        ("豫O88888", ["standard"]),
        ("京OD12345", ["new_energy_small"]),
        ("粤OAB1C2", []),  # the cap on the serial's letters holds behind an O office too
        ("皖I12345", []),  # I is no office letter
        ("皖A1234", []),  # too short
        ("A123456", []),  # no province (AA12345 is an army plate: test_special_plate_formats)
        ("京AD1234A", []),  # small new-energy plates end in digits
        ("皖AMZ21D", []),  # three letters in the serial: at most two
        ("皖AMZ210", ["standard"]),
        ("京ADA2345", ["new_energy_small"]),
        ("粤ZAB12港", ["hong_kong"]),
        ("粤ZABC2港", []),
        ("浙AAB1C警", []),
        ("", []),
    ],
)
def test_formats_table(text: str, formats: list[str]) -> None:
    assert [f.name for f in formats_of(text)] == formats
    assert is_plate(text) == bool(formats)


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("皖A·12345", "皖A12345"),
        (" 京a 123-45 ", "京A12345"),
        # typed with a Chinese input method in full-width mode (全角), as spreadsheets often hold
        ("京Ａ１２３４５", "京A12345"),
        ("粤Ｂ－１２３４５", "粤B12345"),
        ("沪ａ．ＤＦ１２３", "沪ADF123"),
    ],
)
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw) == norm


def test_colours_follow_formats() -> None:
    assert colours_of("皖A12345") == ("blue", "yellow")
    assert colours_of("京AD12345") == ("green",)
    assert colours_of("nonsense") == ()


def test_slots_cover_every_format() -> None:
    """The decoder, the plate renderer and the impostor generator take their characters from
    SLOTS: each must be one the model can output (no office letter O); the formats it cannot read
    (camera=False: test_special_plate_formats) have none."""
    assert set(SLOTS) == {f.name for f in FORMATS if f.camera}
    assert all(c in ALPHABET for slots in SLOTS.values() for s in slots for c in s)
    assert "O" not in ALPHABET


@given(st.sampled_from(sorted(SLOTS)), st.integers(0, 2**32))
def test_slot_samples_fit_their_regex(name: str, seed: int) -> None:
    text = text_for(name, random.Random(seed))
    assert name in [f.name for f in formats_of(text)]


def _fits_slots(text: str, slots: tuple[str, ...]) -> bool:
    return len(text) == len(slots) and all(c in s for c, s in zip(text, slots, strict=True))


# Random text seldom has a plate's shape: half the examples are plates with 0-5 characters changed.
_PLATE_LIKE = st.builds(
    lambda name, seed, changes: "".join(
        c if i not in changes else random.Random(seed + i).choice(ALPHABET)
        for i, c in enumerate(text_for(name, random.Random(seed)))
    ),
    st.sampled_from(sorted(SLOTS)),
    st.integers(0, 2**32),
    st.sets(st.integers(0, 7), max_size=5),
)


@given(st.one_of(st.text(alphabet=ALPHABET + "IO", max_size=9), _PLATE_LIKE))
def test_any_text_fits_regex_iff_slot_variants(text: str) -> None:
    """The slots hold the plates the recognizer can read: those of the camera's formats whose
    characters are all in its ALPHABET (an office letter O is not, until the model learns it)."""
    by_slots = {n for n in SLOTS if any(_fits_slots(text, v) for v in slot_variants(n))}
    readable = all(c in ALPHABET for c in text)
    assert by_slots == ({f.name for f in formats_of(text) if f.camera} if readable else set())


@given(_PLATE_LIKE)
def test_an_office_letter_o_fits_the_formats_any_other_office_letter_does(text: str) -> None:
    assume(text[:1] in PROVINCES)  # else the second letter is none (an army plate's: KA12345)
    as_o, as_a = text[:1] + "O" + text[2:], text[:1] + "A" + text[2:]
    assert formats_of(as_o) == formats_of(as_a)
    assert over_letter_cap(as_o) == over_letter_cap(as_a)


def test_a_car_with_an_office_letter_o_can_be_registered_imported_and_matched() -> None:
    """粤O plates (Guangdong's public-security and political-legal organs) and 京O police cars on
    civil plates are on the road: a resident's such car can be added to the register, in a
    CSV import, and a guard typing it at the lane matches it exactly. (The camera cannot read
    the O until the model is retrained: docs/plates.md, Grammar.)"""
    assert canonical("plate", "粤O·12345") == "粤O12345"
    assert plate_value("粤o 12345") == "粤O12345"
    assert PlateMatcher(["粤O12345"]).match("粤O·12345").how == "exact"
    with pytest.raises(RowError, match="more than 2 letters"):
        plate_value("粤OAB1C2")


@given(st.sampled_from(sorted(SLOTS)), st.integers(0, 2**32))
def test_no_serial_holds_more_than_two_letters(name: str, seed: int) -> None:
    text = text_for(name, random.Random(seed))
    assert sum(c.isascii() and c.isalpha() for c in text[2:]) <= 2
    assert not is_plate(text[:2] + "ABC" + text[5:])
