"""Review 57e: at a vehicle exit whose barrier contact is wired, the relay takes the exit's pulse
but the arm never rises (the barrier controller without power, its motor jammed, the relay wired
to the wrong terminal). Judged by the relay alone, the car was out on record at a shut arm (its
stay closed, its space free), greeted 一路平安, and nobody told. Now the pulse counts as taken only
once the contact opens within `rise_within_s`: else the lane says 道闸故障 请联系保安, a
`barrier_no_response` alarm is raised, and the car is put back on its stay as when the relay does
not take the pulse. Real gpio driver on gpiozero mock pins, real gateway and SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero import Device as GpioBase
from gpiozero.pins.mock import MockFactory

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.rush_helpers import parking_gw

CAR = "皖B33333"  # R2's car on its own slot B002
OTHER = "皖A11111"  # R1's, on B001: both leave free

EXIT_IO = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-out-io"
lane = "car-out"
kind = "relay"
driver = "gpio"
pin = 17
inputs = { barrier_open = 6 }
bounce_s = 0
rise_within_s = 1.5
"""


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    GpioBase.pin_factory = factory
    yield factory
    factory.reset()
    GpioBase.pin_factory = None


def _query(gw: Gateway, sql: str) -> list[tuple[object, ...]]:
    return gw.on_worker(lambda c: c.execute(sql).fetchall()).result(10)


# The cars came in a while before they leave: read at the exit within 10 s of its entry, a car is
# the entrance lane's, seen by the exit camera beside it (Review 62c), and no exit at all.
CAME_IN_BEFORE = timedelta(minutes=1)


def _decide(gw: Gateway, lane: str, plate: str = CAR) -> bool:
    at = gw.now() - (CAME_IN_BEFORE if lane == "car-in" else timedelta(0))
    ev = gw.on_worker(lambda c: gw.handle(Presented(lane, "plate", plate, 0.99, at, f"{lane}-camera")))
    return ev.result(10).admitted


def _settled(gw: Gateway) -> None:
    time.sleep(2.5)  # past rise_within_s (1.5 s)
    gw.on_worker(lambda c: None).result(10)


OPEN_STAY = f"SELECT id FROM stays WHERE plate = '{CAR}' AND exited_at IS NULL"
ALARMS = "SELECT kind, source FROM alarms WHERE cleared_at IS NULL"


def test_an_exit_whose_arm_never_rose_keeps_the_car_inside_and_tells_the_guard(
    tmp_path: Path, mock_pins: MockFactory
) -> None:
    gw = parking_gw(tmp_path, extra=EXIT_IO)
    gw.start()
    try:
        relay_pin, contact = mock_pins.pin(17), mock_pins.pin(6)
        assert _decide(gw, "car-in")
        assert _decide(gw, "car-out")
        assert relay_pin.state, "the relay took the pulse"
        _settled(gw)
        assert contact.state  # pulled up: the arm stayed down
        assert _query(gw, OPEN_STAY), "the car is still inside on record"
        assert _query(gw, ALARMS) == [("barrier_no_response", "car-out")]
        shown = gw.devices.lanes["car-out"].displays[0].shown[-1]  # type: ignore[attr-defined]
        assert "道闸故障" in "".join(shown), shown
        # Mended: the next exit's arm rises, the car leaves and the alarm clears.
        assert _decide(gw, "car-out")
        contact.drive_low()
        contact.drive_high()
        _settled(gw)
        assert _query(gw, OPEN_STAY) == []
        assert _query(gw, ALARMS) == []
    finally:
        gw.stop()


def test_an_arm_that_rises_or_is_up_already_lets_the_car_out_as_before(
    tmp_path: Path, mock_pins: MockFactory
) -> None:
    gw = parking_gw(tmp_path, extra=EXIT_IO)
    gw.start()
    try:
        contact = mock_pins.pin(6)
        for plate in (CAR, OTHER):
            assert _decide(gw, "car-in", plate)
        assert _decide(gw, "car-out")
        time.sleep(0.5)
        contact.drive_low()  # the arm rises, in time
        assert _decide(gw, "car-out", OTHER)  # nose to tail, the arm still up: nothing to wait for
        _settled(gw)
        contact.drive_high()
        assert _query(gw, "SELECT plate FROM stays WHERE exited_at IS NULL") == []
        assert _query(gw, ALARMS) == []
        shown = gw.devices.lanes["car-out"].displays[0].shown[-1]  # type: ignore[attr-defined]
        assert "道闸故障" not in "".join(shown), shown
    finally:
        gw.stop()
