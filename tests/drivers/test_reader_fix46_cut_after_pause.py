"""A line reader's cut fragment was glued to the next card when the pause was just over FRAME_GAP_S:
silence was judged only on a read that came back empty (every READ_TIMEOUT_S), so bytes arriving
0.5-0.6 s after the fragment were appended to it unchecked."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from drivers.readers import serial_reader
from drivers.readers.frames import em4100_frame, scanner
from drivers.readers.serial_reader import SerialReader
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_readers import Cards

GAP_S = serial_reader.FRAME_GAP_S + 0.06  # just over: before the read that would come back empty


def _start(device: PtyDevice, fmt: str) -> tuple[SerialReader, Cards]:
    reader = SerialReader(health(), device.path, 9600, scanner(fmt), debounce_s=0.0, reconnect_max_s=0.2)  # type: ignore[arg-type]
    cards = Cards()
    reader.start(cards)
    wait_for(lambda: reader.health.online, "the reader to open its port")
    time.sleep(0.5)  # the reader's thread waiting in a read, as at a lane with no card shown
    return reader, cards


def _pause_then(reader: SerialReader, device: PtyDevice, fragment: bytes, frame: bytes) -> None:
    """The fragment, then `frame` GAP_S after the reader heard the fragment. Timed from the reader's
    side (its health's last_seen): on a loaded machine its thread can wake a few hundred ms late
    for the fragment, which shortens the pause it sees however the reader is written."""
    sent = time.time()
    device.write(fragment)
    heard: float = wait_for(
        lambda: (reader.health.last_seen or 0.0) >= sent and reader.health.last_seen, "the fragment"
    )
    time.sleep(max(0.0, heard + GAP_S - time.time()))
    device.write(frame)


def test_a_fragment_followed_by_a_card_after_a_pause_over_half_a_second_is_cut(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """A line reader browns out mid-line ("01020", no line end) and the resident's card 0102030405
    comes 0.56 s later. docs/hardware.md: a reader silent for 0.5 s mid-frame has cut it, the
    fragment dropped and "never joined to the next card (read as another card)". The user saw the
    card read as another card, 010200102030405 (refused, wrong number in the log); she should see
    her own card read, the fragment counted as one bad frame."""
    device = pty_device("ttyUSB-line")
    reader, cards = _start(device, "line")
    try:
        # the reader lost power half-way through its line, then is silent longer than FRAME_GAP_S
        _pause_then(reader, device, b"01020", b"0102030405\r\n")
        wait_for(lambda: cards.values(), "the tap")
        time.sleep(0.2)
        assert cards.values() == ["0102030405"], (
            f"after {GAP_S:.2f} s of silence the cut fragment was joined to the card: read {cards.values()}"
        )
        assert reader.health.counters["bad_frames"] == 1  # the cut fragment
        assert reader.health.online
    finally:
        reader.stop()


@pytest.mark.parametrize(
    ("fmt", "fragment", "line", "value"),
    [
        ("qr", b"Pass_To", b"Pass_Token_ABCdef123\r\n", "Pass_Token_ABCdef123"),
        ("wiegand", b"3FF", b"2190E0F\r\n", "012:34567"),  # Wiegand 26 in hex, parity good
    ],
)
def test_a_qr_or_wiegand_fragment_is_cut_the_same_way(
    pty_device: Callable[[str], PtyDevice], fmt: str, fragment: bytes, line: bytes, value: str
) -> None:
    """A QR scanner or a Wiegand converter writes lines too: its fragment, 0.56 s before the next
    pass or card, lost the pass (an invalid token) or changed the card; both are read as sent."""
    device = pty_device(f"ttyUSB-{fmt}")
    reader, cards = _start(device, fmt)
    try:
        _pause_then(reader, device, fragment, line)
        # The pass or card itself, not the fragment's bad frame: that is counted as the pause is
        # over, before the line is read, which on a loaded box took longer than the 0.2 s below.
        # Joined to the fragment, the line is never read as sent: this gives up, or reads another.
        wait_for(lambda: cards.values(), "the line read (the fragment before it cut, not joined to it)")
        time.sleep(0.2)  # nothing more read after it
        assert cards.values() == [value]
        assert reader.health.counters["bad_frames"] == 1
    finally:
        reader.stop()


def test_an_em4100_frame_cut_before_the_next_card_is_one_bad_frame(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """EM4100 resynchronises on the next STX anyway: still the card read and one bad frame."""
    device = pty_device("ttyUSB-em")
    reader, cards = _start(device, "em4100")
    try:
        _pause_then(reader, device, em4100_frame("0A1B2C3D4E")[:5], em4100_frame("0102030405"))
        wait_for(lambda: cards.values(), "the tap")
        time.sleep(0.2)
        assert cards.values() == ["0102030405"]
        assert reader.health.counters["bad_frames"] == 1
        assert reader.health.counters.get("noise_bytes", 0) == 0
    finally:
        reader.stop()
