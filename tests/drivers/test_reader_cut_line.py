"""Thunderstorm at the lane: a line reader or QR scanner whose line was cut (a power flicker, a noise
burst with no line end) must not glue the dead fragment onto the next card or pass."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.readers import serial_reader
from drivers.readers.frames import cut_frame, scanner
from drivers.readers.serial_reader import SerialReader
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_readers import Cards


def _start(device: PtyDevice, fmt: str) -> tuple[SerialReader, Cards]:
    reader = SerialReader(health(), device.path, 9600, scanner(fmt), debounce_s=0.0, reconnect_max_s=0.2)  # type: ignore[arg-type]
    cards = Cards()
    reader.start(cards)
    wait_for(lambda: reader.health.online, "the reader to open its port")
    return reader, cards


def test_a_line_cut_by_a_power_flicker_does_not_turn_the_next_card_into_another(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """A line reader loses power mid-line (a flicker in the storm): "01020" goes out, no line end.
    A second later the resident taps card 0102030405. The user saw the card refused as an unknown
    card "010200102030405" (a card read as another card, the wrong number in the access log); she
    should see her own card read, the cut fragment counted as a bad frame, as docs/hardware.md says:
    "Noise, cut frames and bad checksums never stop a reader ... and a good frame among them is
    still read"."""
    device = pty_device("ttyUSB-line")
    reader, cards = _start(device, "line")
    try:
        device.write(b"01020")  # the reader browned out half-way through its line
        time.sleep(1.0)  # power back; a real line takes a few ms at 9600 baud
        device.write(b"0102030405\r\n")
        wait_for(lambda: cards.values(), "the tap")
        time.sleep(0.2)
        assert cards.values() == ["0102030405"]
        assert reader.health.counters["bad_frames"] == 1  # the cut fragment
        assert reader.health.online
    finally:
        reader.stop()


def test_a_noise_burst_before_a_pass_does_not_lose_or_change_the_pass(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """The barrier motor's burst (docs: "the barrier motor's bursts as the arm starts and stops")
    puts a few bytes on a QR scanner's line with no line end; a second later a visitor scans her
    pass. The user saw her pass lost (or, with printable noise, read as another token: refused);
    she should see it read ("a good frame among them is still read")."""
    device = pty_device("ttyUSB-qr")
    reader, cards = _start(device, "qr")
    try:
        device.write(b"x7\xfe")  # motor noise on the cable, no CR/LF
        time.sleep(1.0)
        device.write(b"Pass_Token_ABCdef123\r\n")
        wait_for(lambda: cards.values(), "the scan")
        time.sleep(0.2)
        assert cards.values() == ["Pass_Token_ABCdef123"]
        assert reader.health.counters["bad_frames"] == 1
    finally:
        reader.stop()


def test_a_line_sent_in_two_pieces_is_still_one_card(
    pty_device: Callable[[str], PtyDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line handed on in two pieces with a pause between them shorter than FRAME_GAP_S (long
    enough here for a read to come back empty): still one card, nothing counted bad. The gap is
    stretched to 2 s for the test: midway between the read timeout and 0.5 s left 0.15 s for a
    loaded CI box to hand the second piece over, and a late read cut the card in two."""
    monkeypatch.setattr(serial_reader, "FRAME_GAP_S", 2.0)
    device = pty_device("ttyUSB-line")
    reader, cards = _start(device, "line")
    try:
        device.write(b"00123")
        time.sleep((serial_reader.READ_TIMEOUT_S + serial_reader.FRAME_GAP_S) / 2)
        device.write(b"45678\r\n")
        wait_for(lambda: cards.values(), "the card")
        assert cards.values() == ["0012345678"]
        assert reader.health.counters.get("bad_frames", 0) == 0
    finally:
        reader.stop()


def test_a_wiegand_line_cut_is_not_glued_to_the_next() -> None:
    """The same for a Wiegand converter's hex line, at the parser: a cut rest is one bad frame,
    blanks left after a line end are none."""
    assert cut_frame(b"3FF").bad == 1 and cut_frame(b"3FF").rest == b""
    assert cut_frame(b"\x00 ").bad == 0
    assert cut_frame(b"\x02" + b"0102").bad == 1  # an EM4100 frame cut after its STX
