"""A hold the relays cannot take leaves the barrier and the record agreeing: a lane that is not held
on record (nor on the page) is not raised later by its relay, and a lane already held stays held,
on record too, when a second hold of it fails."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.relays.lcus import lcus_frame
from gateway.alarm_texts import AlarmText
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import raise_alarm
from tests.drivers.conftest import (
    PtyDevice,
    open_alarms,
    query,
    restart_with_barrier_up,
    start_gateway,
    wait_for,
)
from tests.drivers.test_hold_restart import GPIO_IO, HELD_OPEN_S

LCUS = """
[[devices]]
id = "exit-barrier"
lane = "car-out"
kind = "relay"
driver = "lcus"
port = "{port}"
channel = 1
reconnect_max_s = 0.2
"""


def last_state(frames: bytes, channel: int = 1) -> bool | None:
    """The last on/off the driver sent the board's channel (None: it sent neither)."""
    state = None
    for i in range(0, len(frames) - 3, 4):
        if frames[i : i + 4] in (lcus_frame(channel, True), lcus_frame(channel, False)):
            state = frames[i : i + 4] == lcus_frame(channel, True)
    return state


def board_back(gw: Gateway, board: PtyDevice) -> bytes:
    """The board plugged back: what the driver sent it once it found it again."""
    board.plug()
    wait_for(lambda: gw.devices.lanes["car-out"].relays[0].health.online, "the board back online")
    time.sleep(0.5)  # the reconnect re-sends what the relay wants
    return board.pending(wait=0.3)


def test_a_hold_dropped_at_start_does_not_raise_the_barrier_when_the_board_comes_back(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """After a power cut the USB relay board appears a moment after the service starts: the page
    says the lane is no longer held, so the barrier must not go up once the board is back."""
    board = pty_device("ttyUSB-relay")
    config = LCUS.format(port=board.path)
    first = start_gateway(tmp_path, config)
    first.start()
    try:
        first.by_hand.hold_lane("car-out", "保安 王", "车队")
        assert last_state(board.pending(wait=0.2)) is True
    finally:
        first.stop()
    board.pending(wait=0.2)
    board.unplug()  # the adapter is not there yet when the service starts

    again = gateways(start_gateway(tmp_path, config))
    assert again.by_hand.held == {}  # dropped, as documented
    assert query(again, "SELECT lane FROM lane_modes") == []
    holds = query(again, "SELECT action FROM audit WHERE action LIKE 'lane.hold%' ORDER BY id")
    assert holds[-1] == ("lane.hold_failed",)
    assert last_state(board_back(again, board)) is not True, (
        "the relay raised the barrier of a lane the gateway says is not held"
    )


def test_a_hold_that_failed_while_the_board_was_unplugged_does_not_raise_the_barrier_later(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], gateways: Callable[[Gateway], Gateway]
) -> None:
    """A guard presses hold while the USB relay board is unplugged and is told it failed: plugged
    back, the board must not raise a barrier the guard was told is not held."""
    board = pty_device("ttyUSB-relay")
    gw = gateways(start_gateway(tmp_path, LCUS.format(port=board.path)))
    board.pending(wait=0.2)
    board.unplug()
    with pytest.raises(GatewayError, match="hold on lane car-out failed"):
        gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    assert gw.by_hand.held == {} and query(gw, "SELECT lane FROM lane_modes") == []
    assert last_state(board_back(gw, board)) is not True, "the barrier went up for a hold that failed"


def test_a_failed_second_hold_does_not_take_the_first_hold_off_record(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A lane held for a convoy, held again (the central server re-sends open) while the relay
    glitches once: the barrier stays up, the page still says who holds it, and a restart must not
    drop the barrier on the convoy."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        mock_pins.pin(6).drive_low()

        def glitch() -> None:
            raise OSError("GPIO busy")

        monkeypatch.setattr(gw.devices.lanes["car-in"].relays[0], "hold", glitch)
        with pytest.raises(GatewayError):
            gw.by_hand.set_lane_mode("car-in", "open", "central", "remote command 42")
        monkeypatch.undo()
        assert gw.by_hand.held == {"car-in": "保安 王"}  # still held: the page says so
        assert mock_pins.pin(17).state is True  # and the barrier is up
        on_record = query(gw, "SELECT lane, mode, set_by FROM lane_modes")
    finally:
        gw.stop()
    assert on_record == [("car-in", "open", "保安 王")], "a lane held on the page is off record"
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    assert again.by_hand.held == {"car-in": "保安 王"}, "the restart dropped the barrier on the convoy"
    assert mock_pins.pin(17).state is True


def test_a_second_hold_that_takes_makes_its_guard_the_holder_on_record(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    """A second guard holds a lane already held: the page, and after a restart too, names them."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        gw.by_hand.hold_lane("car-in", "保安 李", "接班")
        assert gw.by_hand.held == {"car-in": "保安 李"}
        mock_pins.pin(6).drive_low()
    finally:
        gw.stop()
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    assert again.by_hand.held == {"car-in": "保安 李"}


def test_a_held_open_alarm_left_open_clears_when_the_lane_is_held_again_at_start(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    """The alarms page must not list 长时间未关 (held open, no guard holds it) for a lane a guard
    holds: one the last run left open (its clearing never written: the disk was full when the guard
    held the lane) clears once the lane is held again at start."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        mock_pins.pin(6).drive_low()
        text = AlarmText("held_open", {"lane": "car-in", "device": "car-in-io", "seconds": HELD_OPEN_S})
        gw.on_worker(lambda conn: raise_alarm(conn, "held_open", "car-in", text, gw.now())).result(10)
    finally:
        gw.stop()
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    assert again.by_hand.held == {"car-in": "保安 王"}
    time.sleep(HELD_OPEN_S * 4)
    assert open_alarms(again, "held_open") == [], "a lane held by a guard is listed as held open"
