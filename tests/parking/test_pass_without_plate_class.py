"""A visitor's pass without a plate registered no vehicle: whatever its QR brings in at a vehicle
lane is counted and billed as the lane's class (docs/config.md, lanes.vehicle_class)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_vehicle_class import MOTORCYCLE_LANES, registered_at_the_booth

H = timedelta(hours=1)


@pytest.fixture
def moto_gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw(extra=MOTORCYCLE_LANES)


def qr_of_pass_without_plate(gw: Gateway) -> str:
    """A visitor registered at the booth without a plate (the form takes a class only with one)."""
    pid = registered_at_the_booth(gw)
    row = gw.conn.execute("SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'", (pid,))
    return str(row.fetchone()[0])


def scan(gw: Gateway, lane: str, qr: str, hours: int) -> Presented:
    return Presented(lane, "qr", qr, 1.0, T0 + hours * H, "scanner")


def test_pass_without_plate_at_the_motorcycle_lane_is_a_motorcycle(moto_gw: Gateway) -> None:
    """A visitor rides in through the motorcycle lane on a pass's QR: counted as a motorcycle, in a
    motorcycle space, not in a car space."""
    qr = qr_of_pass_without_plate(moto_gw)
    ev = moto_gw.handle(scan(moto_gw, "moto-in", qr, 0))
    assert (ev.admitted, ev.vehicle_class) == (True, "motorcycle"), ev.reason
    row = moto_gw.conn.execute("SELECT class FROM stays WHERE entry_event = ?", (ev.event_id,))
    assert row.fetchone()[0] == "motorcycle"


def test_pass_without_plate_at_the_motorcycle_lane_pays_the_motorcycle_price(moto_gw: Gateway) -> None:
    """Two hours later at the motorcycle exit it pays 1元 (a day begun), not the car tariff's 7元."""
    qr = qr_of_pass_without_plate(moto_gw)
    assert moto_gw.handle(scan(moto_gw, "moto-in", qr, 0)).admitted
    held = moto_gw.handle(scan(moto_gw, "moto-out", qr, 2))
    assert (held.reason, held.fee_fen) == ("payment_due", 100)


def test_pass_without_plate_at_a_car_lane_is_a_car(moto_gw: Gateway) -> None:
    """The same pass at the car lane is a car, as any vehicle nobody registered there."""
    qr = qr_of_pass_without_plate(moto_gw)
    assert moto_gw.handle(scan(moto_gw, "car-in", qr, 0)).vehicle_class == "car"
