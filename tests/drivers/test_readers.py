"""Serial card readers over real pseudo-terminals: frames as devices send them, split, noisy,
repeated while held, and the port vanishing and coming back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import serial

from drivers.readers import serial_reader
from drivers.readers.frames import em4100_frame, scanner, wiegand_frame
from drivers.readers.serial_reader import SerialReader
from tests.drivers.conftest import PtyDevice, health, wait_for


class Cards:
    """What a reader emitted, safe to read from the test thread."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()

    def __call__(self, kind: str, value: str, confidence: float) -> None:
        with self._lock:
            self.seen.append((kind, value, confidence))

    def values(self) -> list[str]:
        with self._lock:
            return [v for _, v, _ in self.seen]


@pytest.fixture
def start_reader() -> Iterator[Callable[..., tuple[SerialReader, Cards]]]:
    started: list[SerialReader] = []

    def start(
        device: PtyDevice, fmt: str = "em4100", debounce_s: float = 0.0, **scan: object
    ) -> tuple[SerialReader, Cards]:
        reader = SerialReader(
            health(),
            device.path,
            9600,
            scanner(fmt, **scan),  # type: ignore[arg-type]
            debounce_s=debounce_s,
            reconnect_max_s=0.2,
        )
        cards = Cards()
        reader.start(cards)
        started.append(reader)
        wait_for(lambda: reader.health.online, "the reader to open its port")
        return reader, cards

    yield start
    for reader in started:
        reader.stop()


def test_frames_split_into_single_bytes_with_noise_between(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-em")
    reader, cards = start_reader(device)
    stream = b"\x00\xffgarbage" + em4100_frame("0102030405") + b"\r\n" + em4100_frame("62E3086CED")
    for byte in stream:
        device.write(bytes([byte]))
    wait_for(lambda: len(cards.values()) == 2, "two cards")
    assert cards.seen == [("card", "0102030405", 1.0), ("card", "62E3086CED", 1.0)]
    assert reader.health.counters["noise_bytes"] == 8  # \xff garbage, however it was split
    assert reader.health.counters["bad_frames"] == 0


def test_bad_checksums_are_counted_and_the_reader_keeps_reading(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-em")
    reader, cards = start_reader(device)
    bad = bytearray(em4100_frame("0102030405"))
    bad[11] ^= 0x01  # one bit flipped on the wire
    device.write(bytes(bad) * 3 + em4100_frame("0A0B0C0D0E"))
    wait_for(lambda: cards.values(), "the good card")
    assert cards.values() == ["0A0B0C0D0E"]
    assert reader.health.counters["bad_frames"] == 3


def test_a_held_card_is_one_presentation(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-em")
    reader, cards = start_reader(device, debounce_s=60)
    device.write(em4100_frame("0102030405") * 10 + em4100_frame("0A0B0C0D0E"))
    wait_for(lambda: "0A0B0C0D0E" in cards.values(), "the second card")
    assert cards.values() == ["0102030405", "0A0B0C0D0E"]
    assert reader.health.counters["repeats"] == 9
    assert reader.health.counters["reads"] == 11


def test_without_a_window_every_read_counts(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-em")
    _, cards = start_reader(device, debounce_s=0)
    for _ in range(3):
        n = len(cards.values())  # before the write: the reader may emit before the next line runs
        device.write(em4100_frame("0102030405"))
        wait_for(lambda n=n: len(cards.values()) > n, "the card again")  # type: ignore[misc]
    assert cards.values() == ["0102030405"] * 3


def test_wiegand_converter_lines(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-wg")
    reader, cards = start_reader(device, "wiegand", wiegand_bits=26, wiegand_encoding="hex")
    good = wiegand_frame(123, 45678, 26)
    device.write(f"{good:07X}\r\n".encode() + f"{good ^ 1:07X}\r\n".encode() + b"3FF")
    device.write(b"FFFF\r\n")
    wait_for(lambda: cards.values(), "the card")
    wait_for(lambda: reader.health.counters["bad_frames"] == 2, "both bad lines counted")
    assert cards.values() == ["123:45678"]


def test_line_reader(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-line")
    _, cards = start_reader(device, "line")
    device.write(b"00123")
    device.write(b"45678\r\n")
    wait_for(lambda: cards.values(), "the card")
    assert cards.values() == ["0012345678"]


def test_unplugged_reader_goes_offline_and_comes_back_by_itself(
    pty_device: Callable[[str], PtyDevice], start_reader: Callable[..., tuple[SerialReader, Cards]]
) -> None:
    device = pty_device("ttyUSB-em")
    reader, cards = start_reader(device)
    changes: list[bool] = []
    reader.health.on_change = lambda h, online: changes.append(online)
    device.write(em4100_frame("0102030405")[:7])  # unplugged in the middle of a frame
    device.unplug()
    wait_for(lambda: not reader.health.online, "the reader to go offline")
    assert "unplugged" in reader.health.last_error and "by-id" in reader.health.last_error
    device.plug()
    wait_for(lambda: reader.health.online, "the reader to come back")
    device.write(em4100_frame("0A0B0C0D0E"))
    wait_for(lambda: cards.values(), "a card after the replug")
    assert cards.values() == ["0A0B0C0D0E"]  # the half frame from before did not join it
    assert changes[:2] == [False, True]
    assert reader.health.counters["disconnects"] == 1


def test_a_port_missing_at_start_is_offline_until_it_appears(pty_device: Callable[[str], PtyDevice]) -> None:
    device = pty_device("ttyUSB-late")
    device.unplug()
    reader = SerialReader(health(), device.path, 9600, scanner("em4100"), reconnect_max_s=0.2)
    cards = Cards()
    reader.start(cards)
    try:
        wait_for(lambda: reader.health.last_error, "the first failed open")
        assert not reader.health.online
        device.plug()
        wait_for(lambda: reader.health.online, "the reader to open the new port")
        device.write(em4100_frame("0102030405"))
        wait_for(lambda: cards.values() == ["0102030405"], "the card")
    finally:
        reader.stop()


class _PortThatFailsReads:
    """A port that opens but fails every read, as pyserial reports a second program on the same
    port or an adapter in a bad state (a pty cannot be made to do this)."""

    in_waiting = 0

    def read(self, size: int) -> bytes:
        raise serial.SerialException(
            "device reports readiness to read but returned no data "
            "(device disconnected or multiple access on port?)"
        )

    def close(self) -> None:
        pass


def test_a_port_that_opens_but_fails_reads_stays_offline_with_growing_waits(
    pty_device: Callable[[str], PtyDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    device = pty_device("ttyUSB-busy")
    opens: list[float] = []

    def open_port(*args: object, **kwargs: object) -> _PortThatFailsReads:
        opens.append(time.monotonic())
        return _PortThatFailsReads()

    monkeypatch.setattr(serial_reader, "open_port", open_port)
    reader = SerialReader(health(), device.path, 9600, scanner("em4100"), reconnect_max_s=1.0)
    changes: list[bool] = []
    reader.health.on_change = lambda h, online: changes.append(online)
    reader.start(Cards())
    try:
        time.sleep(2.5)
    finally:
        reader.stop()
    assert changes == [False]  # one alarm, not one raised and cleared ten times a second
    assert "multiple access" in reader.health.last_error
    assert len(opens) <= 6  # waits of 0.1, 0.2, 0.4, 0.8, 1 s (it reopened every 0.1 s)
