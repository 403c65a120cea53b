"""Card reader and QR scanner wire formats: pure functions of bytes that never raise.

Each scanner takes the bytes received so far and returns the values found (card numbers, or the
tokens a QR scanner read off visitors' passes), the bytes to keep for the next call (an unfinished
frame), how many bad frames it threw away and how many bytes of noise (bytes outside any frame) it
skipped. A frame split over several reads is found once its last byte
arrives; noise and broken frames are counted, never raised. A frame the reader stopped sending
half-way is dropped by the caller, which alone knows the time (cut_frame).

Canonical card numbers (what the store keeps, what CSV imports must use):
- EM4100: the 10 hex digits, upper case ("0A1B2C3D4E"), or with em4100_number = "decimal" the low
  32 bits as 10 decimal digits ("0186403150"), the number printed on most EM cards;
- Wiegand 26: facility and card number in decimal, "FFF:CCCCC" ("012:34567");
- Wiegand 34: "FFFFF:CCCCC" (16-bit facility);
- line readers: the line as sent, upper case, without spaces;
- QR scanners (format "qr"): a pass's token, the line as sent, case kept (tokens are case-sensitive).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal

STX, ETX, CR, LF = 0x02, 0x03, 0x0D, 0x0A
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_BLANK = frozenset(b" \t\r\n\x00")
# The same characters the store accepts for a card number (gateway/store/csv_rows.py).
_CARD = re.compile(r"^[0-9A-Z:\-]{3,40}$")
# The same characters the store accepts for a pass's QR token (gateway/core/credentials.py).
_QR = re.compile(r"^[0-9A-Za-z_\-]{8,64}$")
MAX_LINE = 64


@dataclass(frozen=True, slots=True)
class Scan:
    values: tuple[str, ...]  # the values read: card numbers, or QR pass tokens (kind "qr")
    rest: bytes
    bad: int
    noise: int = 0
    kind: Literal["card", "qr"] = "card"
    # The last whole line thrown away as no value (line formats): said by what it looks like, for
    # a Wiegand converter writing another encoding than set (wiegand_misfit).
    bad_line: bytes = b""


Scanner = Callable[[bytes], Scan]


def em4100_checksum_ok(frame_hex: bytes) -> bool:
    """10 data hex digits, then 2 checksum hex digits: the XOR of the 5 data bytes."""
    if len(frame_hex) != 12 or not all(c in _HEX for c in frame_hex):
        return False
    values = bytes.fromhex(frame_hex.decode("ascii"))
    xor = 0
    for b in values[:5]:
        xor ^= b
    return xor == values[5]


def scan_em4100(buf: bytes, number: Literal["hex", "decimal"] = "hex") -> Scan:
    """RDM6300-style frames: STX, 10 hex, 2 hex checksum, ETX (14 bytes), or with CR LF before
    the ETX as the ID-12 family sends (16 bytes)."""
    values: list[str] = []
    bad = noise = 0
    i = 0
    resync = False  # the bytes after a broken frame's STX were counted with it
    while True:
        start = buf.find(STX, i)
        end_of_noise = len(buf) if start < 0 else start
        if not resync:
            noise += sum(b not in _BLANK for b in buf[i:end_of_noise])
        resync = False
        if start < 0:
            return Scan(tuple(values), b"", bad, noise)
        size = _em4100_size(buf, start)
        if size == 0:  # unfinished: keep it for the next read
            return Scan(tuple(values), buf[start:], bad, noise)
        if size < 0:
            bad += 1
            i = start + 1  # resynchronise on the next STX
            resync = True
            continue
        data = buf[start + 1 : start + 11]
        values.append(_em4100_number(data, number))
        i = start + size


def _em4100_size(buf: bytes, start: int) -> int:
    """14 or 16 for a good frame at `start`, 0 if more bytes are needed, -1 if it is broken."""
    have = len(buf) - start
    if have < 14:
        return 0 if _plausible(buf[start + 1 :]) else -1
    if not em4100_checksum_ok(buf[start + 1 : start + 13]):
        return -1
    if buf[start + 13] == ETX:
        return 14
    if buf[start + 13] != CR:
        return -1
    if have < 16:
        return 0 if buf[start + 14 : start + 15] in (b"", b"\n") else -1
    return 16 if buf[start + 14] == LF and buf[start + 15] == ETX else -1


def _plausible(head: bytes) -> bool:
    """Could these bytes after an STX still become a frame? Early rejection keeps noise cheap."""
    return all(c in _HEX for c in head[:12])


def _em4100_number(data: bytes, number: Literal["hex", "decimal"]) -> str:
    text = data.decode("ascii").upper()
    if number == "decimal":
        return f"{int(text[2:], 16):010d}"
    return text


def cut_frame(rest: bytes) -> Scan:
    """The unfinished frame of a reader that fell silent in the middle of it (power lost, a noise
    burst with no line end): one bad frame, dropped rather than joined to the next. Blanks are none."""
    return Scan((), b"", int(bool(rest.strip(bytes(_BLANK)))))


def split_lines(buf: bytes, max_line: int = MAX_LINE) -> tuple[list[bytes], bytes, int, int]:
    """Complete lines (CR, LF or CR LF ended; blank ones dropped), the unfinished rest, how many
    over-long lines were thrown away and how many bytes of an unfinished over-long line were."""
    parts = re.split(rb"[\r\n]", buf)
    rest = parts.pop()
    too_long = 0
    lines = []
    for part in parts:
        if len(part) > max_line:
            too_long += 1
        elif part.strip():
            lines.append(part)
    dropped = max(0, len(rest) - (max_line + 1))
    # An unfinished over-long line is cut, not dropped: what stays is still over-long, so the rest
    # of that line, when it comes, is thrown away with it (and counted once) rather than read as a
    # line of its own. However the reads split it, it stays one bad line.
    return lines, rest[: max_line + 1], too_long, dropped


def scan_lines(
    buf: bytes, parse: Callable[[bytes], str | None], kind: Literal["card", "qr"] = "card"
) -> Scan:
    lines, rest, bad, dropped = split_lines(buf)
    values = []
    bad_line = b""
    for line in lines:
        value = parse(line)
        if value is None:
            bad += 1
            bad_line = line
        else:
            values.append(value)
    return Scan(tuple(values), rest, bad, dropped, kind, bad_line)


def parse_card_line(line: bytes) -> str | None:
    """A line reader's card number: digits, A-Z, ':' and '-', 3 to 40 of them."""
    try:
        text = line.decode("ascii").strip().upper()
    except UnicodeDecodeError:
        return None
    return text if _CARD.match(text) else None


