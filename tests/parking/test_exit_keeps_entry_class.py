"""A vehicle leaves as the class it came in as: the exit lane's class, or a class an admin corrects
in the register while it is parked, does not change what its exit is counted and sent upstream as."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from tests.parking.conftest import T0, pay, show
from tests.parking.test_operations import ops
from tests.parking.test_vehicle_class import MOTORCYCLE_LANES

H = timedelta(hours=1)


@pytest.fixture
def moto_gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw(extra=MOTORCYCLE_LANES)


def vehicles_report(gw: Gateway) -> dict[str, dict[str, dict[str, int]]]:
    return ops(gw).build_report(T0.date(), T0 + 48 * H)["vehicles"]  # type: ignore[no-any-return]


def test_motorcycle_leaving_by_the_car_exit_is_counted_as_a_motorcycle(moto_gw: Gateway) -> None:
    """An unregistered motorcycle comes in at the motorcycle lane and leaves by the car exit (the
    estate's one exit barrier): it pays 1元 as a motorcycle, and the daily report counts a motorcycle
    leaving, not a car, so its exits by class match its entries."""
    gw = moto_gw
    assert show(gw, "moto-in", "苏E12345", T0).vehicle_class == "motorcycle"
    held = show(gw, "car-out", "苏E12345", T0 + 2 * H)
    assert (held.reason, held.fee_fen, held.vehicle_class) == ("payment_due", 100, "motorcycle")
    assert pay(gw, "苏E12345", 100, T0 + 2 * H).admitted
    vehicles = vehicles_report(gw)
    assert vehicles["entries"]["by_class"]["motorcycle"] == 1
    assert vehicles["exits"]["by_class"] == vehicles["entries"]["by_class"]


def test_motorcycle_exit_by_the_car_lane_is_sent_upstream_as_a_motorcycle(moto_gw: Gateway) -> None:
    """The central server's access record of that exit names a motorcycle, as its entry did."""
    gw = moto_gw
    show(gw, "moto-in", "苏E12345", T0)
    show(gw, "car-out", "苏E12345", T0 + 2 * H)
    out = pay(gw, "苏E12345", 100, T0 + 2 * H)
    row = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'access' AND event_id = ?", (out.event_id,)
    ).fetchone()
    assert json.loads(row[0])["vehicle"]["class"] == "motorcycle"


def test_class_corrected_while_parked_leaves_as_it_came_in(moto_gw: Gateway) -> None:
    """R2's car parks on its slot; an admin corrects its class in the register to motorcycle while
    it is parked. The stay and the space it frees are a car's, and so is its exit in the report: the
    new class counts from its next entry."""
    gw = moto_gw
    assert show(gw, "car-in", "皖B33333", T0).reason == "resident"
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = '皖B33333'").fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"class": "motorcycle"})
    out = show(gw, "car-out", "皖B33333", T0 + 2 * H)
    assert (out.admitted, out.vehicle_class) == (True, "car")
    vehicles = vehicles_report(gw)
    assert vehicles["exits"]["by_class"] == vehicles["entries"]["by_class"]
    assert show(gw, "car-in", "皖B33333", T0 + 3 * H).vehicle_class == "motorcycle"
