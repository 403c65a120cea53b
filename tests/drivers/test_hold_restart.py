"""A lane held open stays held across a restart: a power cut in the middle of a convoy, or the
watchdog restarting the service, must not drop the barrier on the cars under it. Released, it is
not held again; a hold the relays cannot take at start is dropped, on record."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.runtime.gateway import Gateway
from gateway.sync.health import health_report
from tests.drivers.conftest import (
    gpio_io,
    open_alarms,
    query,
    restart_with_barrier_up,
    start_gateway,
)

HELD_OPEN_S = 0.3
GPIO_IO = gpio_io(held_open_s=HELD_OPEN_S)


def held_by_a_guard(tmp_path: Path, pins: MockFactory) -> None:
    """A guard held the car-in lane open for a convoy, its arm went up, and the gateway stopped."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        assert pins.pin(17).state is True
        pins.pin(6).drive_low()
    finally:
        gw.stop()


def holds(gw: Gateway) -> list[tuple[str, str, str]]:
    return query(gw, "SELECT action, actor, detail FROM audit WHERE action LIKE 'lane.hold%' ORDER BY id")


def test_a_lane_held_open_is_held_again_after_a_restart_and_raises_no_alarm(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    held_by_a_guard(tmp_path, mock_pins)
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    assert mock_pins.pin(17).state is True, "the barrier was dropped on the convoy by a restart"
    assert again.by_hand.held == {"car-in": "保安 王"}  # the page shows who holds it
    (_, (action, actor, reason)) = holds(again)
    assert (action, actor) == ("lane.hold", "gateway")
    assert reason.startswith("held again after a restart (held by 保安 王 since ")
    time.sleep(HELD_OPEN_S * 4)  # held up: neither forced open nor left open
    assert open_alarms(again, "forced_open") == [] and open_alarms(again, "held_open") == []
    report = health_report(again, {}, 0, "test", datetime.now().astimezone())
    assert report["lane_modes"] == {"car-in": "open"}  # the central server sees the lane held


def test_a_lane_released_before_the_restart_is_not_held_again(
    tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]
) -> None:
    held_by_a_guard(tmp_path, mock_pins)
    released = gateways(start_gateway(tmp_path, GPIO_IO))
    released.by_hand.release_lane("car-in", "保安 王", "车队已过")
    released.stop()
    again = gateways(start_gateway(tmp_path, GPIO_IO))
    assert mock_pins.pin(17).state is False and again.by_hand.held == {}
    assert [row[1] for row in holds(again)] == ["保安 王", "gateway"]  # no hold after the release


def test_a_hold_the_relay_cannot_take_at_start_is_dropped_on_record(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held_by_a_guard(tmp_path, mock_pins)
    broken = start_gateway(tmp_path, GPIO_IO)

    def no_answer() -> None:
        raise OSError("GPIO busy")

    monkeypatch.setattr(broken.devices.lanes["car-in"].relays[0], "hold", no_answer)
    gateways(broken)
    assert broken.by_hand.held == {}
    # The attempt's reason, and how many of car-in's two relays took it (the other one).
    assert holds(broken)[-1][0] == "lane.hold_failed"
    assert holds(broken)[-1][2] == holds(broken)[-2][2] + " (took=1 of 2)"
    assert "GPIO busy" in (broken.devices.lanes["car-in"].relays[0].health.last_error or "")
    broken.stop()
    again = gateways(start_gateway(tmp_path, GPIO_IO))
    assert again.by_hand.held == {} and len(holds(again)) == 3  # not tried at every start


def test_a_hold_on_a_lane_no_longer_in_the_config_is_dropped(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    held_by_a_guard(tmp_path, mock_pins)
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as conn:  # the installer renamed the lane
        conn.execute("UPDATE lane_modes SET lane = 'east-in' WHERE lane = 'car-in'")
    again = gateways(start_gateway(tmp_path, GPIO_IO))
    assert again.by_hand.held == {} and mock_pins.pin(17).state is False
    assert "lane east-in no longer held open after the restart: no lane 'east-in'" in caplog.text
    assert query(again, "SELECT lane FROM lane_modes") == []
