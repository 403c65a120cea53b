"""A visitor's pass registered with her own car's plate; that car is inside already on its plate."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, Occupant, create_pass, get_pass
from tests.parking.conftest import T0

S = timedelta(seconds=1)
H = timedelta(hours=1)
PASS_PLATE = "苏E99999"  # registered on the pass: her own car
CAR = "苏E77777"  # the taxi she arrives in later


def _qr_of_pass_with_plate(gw: Gateway) -> str:
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 24 * H, host_building="3栋", host_unit="2单元",
        plate=PASS_PLATE, occupants=(Occupant("钱七"),),
    )
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    device = f"{lane}-camera" if kind == "plate" else f"{lane}-scanner"
    return gw.handle(Presented(lane, kind, value, 0.97, at, device))  # type: ignore[arg-type]


def test_a_taxi_with_the_pass_while_the_pass_car_is_inside_does_not_erase_that_car(gw: Gateway) -> None:
    """苏E99999, the car on the visitor's pass, came in at 09:00 on its plate (the camera read it).
    At 10:00 the visitor arrives by taxi 苏E77777 and scans her QR, the camera reading the taxi 2 s
    later. The cars-inside list then shows only the taxi: 苏E99999, still parked, is gone from it
    (its stay closed, its space free), because the pass's car counts as 'not known' when its stay
    carries the pass's own plate. docs/parking.md: once a pass's car is known (its stay carries a
    plate the camera read) the next plate read is a car of its own: both cars are listed inside."""
    qr = _qr_of_pass_with_plate(gw)
    own = _show(gw, "car-in", "plate", PASS_PLATE, T0)
    assert (own.admitted, own.reason) == (True, "visitor"), own.reason
    _show(gw, "car-in", "qr", qr, T0 + H)
    taxi = _show(gw, "car-in", "plate", CAR, T0 + H + 2 * S)
    inside = sorted(s["plate"] for s in open_stays(gw.conn))
    assert inside == sorted([PASS_PLATE, CAR]), (
        f"two cars parked (苏E99999 since 09:00, the taxi since 10:00); cars inside lists {inside} "
        f"(taxi decided {taxi.reason} flags={taxi.flags})"
    )
