"""Relays: pulse/hold/release timing, an LCUS board on a real pty, GPIO on gpiozero's mock pins."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero import Device as GpioBase
from gpiozero.pins.mock import MockFactory

from drivers import serialport
from drivers.relays.control import PulseControl
from drivers.relays.gpio import GpioDevice
from drivers.relays.lcus import LcusBoard, LcusRelay, lcus_frame
from tests.drivers.conftest import PtyDevice, health, lcus_two_lanes, wait_for

ON, OFF = bytes.fromhex("A00101A2"), bytes.fromhex("A00100A1")


class Output:
    def __init__(self) -> None:
        self.states: list[bool] = []
        self.lock = threading.Lock()

    def __call__(self, on: bool) -> None:
        with self.lock:
            self.states.append(on)

    def __getitem__(self, i: int) -> bool:
        with self.lock:
            return self.states[i]


@pytest.fixture
def control() -> Iterator[tuple[PulseControl, Output]]:
    out = Output()
    pc = PulseControl(out, health("relay", "relay"))
    yield pc, out
    pc.close()


def test_lcus_frames_match_the_vendor_table() -> None:
    assert lcus_frame(1, True) == ON and lcus_frame(1, False) == OFF
    assert lcus_frame(2, True) == bytes.fromhex("A00201A3")


def test_a_pulse_turns_on_once_then_off(control: tuple[PulseControl, Output]) -> None:
    pc, out = control
    pc.pulse(0.05)
    pc.pulse(0.05)  # a second decision while open extends the pulse, no second "on"
    wait_for(lambda: out.states == [True, False], "on then off")


def test_a_held_relay_stays_on_through_pulses_until_released(control: tuple[PulseControl, Output]) -> None:
    pc, out = control
    pc.hold()
    pc.pulse(0.01)
    pc.hold()
    assert out.states == [True]
    # the timer has nothing to end while held; a pulse that ended meanwhile leaves it on
    threading.Event().wait(0.05)
    assert out.states == [True]
    pc.release()
    assert out.states == [True, False]


def test_a_failing_output_does_not_leave_the_pulse_running() -> None:
    calls: list[bool] = []

    def broken(on: bool) -> None:
        calls.append(on)
        raise OSError("port gone")

    pc = PulseControl(broken, health("relay", "relay"))
    try:
        with pytest.raises(OSError):
            pc.pulse(0.02)
        assert not pc.wanted  # the pulse failed and is over: after a replug the driver re-sends "off"
        time.sleep(0.1)
        assert calls == [True]  # nothing to end at its time: "off" is the board's when it is back
    finally:
        pc.close()


def test_lcus_relay_on_a_pty(pty_device: Callable[[str], PtyDevice]) -> None:
    board = pty_device("ttyUSB-relay")
    relay = LcusRelay(health("relay", "relay"), LcusBoard(board.path), channel=1)
    try:
        assert relay.health.online
        assert board.read(4) == OFF  # on open it says what it wants: released
        relay.pulse(0.05)
        assert board.read(8) == ON + OFF
        relay.hold()
        assert board.read(4) == ON
        relay.release()
        assert board.read(4) == OFF
        assert board.pending() == b""
    finally:
        relay.close()


def test_lcus_relay_unplugged_goes_offline_and_resends_its_state_when_back(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    board = pty_device("ttyUSB-relay")
    relay = LcusRelay(health("relay", "relay"), LcusBoard(board.path, reconnect_max_s=0.2), channel=3)
    try:
        board.read(4)
        board.unplug()
        wait_for(lambda: not relay.health.online, "the relay to notice it is gone")
        # The guard is told it failed (its outcome, written on the board's thread: Review 64D).
        assert relay.hold_written().result(timeout=relay.answer_within_s) is False
        board.plug()
        wait_for(lambda: relay.health.online, "the relay to reopen")
        assert board.read(4) == lcus_frame(3, True)  # it was held: still wanted on
        relay.release()
        assert board.read(4) == lcus_frame(3, False)
    finally:
        relay.close()


def test_lcus_relay_replugged_between_two_checks_gets_its_state_again(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    board = pty_device("ttyUSB-relay")
    relay = LcusRelay(health("relay", "relay"), LcusBoard(board.path, reconnect_max_s=0.2), channel=1)
    try:
        assert board.read(4) == OFF
        relay.hold()  # a guard holds the barrier open
        assert board.read(4) == ON
        board.unplug()  # a loose plug: gone and back well within the once-a-second check
        board.plug()  # the board powers up with its relays off
        assert board.read(4, timeout=3) == ON  # the held state, sent again
        wait_for(lambda: relay.health.online, "the relay back online")
        assert relay.health.counters["offline"] == 1  # the replug was seen, and cleared
    finally:
        relay.close()


def test_lcus_pulse_right_after_a_quick_replug_opens(pty_device: Callable[[str], PtyDevice]) -> None:
    board = pty_device("ttyUSB-relay")
    relay = LcusRelay(health("relay", "relay"), LcusBoard(board.path, reconnect_max_s=0.2), channel=1)
    try:
        assert board.read(4) == OFF
        board.unplug()
        board.plug()
        relay.pulse(0.05)  # a car admitted before the next check: the write finds the new port
        assert board.pending(wait=0.5).endswith(ON + OFF)
    finally:
        relay.close()


def test_lcus_pulse_the_moment_the_board_is_back_opens(pty_device: Callable[[str], PtyDevice]) -> None:
    """A board unplugged for a while is retried with growing waits: a car admitted the moment it
    is plugged back gets its barrier opened, not a "port not open" error until the next retry."""
    board = pty_device("ttyUSB-relay")
    relay = LcusRelay(health("relay", "relay"), LcusBoard(board.path, reconnect_max_s=5.0), channel=1)
    try:
        assert board.read(4) == OFF
        board.unplug()
        wait_for(lambda: not relay.health.online, "the relay to notice it is gone")
        time.sleep(1.0)  # the retries now wait 0.8 s, then 1.6 s
        board.plug()
        relay.pulse(0.05)
        assert board.pending(wait=0.5).endswith(ON + OFF)
        assert relay.health.online
    finally:
        relay.close()


def test_two_channels_of_one_lcus_board_drive_two_lanes(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice]
) -> None:
    """An entrance and an exit barrier on channels 1 and 2 of one LCUS-2 board (one USB port): each
    lane's pulse closes its own channel, and an unplug puts both offline and back."""
    board = pty_device("ttyUSB-relay")
    devices, entry, exit_ = lcus_two_lanes(tmp_path, board, wait=0.2)
    try:
        assert entry.health.online and exit_.health.online
        assert board.read(8) == lcus_frame(1, False) + lcus_frame(2, False)  # each says: released
        entry.pulse(0.05)
        assert board.read(8) == lcus_frame(1, True) + lcus_frame(1, False)
        exit_.pulse(0.05)
        assert board.read(8) == lcus_frame(2, True) + lcus_frame(2, False)
        exit_.hold()
        assert board.read(4) == lcus_frame(2, True)
        board.unplug()
        wait_for(lambda: not entry.health.online and not exit_.health.online, "both channels offline")
        board.plug()
        wait_for(lambda: entry.health.online and exit_.health.online, "both channels back")
        assert board.read(8) == lcus_frame(1, False) + lcus_frame(2, True)  # the held one stays open
    finally:
        devices.close()