def parse_qr_line(line: bytes) -> str | None:
    """A QR scanner's pass token as printed: 8 to 64 of 0-9, A-Z, a-z, '_' and '-', case kept."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    return text if _QR.match(text) else None


WiegandBits = Literal[26, 34]
WiegandEncoding = Literal["hex", "decimal", "bits"]


def parse_wiegand_line(line: bytes, bits: WiegandBits, encoding: WiegandEncoding) -> str | None:
    """One Wiegand frame written by a converter as hex digits, decimal digits or a 0/1 string,
    parity bits included. None unless both parity bits check."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    value = _wiegand_value(text, bits, encoding)
    return None if value is None else wiegand_card(value, bits)


def _wiegand_value(text: str, bits: int, encoding: WiegandEncoding) -> int | None:
    if encoding == "bits":
        return int(text, 2) if len(text) == bits and set(text) <= {"0", "1"} else None
    digits = "0123456789abcdefABCDEF" if encoding == "hex" else "0123456789"
    most = _most_digits(bits, encoding)
    if not 0 < len(text) <= most or not set(text) <= set(digits):
        return None
    value = int(text, 16 if encoding == "hex" else 10)
    return value if value < 2**bits else None


def wiegand_misfit(line: bytes, bits: WiegandBits, encoding: WiegandEncoding) -> str | None:
    """What a line a Wiegand converter wrote that is no frame as configured looks like, and the
    setting that reads it as a good frame (both parity bits checked), if one does: a converter
    set to another encoding, or to pad its hex, was read as nothing, the reader online and its
    `last_error` empty (Review 66 I4). Never the line itself: it holds a card's number. None for a
    line that is a frame as configured, or no text."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not text or not text.isprintable() or parse_wiegand_line(line, bits, encoding) is not None:
        return None
    said = f'a line of {_shape(text)} is no Wiegand {bits} frame as wiegand_encoding = "{encoding}" writes it'
    unpadded = text.lstrip("0") if encoding != "bits" else text
    if unpadded not in ("", text) and parse_wiegand_line(unpadded.encode("ascii"), bits, encoding):
        return (
            f"{said} ({_most_digits(bits, encoding)} digits at most); its leading zeros aside it is a "
            "good frame: set the converter to write the frame without padding, or in another encoding "
            "(wiegand_encoding)"
        )
    readers = [
        _setting(b, e, bits, encoding)
        for b in (26, 34)
        for e in ("hex", "decimal", "bits")
        if (b, e) != (bits, encoding) and parse_wiegand_line(line, b, e) is not None  # type: ignore[arg-type]
    ]
    if readers:
        # One line in four of anything has good parity: a hint for the installer, who knows how
        # the converter is set, never a setting taken by itself.
        return (
            f"{said}; its parity bits are good read as {' or as '.join(readers)}: if the converter "
            "writes frames so, set that"
        )
    if parse_card_line(line) is not None:
        return (
            f"{said}, nor as any other wiegand_bits or wiegand_encoding: a converter sending the card "
            'number alone, without parity bits, is read with format = "line" (nothing checked); or '
            "set it to send the whole frame"
        )
    return f"{said}, nor as any other wiegand_bits or wiegand_encoding: set the converter to send the frame"


def line_shape(line: bytes) -> str:
    """A line's shape without its characters (how many, and of what): what a reader's WARNING of
    lines of another shape than set is kept to once per MISFIT_WARN_S by (serial_reader.py); the
    note said of it names other settings, which change card to card (Review 66 R2)."""
    try:
        return _shape(line.decode("ascii").strip())
    except UnicodeDecodeError:
        return f"{len(line)} bytes"


def _shape(text: str) -> str:
    """A line's shape, said without its characters: how many, and of what."""
    if set(text) <= set("01") and len(text) > 8:
        return f"{len(text)} 0s and 1s"
    if text.isdigit():
        return f"{len(text)} decimal digits"
    if set(text) <= set("0123456789abcdefABCDEF"):
        return f"{len(text)} hex digits"
    kinds = [
        kind for kind, test in (("letters", str.isalpha), ("digits", str.isdigit)) if any(map(test, text))
    ]
    kinds += [repr(c) for c in sorted({c for c in text if not c.isalnum()})]
    return f"{len(text)} characters ({', '.join(kinds)})"


