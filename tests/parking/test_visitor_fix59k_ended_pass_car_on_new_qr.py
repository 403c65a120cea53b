"""Yesterday's visitor back today in the same car on a new pass registered on foot. Review 59k.

Her plate is still on yesterday's (ended) pass: the camera refuses it `expired`, she scans the new
QR 2 s later and the barrier opens. The stay was opened with no plate (the plate refused a moment
before was not taken as the pass's car, as a plate nobody registered is: docs/parking.md, "a plate
nobody registered and a pass's QR shown within 10 s ... are one car on the pass"), so the car parked
five hours and left free, flagged no_entry_record, and the plateless stay stayed open for good.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from tests.parking.conftest import T0, pay

S = timedelta(seconds=1)
H = timedelta(hours=1)
CAR = "苏E99999"


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def _passes(gw: Gateway, start: datetime, end: datetime) -> str:
    """Yesterday's pass with her car's plate, and today's registered on foot: today's QR."""
    yesterday = NewPass(
        "visitor", "钱七", start - 30 * H, start - 20 * H, host_building="3栋", host_unit="2单元", plate=CAR
    )
    create_pass(gw.conn, gw.secrets, yesterday, start - 30 * H, "guard1")
    today = NewPass("visitor", "钱七", start - H, end, host_building="5栋", host_unit="1单元")
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, today, start - H, "guard1"))["qr"])


def test_car_of_an_ended_pass_let_in_on_a_new_qr_is_listed_and_pays(gw: Gateway) -> None:
    qr = _passes(gw, T0, T0 + 8 * H)
    assert _show(gw, "car-in", "plate", CAR, T0).reason == "expired"
    came_in = _show(gw, "car-in", "qr", qr, T0 + 2 * S)
    assert (came_in.admitted, came_in.reason) == (True, "visitor")
    assert [s["plate"] for s in open_stays(gw.conn)] == [CAR]

    held = _show(gw, "car-out", "plate", CAR, T0 + 5 * H)
    assert (held.reason, held.flags) == ("payment_due", ()), (held.reason, held.flags, held.fee_fen)
    assert held.fee_fen > 0
    assert pay(gw, CAR, held.fee_fen, T0 + 5 * H + 30 * S).admitted
    assert open_stays(gw.conn) == []


def test_the_car_behind_a_refused_car_of_an_ended_pass_is_its_own(gw: Gateway) -> None:
    """Later than 10 s the QR is decided alone: the refused car drove off, another came."""
    qr = _passes(gw, T0, T0 + 8 * H)
    assert _show(gw, "car-in", "plate", CAR, T0).reason == "expired"
    came_in = _show(gw, "car-in", "qr", qr, T0 + 30 * S)
    assert (came_in.admitted, came_in.reason) == (True, "visitor")
    assert [s["plate"] for s in open_stays(gw.conn)] == [None]


def test_qr_first_then_the_plate_of_the_ended_pass_is_one_car(gw: Gateway) -> None:
    """The other order: she scans the new QR as the camera reads her car."""
    qr = _passes(gw, T0, T0 + 8 * H)
    assert _show(gw, "car-in", "qr", qr, T0).admitted
    plate = _show(gw, "car-in", "plate", CAR, T0 + 2 * S)
    assert (plate.admitted, plate.reason, plate.flags) == (True, "visitor", ("again",))
    assert [s["plate"] for s in open_stays(gw.conn)] == [CAR]
    held = _show(gw, "car-out", "plate", CAR, T0 + 5 * H)
    assert (held.reason, held.flags) == ("payment_due", ()), (held.reason, held.flags)