class _PortThatFailsWrites:
    """A port that opens but fails every write (a CH340 in a bad state: EIO); a pty cannot."""

    def __init__(self, fd: int):
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def write(self, data: bytes) -> int:
        raise OSError(5, "Input/output error")

    def reset_output_buffer(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_lcus_board_that_opens_but_fails_writes_stays_offline_with_growing_waits(
    pty_device: Callable[[str], PtyDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    board = pty_device("ttyUSB-relay")
    fd = os.open(board.path, os.O_RDWR | os.O_NOCTTY)
    opens: list[float] = []

    def open_port(*args: object, **kwargs: object) -> _PortThatFailsWrites:
        opens.append(time.monotonic())
        return _PortThatFailsWrites(fd)

    monkeypatch.setattr(serialport, "open_port", open_port)
    relay_health = health("relay", "relay")
    changes: list[bool] = []
    relay_health.on_change = lambda h, online: changes.append(online)
    relay = LcusRelay(relay_health, LcusBoard(board.path, reconnect_max_s=1.0), channel=1)
    try:
        time.sleep(2.5)
    finally:
        relay.close()
        os.close(fd)
    assert changes == [False]  # one alarm, not one raised and cleared ten times a second
    assert "Input/output error" in relay_health.last_error
    assert len(opens) <= 6  # waits of 0.1, 0.2, 0.4, 0.8, 1 s (it reopened every 0.1 s)


def test_gpio_relay_and_inputs(mock_pins: MockFactory) -> None:
    events: list[tuple[str, bool]] = []
    device = GpioDevice(
        health("gate", "relay"),
        17,
        active_high=False,
        inputs=[("car_present", 22, False), ("barrier_open", 23, True)],
        bounce_s=0,
    )
    mock_pins.pin(23).drive_low()  # the barrier is down: its closed contact is made
    device.watch(lambda name, active: events.append((name, active)))
    try:
        assert device.health.online
        relay_pin = mock_pins.pin(17)
        assert relay_pin.state is True  # low-level trigger module: high is off
        device.pulse(0.05)
        assert relay_pin.state is False
        wait_for(lambda: relay_pin.state is True, "the pulse to end")
        mock_pins.pin(22).drive_low()  # the loop detector's contact closes to ground
        mock_pins.pin(23).drive_high()  # the barrier-closed contact opens: the arm goes up
        mock_pins.pin(23).drive_low()
        mock_pins.pin(22).drive_high()
        wait_for(lambda: len(events) == 6, "the first states, then four input changes")
        assert events == [
            ("car_present", False),  # each input as it is when watched: no car, the barrier down
            ("barrier_open", False),
            ("car_present", True),
            ("barrier_open", True),
            ("barrier_open", False),
            ("car_present", False),
        ]
    finally:
        device.close()


def test_gpio_without_gpiozero_is_an_offline_device_that_says_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    device = GpioDevice(health("gate", "relay"), 17)
    try:
        assert not device.health.online
        assert "sudo /opt/estate-gateway/venv/bin/pip install '/opt/estate-gateway[fast,gpio]'" in (
            device.health.last_error
        )
        with pytest.raises(RuntimeError):
            device.pulse(1.0)
    finally:
        device.close()


@pytest.mark.filterwarnings("ignore:Falling back")
def test_gpio_on_a_machine_without_pins_is_offline_not_a_crash() -> None:
    GpioBase.pin_factory = None
    device = GpioDevice(health("gate", "relay"), 17)
    try:
        assert not device.health.online and "GPIO" in device.health.last_error
    finally:
        device.close()
