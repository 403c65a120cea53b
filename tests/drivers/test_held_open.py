"""A door propped open or a barrier arm stuck up: the monitoring centre hears of it (a held_open
alarm), and not of a barrier a guard holds open for a convoy or one kept up by a queue of cars."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import BarrierWatch
from tests.drivers.conftest import (
    gpio_io,
    left_propped_open,
    open_alarms,
    query,
    restart_with_barrier_up,
    start_gateway,
    wait_for,
)

HELD_OPEN_S = 0.4
GPIO_IO = gpio_io(held_open_s=HELD_OPEN_S)
Running = tuple[Gateway, MockPin]  # the gateway and its barrier contact


@pytest.fixture
def running(tmp_path: Path, mock_pins: MockFactory, gateways: Callable[[Gateway], Gateway]) -> Running:
    """The gateway started on GPIO_IO, and the car-in barrier's contact (GPIO 6) to drive."""
    return gateways(start_gateway(tmp_path, GPIO_IO)), mock_pins.pin(6)


def upstream_alarms(gw: Gateway) -> list[tuple[str, str]]:
    """(kind, state) of each alarm record queued upstream, in order."""
    payloads = query(gw, "SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [(a["kind"], a["state"]) for a in (json.loads(p) for (p,) in payloads)]


def test_the_time_left_counts_from_the_opening_or_the_last_command_and_stops_at_closing() -> None:
    watch = BarrierWatch({"car-in": 5.0})
    assert watch.held_open_in("car-in", 0.0, 60.0) is None  # closed: nothing to watch
    watch.commanded("car-in", 100.0)
    watch.opened("car-in", 101.0)
    assert watch.held_open_in("car-in", 131.0, 60.0) == 30.0
    watch.commanded("car-in", 150.0)  # the next car in the queue keeps it up
    assert watch.held_open_in("car-in", 200.0, 60.0) == 10.0
    assert watch.held_open_in("car-in", 215.0, 60.0) == -5.0
    watch.held("car-in", True, 215.0)  # a guard holds it: looked at again a whole window later
    assert watch.held_open_in("car-in", 4000.0, 60.0) == 60.0
    watch.closed("car-in")
    assert watch.held_open_in("car-in", 4000.0, 60.0) is None


def test_a_barrier_left_open_raises_held_open_and_its_closing_clears_it(running: Running) -> None:
    gw, barrier = running
    gw.by_hand.open_lane("car-in", "保安 王", "救护车")
    barrier.drive_low()  # up for the ambulance, and then it stays up
    wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm")
    assert open_alarms(gw, "forced_open") == []  # it was told to open
    message = query(gw, "SELECT message FROM alarms WHERE kind = 'held_open'")[0][0]
    assert f"open for more than {HELD_OPEN_S:g} s" in message and "propped open or stuck" in message

    barrier.drive_high()
    wait_for(lambda: open_alarms(gw, "held_open") == [], "the alarm cleared when it closed")
    assert upstream_alarms(gw) == [("held_open", "raised"), ("held_open", "cleared")]


def test_a_barrier_held_open_by_a_guard_raises_nothing_until_it_is_released(running: Running) -> None:
    gw, barrier = running
    gw.by_hand.hold_lane("car-in", "保安 王", "车队")
    barrier.drive_low()
    time.sleep(HELD_OPEN_S * 3)  # held for the convoy: several windows pass
    assert open_alarms(gw, "held_open") == []
    gw.by_hand.release_lane("car-in", "保安 王", "车队已过")  # released, but the arm stays up
    wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm after release")


def test_a_door_still_propped_open_after_a_restart_keeps_its_held_open_alarm(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    left_propped_open(tmp_path, mock_pins, GPIO_IO)
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)  # the door still propped open
    time.sleep(HELD_OPEN_S * 6)  # many windows: the open door is judged again
    assert open_alarms(again, "held_open") == ["car-in"], (
        f"the door is still open but the alarm was closed; upstream saw {upstream_alarms(again)}"
    )


def test_an_alarm_left_open_by_an_earlier_run_clears_once_the_door_is_seen_closed(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    left_propped_open(tmp_path, mock_pins, GPIO_IO)
    mock_pins.pin(6).drive_high()  # closed while the gateway was down: no input reaches it

    again = gateways(start_gateway(tmp_path, GPIO_IO))
    wait_for(lambda: open_alarms(again, "held_open") == [], "the stale alarm cleared at start")
