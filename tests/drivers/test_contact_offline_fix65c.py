"""Review 65c: a barrier contact on a module of its own (a Modbus input module) that goes offline
while the arm is up, or while a door stands open. The arm comes down, the door shuts, unseen. The
gateway believed it still up until the module came back (hours later, once repaired): every car
refused or held at that exit that backed off the loop (to pay at the booth, or turned away) raised
跟车通过 (tailgate), and the door raised 长时间未关 (held_open) though it had long shut. Like a loop
whose module went offline, a contact whose module went offline no longer counts; its first report
once back does (docs/hardware.md)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drivers.health import DeviceHealth
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import LaneInputs
from gateway.store.database import open_database
from tests.drivers.conftest import wait_for
from tests.rush_helpers import parking_gw

RESIDENT = "皖B33333"  # R2's car, on its own slot: leaves free
STRANGERS = ["苏E55555", "苏E66666", "苏E77777"]  # temporary cars in for 2 hours: held to pay
LOOP, CONTACT = "car-out-loop", "car-out-contact"  # the loop detector and the contact's module


@pytest.fixture
def exit_lane(tmp_path: Path) -> Iterator[Gateway]:
    """The parking site started, the resident and the strangers in for two hours, the resident
    let out at the exit: the arm up for it, and the car off the loop."""
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        for plate in (RESIDENT, *STRANGERS):
            assert _decide(gw, "car-in", plate, gw.now() - timedelta(hours=2)).admitted
        io = gw.lane_io
        io.car_present("car-out", LOOP, True)
        assert _decide(gw, "car-out", RESIDENT).admitted
        io.barrier("car-out", CONTACT, True)
        io.car_present("car-out", LOOP, False)
        yield gw
    finally:
        gw.stop()


def _decide(gw: Gateway, lane: str, plate: str, at: datetime | None = None) -> AccessEvent:
    p = Presented(lane, "plate", plate, 0.99, at or gw.now(), f"{lane}-camera")
    return gw.on_worker(lambda c: gw.handle(p)).result(10)


def _held_backs_off(gw: Gateway, plate: str) -> None:
    """`plate` drives onto the exit's loop, is held to pay, and leaves the loop (backed off, or
    through under an arm that is up)."""
    gw.lane_io.car_present("car-out", LOOP, True)
    assert _decide(gw, "car-out", plate).reason == "payment_due"
    time.sleep(0.2)
    gw.lane_io.car_present("car-out", LOOP, False)
    time.sleep(1.1)  # a car at a time: a tailgate's source is the lane and the second


def _alarms(gw: Gateway, kind: str) -> list[str]:
    gw.on_worker(lambda c: None).result(10)  # what the lane raised is written by now
    with sqlite3.connect(gw.db_path) as conn:
        return [r[0] for r in conn.execute("SELECT source FROM alarms WHERE kind = ?", (kind,))]


def test_cars_held_under_an_arm_last_seen_up_by_an_offline_module_are_no_tailgates(
    exit_lane: Gateway,
) -> None:
    gw = exit_lane
    gw.lane_io.device_offline("car-out", CONTACT)  # the arm comes down unseen behind the resident
    for plate in STRANGERS:
        _held_backs_off(gw, plate)  # to pay at the booth
    assert _alarms(gw, "tailgate") == []


def test_a_contact_back_still_open_is_the_arm_up_again(exit_lane: Gateway) -> None:
    """A module that missed a poll or two, the arm still up: its first report once back is no new
    opening (no forced_open), and a held car that then drives through under it is a tailgate."""
    gw = exit_lane
    gw.lane_io.device_offline("car-out", CONTACT)
    gw.lane_io.barrier("car-out", CONTACT, True)  # its first poll once back: still up
    _held_backs_off(gw, STRANGERS[0])  # through under the arm raised for the resident
    assert _alarms(gw, "forced_open") == []
    assert len(_alarms(gw, "tailgate")) == 1


def test_a_contact_back_closed_judges_nothing(exit_lane: Gateway) -> None:
    gw = exit_lane
    gw.lane_io.device_offline("car-out", CONTACT)
    gw.lane_io.barrier("car-out", CONTACT, False)  # its first poll once back: down
    _held_backs_off(gw, STRANGERS[0])
    assert _alarms(gw, "tailgate") == [] and _alarms(gw, "forced_open") == []


HELD_OPEN_S = 0.3
HELD_OPEN = "SELECT source, cleared_at FROM alarms WHERE kind = 'held_open'"


@pytest.fixture
def door(tmp_path: Path) -> Iterator[tuple[LaneInputs, Callable[[], list[tuple[str, Any]]]]]:
    """A door whose contact is on a module of its own, open for someone let through."""
    conn = open_database(tmp_path / "gateway.db").conn

    def on_worker(fn: Callable[[Any], Any]) -> Future[Any]:
        done: Future[Any] = Future()
        done.set_result(fn(conn))
        return done

    health = DeviceHealth("door-contact", "sensor", "door", "modbus")
    devices = Devices(
        lanes={"door": LaneDevices()},
        health=[health],
        held_open_s={"door": HELD_OPEN_S},
        barrier_contacts={"door"},
        doors={"door"},
    )
    inputs = LaneInputs(devices, on_worker, lambda: datetime.now(UTC))
    inputs.start()
    try:
        inputs.opening("door")  # a card let someone through
        inputs.barrier("door", "door-contact", True)
        yield inputs, lambda: conn.execute(HELD_OPEN).fetchall()
    finally:
        inputs.stop()
        conn.close()


def test_a_door_whose_contact_module_went_offline_is_not_held_open(door: Any) -> None:
    inputs, held_open = door
    inputs.device_offline("door", "door-contact")  # the door shuts behind her, unseen
    time.sleep(HELD_OPEN_S * 4)
    assert held_open() == []
    inputs.barrier("door", "door-contact", False)  # its first poll once back: shut
    assert held_open() == []


def test_a_door_still_open_when_its_contact_module_is_back_is_held_open(door: Any) -> None:
    inputs, held_open = door
    inputs.device_offline("door", "door-contact")
    inputs.barrier("door", "door-contact", True)  # its first poll once back: propped open
    wait_for(lambda: held_open() == [("door", None)], "the held-open alarm")
