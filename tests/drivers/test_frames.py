"""Reader wire formats: known frames, broken ones, and random bytes that must never crash or
produce a card. The reference checks here are written independently of the parsers."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.readers.debounce import Debouncer
from drivers.readers.frames import (
    em4100_frame,
    parse_card_line,
    parse_wiegand_line,
    scan_em4100,
    scan_lines,
    scanner,
    wiegand_frame,
)

# From an RDM6300 datasheet example: 62 E3 08 6C ED, XOR = 08.
RDM6300 = b"\x0262E3086CED08\x03"


def test_em4100_known_frame_and_both_number_forms() -> None:
    assert scan_em4100(RDM6300).values == ("62E3086CED",)
    assert scan_em4100(RDM6300, number="decimal").values == (f"{0xE3086CED:010d}",)
    assert em4100_frame("62E3086CED") == RDM6300


def test_em4100_id12_style_frame_with_crlf_before_etx() -> None:
    assert scan_em4100(b"\x0262E3086CED08\r\n\x03").values == ("62E3086CED",)


@pytest.mark.parametrize(
    "broken",
    [
        b"\x0262E3086CED09\x03",  # wrong checksum
        b"\x0262E3086CED08\x04",  # wrong end byte
        b"\x0262E3086CEG08\x03",  # not hex
        b"\x0262E3086CED08\r\x03",  # CR without LF
    ],
)
def test_em4100_broken_frames_are_counted_not_read(broken: bytes) -> None:
    found = scan_em4100(broken)
    assert found.values == () and found.bad == 1 and found.rest == b""


def test_em4100_split_frame_waits_for_its_last_byte() -> None:
    first = scan_em4100(RDM6300[:9])
    assert first.values == () and first.rest == RDM6300[:9] and first.bad == 0
    assert scan_em4100(first.rest + RDM6300[9:]).values == ("62E3086CED",)


def test_em4100_noise_and_a_cut_frame_before_a_good_one() -> None:
    found = scan_em4100(b"\xff\x00junk" + RDM6300[:6] + RDM6300 + b"\r\n")
    assert found.values == ("62E3086CED",)
    assert found.bad == 1  # the cut frame
    assert found.noise == 5  # \xff and junk; NUL, CR and LF are line idle, not noise


def test_wiegand_26_known_frame() -> None:
    # facility 1, card 1: data 00000001 00000000 00000001; first half has one 1 -> even parity 1,
    # second half has one 1 -> odd parity 0.
    bits = "1" + "000000010000" + "000000000001" + "0"
    assert wiegand_frame(1, 1, 26) == int(bits, 2)
    assert parse_wiegand_line(bits.encode(), 26, "bits") == "001:00001"
    assert parse_wiegand_line(f"{int(bits, 2):07X}\r".encode(), 26, "hex") == "001:00001"
    assert parse_wiegand_line(str(int(bits, 2)).encode(), 26, "decimal") == "001:00001"


def test_wiegand_34_keeps_the_16_bit_facility() -> None:
    value = wiegand_frame(4660, 22136, 34)
    assert parse_wiegand_line(f"{value:09x}".encode(), 34, "hex") == "04660:22136"


@pytest.mark.parametrize(
    "line",
    [
        b"10000000100000000000000011",  # odd parity wrong
        b"00000000100000000000000010",  # even parity wrong
        b"1000000010000000000000001",  # 25 bits
        b"4000000",  # more than 26 bits
        b"12 34",
        b"",
    ],
)
def test_wiegand_bad_lines_give_nothing(line: bytes) -> None:
    encoding = "bits" if set(line) <= set(b"01") and line else "hex"
    assert parse_wiegand_line(line, 26, encoding) is None  # type: ignore[arg-type]


def test_line_reader_cards_and_junk() -> None:
    found = scan_lines(b"0012345678\r\n\r\nab-12:cd\nnot a card!\r\n12", parse_card_line)
    assert found.values == ("0012345678", "AB-12:CD") and found.bad == 1 and found.rest == b"12"


def test_a_qr_scanner_reads_a_pass_token_as_printed_case_and_all() -> None:
    """A pass's token (token_urlsafe) has letters of both cases, digits, '-' and '_': it is read as
    it was printed, or the visitor at the door is turned away as unknown; a card line is not a token."""
    found = scanner("qr")(b"-CsB_5jPwyK1dTdH\r\nAb-Cd_Ef12\n0A1B\nnot a token!\r\n")
    assert found.kind == "qr"
    assert (found.values, found.bad) == (("-CsB_5jPwyK1dTdH", "Ab-Cd_Ef12"), 2)
    assert scanner("line")(b"ab-12:cd\n").kind == "card"  # card readers are read as before


def test_overlong_lines_are_dropped_and_counted() -> None:
    found = scan_lines(b"9" * 500, parse_card_line)
    assert found.values == () and found.bad == 0 and len(found.rest) == 65  # kept short, still too long
    assert found.noise == 500 - 65
    found = scan_lines(found.rest + b"99\r\n", parse_card_line)
    assert found.values == () and found.bad == 1 and found.rest == b""  # counted once, when it ends


@pytest.mark.parametrize("cut", [1, 40, 64, 65, 70, 79])
def test_the_tail_of_an_overlong_line_is_not_read_as_a_card(cut: int) -> None:
    line = b"9" * 70 + b"0012345678\r\n"  # 80 characters: no card, however the reads split it
    first = scan_lines(line[:cut], parse_card_line)
    second = scan_lines(first.rest + line[cut:] + b"0A1B\r\n", parse_card_line)
    assert first.values + second.values == ("0A1B",) and first.bad + second.bad == 1


def test_debounce_window_slides_with_the_card_held() -> None:
    d = Debouncer(3.0)
    assert d.accept("A", 0.0)
    assert not d.accept("A", 2.0)  # still held
    assert not d.accept("A", 4.5)  # held on: last seen 2.5 s ago
    assert d.accept("B", 4.6)
    assert d.accept("A", 8.0)  # taken away for 3.5 s and shown again: opens again


# --- properties: random bytes never crash a parser, and never make a card out of nothing ---

_REFERENCE_EM4100 = re.compile(rb"\x02([0-9A-Fa-f]{10})([0-9A-Fa-f]{2})(?:\r\n)?\x03")


def reference_em4100(data: bytes) -> Counter[str]:
    cards: Counter[str] = Counter()
    for m in _REFERENCE_EM4100.finditer(data):
        body = bytes.fromhex(m.group(1).decode())
        check = 0
        for b in body:
            check ^= b
        if check == int(m.group(2), 16):
            cards[m.group(1).decode().upper()] += 1
    return cards


def _corrupt(frame: bytes, at: int, byte: int) -> bytes:
    at %= len(frame)
    return frame[:at] + bytes([byte]) + frame[at + 1 :]


card_hex = st.integers(0, 2**40 - 1).map(lambda v: f"{v:010X}")
em_segment = st.one_of(
    st.binary(max_size=20),
    card_hex.map(em4100_frame),
    card_hex.map(lambda c: em4100_frame(c, crlf=True)),
    st.tuples(card_hex, st.integers(0, 20), st.integers(0, 255)).map(
        lambda t: _corrupt(em4100_frame(t[0]), t[1], t[2])
    ),
    st.tuples(card_hex, st.integers(1, 13)).map(lambda t: em4100_frame(t[0])[: t[1]]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(em_segment, max_size=8), st.lists(st.integers(1, 40), max_size=10))
def test_em4100_finds_exactly_the_valid_frames_however_the_bytes_are_split(
    segments: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(segments)
    whole = scan_em4100(data)
    assert Counter(whole.values) == reference_em4100(data)
    cards: list[str] = []
    rest, pos = b"", 0
    for cut in [*cuts, len(data)]:
        found = scan_em4100(rest + data[pos : pos + cut])
        cards += found.values
        rest, pos = found.rest, pos + cut
    cards += scan_em4100(rest + data[pos:]).values
    assert Counter(cards) == reference_em4100(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_em4100_random_bytes(data: bytes) -> None:
    found = scan_em4100(data)
    assert Counter(found.values) == reference_em4100(data)
    assert len(found.rest) < 16


def reference_wiegand(text: str, bits: int) -> str | None:
    """Parity by counting characters in the bit string; facility and card by slicing it."""
    if len(text) != bits or set(text) - {"0", "1"}:
        return None
    half = (bits - 2) // 2
    if text[: 1 + half].count("1") % 2 != 0 or text[1 + half :].count("1") % 2 != 1:
        return None
    facility, card = int(text[1 : bits - 17], 2), int(text[bits - 17 : bits - 1], 2)
    return f"{facility:03d}:{card:05d}" if bits == 26 else f"{facility:05d}:{card:05d}"


def as_bits(line: bytes, bits: int, encoding: str) -> str | None:
    text = line.decode("ascii", errors="replace").strip()
    try:
        value = int(text, {"hex": 16, "decimal": 10, "bits": 2}[encoding])
    except ValueError:
        return None
    if encoding == "bits":
        return text
    return format(value, f"0{bits}b") if 0 <= value < 2**bits else None


wiegand_line = st.one_of(
    st.binary(max_size=40),
    st.text("01", min_size=26, max_size=26).map(str.encode),
    st.text("01", min_size=34, max_size=34).map(str.encode),
    st.integers(0, 2**34).map(lambda v: f"{v:X}".encode()),
    st.integers(0, 2**34).map(lambda v: str(v).encode()),
)


@settings(max_examples=500, deadline=None)
@given(wiegand_line, st.sampled_from([26, 34]), st.sampled_from(["hex", "decimal", "bits"]))
def test_wiegand_never_reads_a_card_parity_rejects(line: bytes, bits: int, encoding: str) -> None:
    card = parse_wiegand_line(line, bits, encoding)  # type: ignore[arg-type]
    if card is not None:
        frame = as_bits(line, bits, encoding)
        assert frame is not None and reference_wiegand(frame, bits) == card


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([26, 34]),
    st.integers(0, 2**16 - 1),
    st.integers(0, 2**16 - 1),
    st.sampled_from(["hex", "decimal", "bits"]),
)
def test_wiegand_reads_every_valid_frame(bits: int, facility: int, card: int, encoding: str) -> None:
    facility %= 2 ** (bits - 18)
    value = wiegand_frame(facility, card, bits)  # type: ignore[arg-type]
    forms = {"hex": f"{value:X}", "decimal": str(value), "bits": format(value, f"0{bits}b")}
    line = forms[encoding]
    expected = reference_wiegand(format(value, f"0{bits}b"), bits)
    assert expected is not None
    assert parse_wiegand_line(line.encode(), bits, encoding) == expected  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(1, 30), max_size=8))
def test_line_scanner_random_bytes_and_splits(data: bytes, cuts: list[int]) -> None:
    whole = scan_lines(data, parse_card_line)
    lines = [p.strip().upper() for p in re.split(rb"[\r\n]", data)[:-1]]
    for card in whole.values:
        assert re.fullmatch(r"[0-9A-Z:\-]{3,40}", card) and card.encode() in lines
    cards: list[str] = []
    rest, pos = b"", 0
    for cut in cuts:
        found = scan_lines(rest + data[pos : pos + cut], parse_card_line)
        cards += found.values
        rest, pos = found.rest, pos + cut
    cards += scan_lines(rest + data[pos:], parse_card_line).values
    assert cards == list(whole.values)  # over-long lines too: however the reads split them
