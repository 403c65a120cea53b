"""A visitor's car blocked at the booth by its plate ("Block now" on 苏E66666, a car reported stolen,
a driver who threatened a guard) stays out of the car park whichever of its pass's credentials is
shown at a car lane, and is not let out on the pass's QR either, as a resident's card for a blocked
car is not (tests/test_core_vehicle_block.py). The plate was blocked, not the visitor: on foot, the
pass's QR still opens the door, as a resident's card that names a blocked car does."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass, get_pass, state_of
from gateway.store.registry import set_blocked
from tests.parking.conftest import T0, gw, make_gw  # noqa: F401  (fixtures)

M = timedelta(minutes=1)
CAR = "苏E66666"


def _pass(gw: Gateway, plate: str | None = CAR) -> tuple[int, str]:  # noqa: F811
    visit = NewPass(
        "visitor",
        "钱七",
        T0 - 60 * M,
        T0 + timedelta(days=1),
        host_building="3栋",
        host_unit="2单元",
        plate=plate,
        occupants=(Occupant("钱七"),) if plate else (),
    )
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - 60 * M, "guard1")
    row = gw.conn.execute("SELECT value FROM credentials WHERE kind='qr' AND pass_id=?", (pid,)).fetchone()
    return pid, str(row[0])


def _at(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:  # noqa: F811
    return gw.handle(Presented(lane, kind, value, 1.0, at, f"{lane}-reader"))  # type: ignore[arg-type]


def test_a_visitors_car_blocked_by_plate_does_not_come_in_on_the_pass_qr(gw: Gateway) -> None:  # noqa: F811
    _, qr = _pass(gw)
    set_blocked(gw.conn, T0, "guard1", ("plate", CAR), True, "车辆被盗")
    by_plate = _at(gw, "car-in", "plate", CAR, T0 + M)
    assert (by_plate.admitted, by_plate.reason) == (False, "blocked")
    by_qr = _at(gw, "car-in", "qr", qr, T0 + 5 * M)
    assert (by_qr.admitted, by_qr.reason) == (False, "blocked"), (
        f"the blocked car {CAR} came in on its pass's QR: {by_qr.reason}"
    )


def test_a_visitors_car_blocked_while_parked_does_not_leave_on_the_pass_qr(gw: Gateway) -> None:  # noqa: F811
    """docs/parking.md, *Nobody is kept in*: at an exit only a block (or the lane's hours, or a fee)
    keeps the barrier shut; the plate is refused `blocked` at the exit, and so is the QR."""
    _, qr = _pass(gw)
    assert _at(gw, "car-in", "qr", qr, T0).admitted
    set_blocked(gw.conn, T0 + 30 * M, "guard1", ("plate", CAR), True, "公安通报被盗车辆")
    assert _at(gw, "car-out", "plate", CAR, T0 + 60 * M).reason == "blocked"
    out = _at(gw, "car-out", "qr", qr, T0 + 62 * M)
    assert (out.admitted, out.reason) == (False, "blocked"), f"the blocked car left on its QR: {out.reason}"


def test_the_visitor_on_foot_is_not_kept_out_by_the_block_on_her_car(gw: Gateway) -> None:  # noqa: F811
    """The plate was blocked, not the person: her QR at the door lets her in, as a resident's card
    that names a blocked car lets its resident in on foot."""
    _, qr = _pass(gw)
    set_blocked(gw.conn, T0, "guard1", ("plate", CAR), True, "车辆被盗")
    on_foot = _at(gw, "door", "qr", qr, T0 + M)
    assert (on_foot.admitted, on_foot.reason) == (True, "visitor")


def test_the_pass_check_tells_the_guard_its_car_is_blocked(gw: Gateway) -> None:  # noqa: F811
    """The booth's pass check showed the pass as valid (有效) while its car was blocked: it says so
    (vehicle_blocked), and lifting the block makes it valid again."""
    pid, _ = _pass(gw)
    assert state_of(get_pass(gw.conn, pid), T0) == "active"
    set_blocked(gw.conn, T0, "guard1", ("plate", CAR), True, "车辆被盗")
    assert state_of(get_pass(gw.conn, pid), T0 + M) == "vehicle_blocked"
    set_blocked(gw.conn, T0 + 2 * M, "admin", ("plate", CAR), False, "车辆已找回")
    assert state_of(get_pass(gw.conn, pid), T0 + 3 * M) == "active"
    assert _at(gw, "car-in", "plate", CAR, T0 + 4 * M).admitted


def test_a_pass_without_a_plate_is_not_blocked_by_another_cars_block(gw: Gateway) -> None:  # noqa: F811
    """A pass registered on foot names no car: no plate's block is its."""
    pid, qr = _pass(gw, plate=None)
    other, _ = _pass(gw)
    set_blocked(gw.conn, T0, "guard1", ("plate", CAR), True, "车辆被盗")
    assert state_of(get_pass(gw.conn, pid), T0 + M) == "active"
    assert state_of(get_pass(gw.conn, other), T0 + M) == "vehicle_blocked"
    assert _at(gw, "car-in", "qr", qr, T0 + 2 * M).admitted
