"""A card reader that sends nothing but noise (RS-485 A/B swapped, a wrong baud rate) does not answer:
offline, with an alarm that says what to check. Noise among good frames, or silence, is no fault."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from drivers.readers import serial_reader
from drivers.readers.frames import Scanner, em4100_frame, scanner
from drivers.readers.serial_reader import SerialReader
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import PtyDevice, health, open_alarms, start_gateway, wait_for
from tests.drivers.test_gateway_devices import reader_toml

Reader = tuple[PtyDevice, SerialReader, list[bool]]  # the pty, the reader, its online changes
# An EM4100 frame as a reader with A/B swapped sends it: every bit inverted, no STX left.
INVERTED = bytes([0xFD, 0xCF, 0x9E, 0xCF, 0xCE, 0x9F, 0xCE, 0xCF, 0xFC]) * 4


def send_for(device: PtyDevice, seconds: float, data: Callable[[], bytes]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        device.write(data())
        time.sleep(0.05)


def test_a_reader_sending_only_garbage_is_a_recorded_fault(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """RS-485 A/B swapped (docs/hardware.md: 'the most common fault: the device shows offline and
    does not answer'): the reader's frames arrive inverted, as garbage, for ever. No card can open
    the door: the device must show offline, with a device_offline alarm that says to check A/B."""
    reader = pty_device("ttyUSB-door")
    gw = gateways(start_gateway(tmp_path, reader_toml(reader.path)))
    wait_for(lambda: gw.devices.health[-1].online, "the reader online")
    send_for(reader, serial_reader.NOISE_ONLY_S + 3, lambda: INVERTED)
    h = next(x for x in gw.devices.health if x.device == "door-reader")
    assert h.counters["noise_bytes"] > 0 and h.counters.get("reads", 0) == 0
    assert not h.online, f"{serial_reader.NOISE_ONLY_S + 3:g} s of nothing but garbage: {dict(h.counters)}"
    assert "A/B" in h.last_error and "baudrate" in h.last_error
    wait_for(lambda: open_alarms(gw, "device_offline") == ["door-reader"], "the device_offline alarm")


@pytest.fixture
def quick_window(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setattr(serial_reader, "NOISE_ONLY_S", 1.0)
    yield 1.0


def started(device: PtyDevice, scan: Scanner) -> Reader:
    reader = SerialReader(health(), device.path, 9600, scan, debounce_s=0.0, reconnect_max_s=0.2)
    changes: list[bool] = []
    reader.health.on_change = lambda h, online: changes.append(online)
    reader.start(lambda kind, value, confidence: None)
    wait_for(lambda: reader.health.online, "the reader to open its port")
    return device, reader, changes


@pytest.fixture
def reader_on(pty_device: Callable[[str], PtyDevice]) -> Iterator[Reader]:
    device, reader, changes = started(pty_device("ttyUSB-reader"), scanner("em4100"))
    yield device, reader, changes
    reader.stop()


def test_good_frames_among_noise_keep_a_reader_online(quick_window: float, reader_on: Reader) -> None:
    """A noisy line near the barrier motor: a card read now and then among the noise is still read,
    and the reader is not called offline for the noise."""
    device, reader, changes = reader_on
    sends = itertools.cycle([b"\xff\xfe", b"\xff\xfe" + em4100_frame("0102030405")])
    send_for(device, 4 * quick_window, lambda: next(sends))
    assert reader.health.counters["reads"] > 0 and reader.health.counters["noise_bytes"] > 0
    assert reader.health.online and changes == [True]


def test_an_idle_reader_stays_online(quick_window: float, reader_on: Reader) -> None:
    """No card shown for a while: the reader sends nothing, and that is no fault."""
    _, reader, changes = reader_on
    time.sleep(3 * quick_window)
    assert reader.health.online and changes == [True]


def test_a_reader_sending_noise_comes_back_with_its_first_good_frame(
    quick_window: float, reader_on: Reader
) -> None:
    """A/B swapped, then wired right: offline once (one alarm, not one per burst of noise), and
    online again with the first card read."""
    device, reader, changes = reader_on
    send_for(device, 3 * quick_window, lambda: INVERTED)
    assert not reader.health.online and "A/B" in reader.health.last_error
    device.write(em4100_frame("0102030405"))
    wait_for(lambda: reader.health.online, "the reader online again")
    assert changes == [True, False, True]


@pytest.mark.parametrize(
    ("format", "line"),
    [
        ("qr", b"https://u.wechat.com/EJxQ3d_k9\r\n"),  # a visitor's WeChat code, no pass
        ("line", b"card no. 4F-0087 (other system)\r\n"),  # a card of another estate's system
        # a payment code's URL, longer than any pass token (over 64 characters: a bad frame too)
        ("qr", b"https://qr.alipay.com/fkx19203kdj2a8d0q9wlmnbv7c6x5z4a3s2d1f0g9h8j7k6l5p4o3i2u1y0t\r\n"),
    ],
)
def test_a_scanner_held_on_a_code_that_is_no_pass_is_not_called_offline_for_its_wiring(
    pty_device: Callable[[str], PtyDevice], format: Literal["qr", "line"], line: bytes
) -> None:
    """A visitor holds their phone's WeChat QR (a URL) under the door's USB scanner for 6 s; in
    presentation mode the scanner sends it again and again. Each line is a bad frame (no pass
    token), but a whole line of text proves the scanner answers: it must not go offline with an
    alarm telling the installer to check the RS-485 wiring and baudrate (a USB scanner has neither).
    The same for a line reader shown a card of another system."""
    device, reader, changes = started(pty_device("ttyACM-door-qr"), scanner(format))
    try:
        send_for(device, serial_reader.NOISE_ONLY_S + 1, lambda: line)
        assert reader.health.counters["bad_frames"] > 0
        assert reader.health.online and changes == [True], (changes, reader.health.last_error)
    finally:
        reader.stop()


def test_two_bursts_from_the_barrier_motor_are_no_fault(quick_window: float, reader_on: Reader) -> None:
    """A reader next to the barrier catches the motor's noise as the arm starts and again as it
    stops, a few seconds apart, at every car: noise in a few moments of the window, not all of it.
    The reader stays online (here at a fifth of the time: 0.5 s, 4 s quiet, 1.5 s)."""
    device, reader, changes = reader_on
    send_for(device, 0.1 * quick_window, lambda: INVERTED)
    time.sleep(0.8 * quick_window)
    send_for(device, 0.3 * quick_window, lambda: INVERTED)
    time.sleep(0.2)
    assert reader.health.counters["noise_bytes"] > 0
    assert reader.health.online and changes == [True], (changes, reader.health.last_error)