def _setting(b: int, e: str, bits: int, encoding: str) -> str:
    said = [f"wiegand_bits = {b}"] if b != bits else []
    said += [f'wiegand_encoding = "{e}"'] if e != encoding else []
    return ", ".join(said)


def _most_digits(bits: int, encoding: WiegandEncoding) -> int:
    return bits if encoding == "bits" else (bits + 3) // 4 if encoding == "hex" else len(str(2**bits - 1))


def wiegand_card(value: int, bits: WiegandBits) -> str | None:
    """The canonical card of a whole frame (bit 0 sent first is the most significant), or None.

    The first bit is even parity over the first half of the data bits, the last bit odd parity
    over the second half; between them the facility code (8 or 16 bits) and the card number (16).
    """
    frame = [(value >> (bits - 1 - k)) & 1 for k in range(bits)]
    half = (bits - 2) // 2
    even_ok = sum(frame[0 : 1 + half]) % 2 == 0
    odd_ok = sum(frame[1 + half : bits]) % 2 == 1
    if not (even_ok and odd_ok):
        return None
    data = (value >> 1) & ((1 << (bits - 2)) - 1)
    card = data & 0xFFFF
    facility = data >> 16
    return f"{facility:03d}:{card:05d}" if bits == 26 else f"{facility:05d}:{card:05d}"


def wiegand_frame(facility: int, card: int, bits: WiegandBits) -> int:
    """The whole frame for a facility code and card number, parity bits set (tests, simulators)."""
    data = (facility << 16) | card
    value = data << 1
    half = (bits - 2) // 2
    first = [(data >> (bits - 3 - k)) & 1 for k in range(half)]
    second = [(data >> (half - 1 - k)) & 1 for k in range(half)]
    if sum(first) % 2:
        value |= 1 << (bits - 1)
    if sum(second) % 2 == 0:
        value |= 1
    return value


def em4100_frame(data_hex: str, crlf: bool = False) -> bytes:
    """The frame a reader sends for a card's 10 hex digits (tests, simulators, the benchmark)."""
    values = bytes.fromhex(data_hex)
    xor = 0
    for b in values:
        xor ^= b
    body = f"{data_hex.upper()}{xor:02X}".encode("ascii")
    return bytes([STX]) + body + (b"\r\n" if crlf else b"") + bytes([ETX])


def scanner(
    format: Literal["em4100", "wiegand", "line", "qr"],
    em4100_number: Literal["hex", "decimal"] = "hex",
    wiegand_bits: WiegandBits = 26,
    wiegand_encoding: WiegandEncoding = "hex",
) -> Scanner:
    if format == "em4100":
        return partial(scan_em4100, number=em4100_number)
    if format == "wiegand":
        return partial(
            scan_lines, parse=partial(parse_wiegand_line, bits=wiegand_bits, encoding=wiegand_encoding)
        )
    if format == "qr":
        return partial(scan_lines, parse=parse_qr_line, kind="qr")
    return partial(scan_lines, parse=parse_card_line)
