"""Alarms a barrier contact raised before the gateway stopped (the estate's power cut, the UPS run
out) are judged again from the contact when it comes back: found down, they clear, once every
device with a barrier contact on the lane has reported (docs/hardware.md), whichever of them reports
last; a loop detector's own module is not waited for."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.alarm_texts import AlarmText
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import LaneInputs
from gateway.store.alarms import raise_alarm
from gateway.store.database import open_database
from tests.drivers.conftest import gpio_io, open_alarms, restart_with_barrier_up, start_gateway, wait_for
from tests.test_lane_two_contacts_first_poll import FirstPollSensor

GPIO_IO = gpio_io()
CLEARED_AT = "SELECT cleared_at FROM alarms WHERE kind = ?"


def left_forced_open(tmp_path: Path, pins: MockFactory, config: str) -> None:
    """A gateway ran, the arm was forced up and alarmed, and the power went."""
    gw = start_gateway(tmp_path, config)
    gw.start()
    try:
        pins.pin(6).drive_low()  # the arm goes up, nobody told it to
        wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "the forced_open alarm")
    finally:
        gw.stop()  # the UPS ran out


def test_a_forced_open_alarm_left_from_before_clears_when_the_barrier_is_found_down(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """Power back two hours later, the arm down (the contact's pin, with its pull-up, reads closed):
    the forced_open alarm clears, as it does when the barrier closes without a restart."""
    left_forced_open(tmp_path, mock_pins, GPIO_IO)
    again = gateways(start_gateway(tmp_path, GPIO_IO))
    wait_for(lambda: open_alarms(again, "forced_open") == [], "the forced_open alarm to clear")


def test_a_forced_open_alarm_left_from_before_stays_while_the_barrier_is_found_up(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    left_forced_open(tmp_path, mock_pins, GPIO_IO)
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    time.sleep(0.5)
    assert open_alarms(again, "forced_open") == ["car-in"], "cleared while the arm is still up"
    mock_pins.pin(6).drive_high()  # the arm comes down
    wait_for(lambda: open_alarms(again, "forced_open") == [], "the forced_open alarm to clear")


def test_a_forced_open_alarm_on_a_lane_whose_barrier_contact_was_taken_out_clears_at_start(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """Nothing reports the barrier any more: the alarm it left must not stay open for ever."""
    left_forced_open(tmp_path, mock_pins, gpio_io("{ barrier_open = 6, car_present = 5 }"))
    again = gateways(start_gateway(tmp_path, gpio_io("{ car_present = 5 }")))
    wait_for(lambda: open_alarms(again, "forced_open") == [], "the forced_open alarm to clear")


@dataclass
class Lane:
    contact: FirstPollSensor
    other: FirstPollSensor  # the loop detector's module, or a double door's other leaf
    cleared_at: Callable[[], list[tuple[str | None]]]  # of the lane's alarm left from before


@contextmanager
def restarted(tmp_path: Path, kind: str, other: str, loop_only: bool) -> Iterator[Lane]:
    """The car-in lane's alarm (held_open: the arm stuck up; forced_open: forced up) left open when
    the power went; its barrier contact and `other` (`loop_only`: wired to a loop detector alone)
    each on a Modbus module that reports at its first poll, neither polled yet."""
    conn = open_database(tmp_path / "gateway.db").conn
    text = AlarmText(kind, {"lane": "car-in", "device": "car-in-module", "seconds": 120})
    raise_alarm(conn, kind, "car-in", text, datetime.now(UTC) - timedelta(hours=2))

    def on_worker(fn: Callable[[Any], Any]) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(conn))
        return done

    contact, second = FirstPollSensor("car-in-module"), FirstPollSensor(other)
    devices = Devices(
        lanes={"car-in": LaneDevices(sensors=[contact, second])},  # type: ignore[list-item]
        health=[contact.health, second.health],
        held_open_s={"car-in": 120.0},
        barrier_contacts={"car-in"},
        loop_only={other} if loop_only else set(),  # as build_devices finds them
    )
    inputs = LaneInputs(devices, on_worker, lambda: datetime.now(UTC))
    inputs.start()
    try:
        yield Lane(contact, second, lambda: conn.execute(CLEARED_AT, (kind,)).fetchall())
    finally:
        inputs.stop()
        conn.close()


@pytest.fixture(params=["held_open", "forced_open"])
def restarted_lane(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lane]:
    """The lane's contact and its loop detector, each on its own module."""
    with restarted(tmp_path, request.param, "car-in-loop", loop_only=True) as lane:
        yield lane


def test_an_alarm_left_from_before_clears_once_the_loop_module_reports_after_the_closed_contact(
    restarted_lane: Lane,
) -> None:
    """The arm is down when power returns; its contact's module answers first, the loop detector's
    a moment later: the alarm clears as the contact reports closed (a loop module cannot report the
    barrier: it is not waited for), and stays cleared."""
    restarted_lane.contact.first_poll(barrier_open=False)
    cleared = restarted_lane.cleared_at()
    assert cleared[0][0] is not None, "left open although the barrier is found down"
    assert restarted_lane.other.on_input is not None
    restarted_lane.other.on_input("car_present", False)  # the loop module's first poll: no car
    assert restarted_lane.cleared_at() == cleared


def test_an_alarm_left_from_before_stays_when_the_loop_module_reports_after_an_open_contact(
    restarted_lane: Lane,
) -> None:
    restarted_lane.contact.first_poll(barrier_open=True)  # still up
    assert restarted_lane.other.on_input is not None
    restarted_lane.other.on_input("car_present", False)
    assert restarted_lane.cleared_at() == [(None,)], "cleared while the arm is still up"
    restarted_lane.contact.first_poll(barrier_open=False)  # comes down
    # forced_open: once it has stayed down lanes.FORCED_OPEN_SETTLE_S (found forced up at start)
    wait_for(lambda: restarted_lane.cleared_at()[0][0] is not None, "the alarm cleared: the arm is down")


def test_a_shut_leaf_polled_first_does_not_clear_a_forced_open_left_on_the_other_leaf(
    tmp_path: Path,
) -> None:
    """A double door forced before the power went, one leaf still pushed open when it returns:
    the shut leaf's module answering first clears nothing; the other leaf shut, it clears."""
    with restarted(tmp_path, "forced_open", "car-in-leaf-b", loop_only=False) as door:
        door.contact.first_poll(barrier_open=False)
        assert door.cleared_at() == [(None,)], "cleared before the other leaf's module answered"
        door.other.first_poll(barrier_open=True, car_present=False)  # its loop reported first
        assert door.cleared_at() == [(None,)], "cleared while the other leaf is open"
        door.other.first_poll(barrier_open=False)
        # once the door has stayed shut lanes.FORCED_OPEN_SETTLE_S (found forced open at start)
        wait_for(lambda: door.cleared_at()[0][0] is not None, "the alarm to clear once both leaves are shut")


# The barrier's relay and contact on one device, the loop detector alone on another, watched last.
LOOP_ALONE = """
[[devices]]
id = "car-in-loop"
lane = "car-in"
kind = "sensor"
driver = "gpio"
inputs = { car_present = 5 }
"""


@pytest.mark.parametrize("kind", ["forced_open", "held_open"])
def test_an_alarm_left_from_before_clears_when_a_loop_detector_alone_on_its_device_reports_last(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
    kind: str,
) -> None:
    """The loop detector's device says only whether a car is there: its first report is all of it
    (build_devices tells the lane inputs so), and the lane is judged then."""
    # held_open_s is the contact's: the loop detector's own device cannot report the barrier.
    config = gpio_io(held_open_s=0.3 if kind == "held_open" else None) + LOOP_ALONE
    gw = start_gateway(tmp_path, config)
    gw.start()
    try:
        mock_pins.pin(6).drive_low()  # the arm goes up, nobody told it to
        wait_for(lambda: open_alarms(gw, kind) == ["car-in"], f"the {kind} alarm")
    finally:
        gw.stop()
    mock_pins.reset()  # the process ended: its pins are free again (a sensor alone is not closed)
    again = gateways(start_gateway(tmp_path, config))  # the arm is down
    wait_for(lambda: open_alarms(again, kind) == [], f"the {kind} alarm to clear")
