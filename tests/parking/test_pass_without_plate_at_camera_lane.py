"""A visitor registered at the booth without a plate (it walked up; the guard left the plate empty)
drives in at a lane with a camera and a QR scanner: the camera reads its plate as the driver scans
the pass, two seconds apart, in either order. One car, one passage (README, *How an event flows*;
docs/parking.md, *One car, one passage*): one entry, one stay on the pass with the plate the
camera read, found at the exit on either its plate or its pass, and paid for once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass
from tests.parking.conftest import T0, pay, report_of_t0_day

S = timedelta(seconds=1)
H = timedelta(hours=1)
PLATE = "苏E77777"
STRANGER = "苏E88888"


def _qr_of_pass_without_plate(gw: Gateway) -> str:
    visit = NewPass(
        "visitor",
        "钱七",
        T0 - H,
        T0 + 24 * H,
        host_building="3栋",
        host_unit="2单元",
        occupants=(Occupant("钱七"),),
    )
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1")
    row = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,))
    return str(row.fetchone()[0])


def _show(gw: Gateway, lane: str, kind: str, value: str, at: object) -> AccessEvent:
    device = f"{lane}-camera" if kind == "plate" else f"{lane}-scanner"
    return gw.handle(Presented(lane, kind, value, 0.97, at, device))  # type: ignore[arg-type]


def _entries(gw: Gateway) -> int:
    """Vehicle entries in the daily report of T0's day (periods start at 06:00)."""
    report = report_of_t0_day(gw, T0 + 24 * H)
    return int(report["vehicles"]["entries"]["total"])


def _open_stays(gw: Gateway) -> list[tuple[str, str]]:
    return [tuple(r) for r in gw.conn.execute("SELECT subject, plate FROM stays WHERE exited_at IS NULL")]


def _drive_in(gw: Gateway, qr: str, first: str) -> tuple[AccessEvent, AccessEvent]:
    shown = {"plate": PLATE, "qr": qr}
    second = "qr" if first == "plate" else "plate"
    one = _show(gw, "car-in", first, shown[first], T0)
    two = _show(gw, "car-in", second, shown[second], T0 + 2 * S)
    return one, two


@pytest.mark.parametrize("first", ["plate", "qr"])
def test_a_visitor_on_a_pass_without_a_plate_is_one_car_and_pays_once(
    make_gw: Callable[..., Gateway], first: str
) -> None:
    """In: one entry and one stay, on the pass, carrying the plate the camera read. Three hours
    later at the exit the car is held on its plate, the guard takes the fee, and the driver scans
    the pass as it rolls under the barrier: let through again, not held for a second fee."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    one, two = _drive_in(gw, qr, first)
    assert one.admitted and (two.admitted, two.flags) == (True, ("again",)), (two.reason, two.flags)
    pass_subject = f"visitor:{two.holder_id}"  # the second names the pass either way
    assert _open_stays(gw) == [(pass_subject, PLATE)], "one car: one stay, on its pass, with its plate"
    entries = _entries(gw)
    assert entries == 1, f"one car came in; the daily report counts {entries} entries"

    held = _show(gw, "car-out", "plate", PLATE, T0 + 3 * H)
    assert (held.reason, held.flags) == ("payment_due", ()), (held.reason, held.flags)
    assert pay(gw, PLATE, held.fee_fen, T0 + 3 * H + 30 * S).admitted
    scanned = _show(gw, "car-out", "qr", qr, T0 + 3 * H + 33 * S)
    assert (scanned.admitted, scanned.fee_fen, scanned.flags) == (True, 0, ("again",)), (
        f"paid {held.fee_fen} fen on its plate, then asked {scanned.reason} {scanned.fee_fen} fen on its pass"
    )
    assert _open_stays(gw) == []


@pytest.mark.parametrize("first", ["plate", "qr"])
def test_the_pass_alone_at_the_exit_finds_the_car_let_in_with_its_plate(
    make_gw: Callable[..., Gateway], first: str
) -> None:
    """The exit has only a QR scanner (or its camera missed the car): the pass asks the stay's fee,
    and once paid the car leaves on it, leaving nothing inside."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    _drive_in(gw, qr, first)
    held = _show(gw, "car-out", "qr", qr, T0 + 3 * H)
    assert (held.reason, held.flags) == ("payment_due", ()), (held.reason, held.flags)
    paid = gw.decide_now(
        gw.parking.pay_at_lane(
            "car-out", "", held.fee_fen, "cash", "", "guard1", T0 + 3 * H + 20 * S, held.holder_id
        )
    )
    assert paid.admitted, paid.reason
    assert _open_stays(gw) == []


def test_the_car_behind_is_not_taken_for_the_car_of_a_pass(make_gw: Callable[..., Gateway]) -> None:
    """The visitor's car comes in on its plate and its pass; a stranger's car read 5 s later, behind
    it, is a car of its own: not let through as the visitor's car again, with a stay of its own."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    _, plate = _drive_in(gw, qr, "qr")
    behind = _show(gw, "car-in", "plate", STRANGER, T0 + 5 * S)
    assert (behind.admitted, behind.reason, behind.flags) == (True, "temporary", ()), (
        behind.reason,
        behind.flags,
    )
    stays = sorted(_open_stays(gw), key=str)
    assert stays == [(f"plate:{STRANGER}", STRANGER), (f"visitor:{plate.holder_id}", PLATE)], stays
