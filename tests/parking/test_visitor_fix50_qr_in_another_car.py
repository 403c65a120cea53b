"""A visitor whose pass has her own car's plate arrives in another car (a friend's, a taxi) at an
entrance with a camera and a QR scanner: the camera reads that car as she scans her pass, 2 s
apart, in either order. One car, one passage (docs/parking.md, *One car, one passage*): one entry,
one stay on the pass carrying the plate the camera read, never the pass's plate of a car that did
not come; found at the exit on that plate, paid for once, and the pass's own car free to come later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass, get_pass
from tests.parking.conftest import T0, pay, report_of_t0_day

S = timedelta(seconds=1)
H = timedelta(hours=1)
PASS_PLATE = "苏E99999"  # registered on the pass; not the car she comes in
CAR = "苏E77777"  # the car she actually arrives in
STRANGER = "苏E88888"


def _qr_of_pass_with_plate(gw: Gateway) -> str:
    visit = NewPass(
        "visitor",
        "钱七",
        T0 - H,
        T0 + 24 * H,
        host_building="3栋",
        host_unit="2单元",
        plate=PASS_PLATE,
        occupants=(Occupant("钱七"),),
    )
    return str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])


def _show(gw: Gateway, lane: str, kind: str, value: str, at: object) -> AccessEvent:
    device = f"{lane}-camera" if kind == "plate" else f"{lane}-scanner"
    return gw.handle(Presented(lane, kind, value, 0.97, at, device))  # type: ignore[arg-type]


def _open_stays(gw: Gateway) -> list[tuple[str, str]]:
    return [tuple(r) for r in gw.conn.execute("SELECT subject, plate FROM stays WHERE exited_at IS NULL")]


def _drive_in(gw: Gateway, qr: str, first: str) -> tuple[AccessEvent, AccessEvent]:
    shown = {"plate": CAR, "qr": qr}
    second = "qr" if first == "plate" else "plate"
    one = _show(gw, "car-in", first, shown[first], T0)
    return one, _show(gw, "car-in", second, shown[second], T0 + 2 * S)


@pytest.mark.parametrize("first", ["plate", "qr"])
def test_one_car_through_the_entrance_is_one_car_inside(gw: Gateway, first: str) -> None:
    """One car drives through the entrance: its plate read and the visitor's QR scanned 2 s apart.
    The gateway recorded two cars inside: the car read (temporary) and 苏E99999, the pass's car,
    which never came (a phantom on the cars-inside list, a space taken, two entries in the daily
    report, a stay that never closes). One car, one stay on the pass, with the plate read."""
    qr = _qr_of_pass_with_plate(gw)
    one, two = _drive_in(gw, qr, first)
    assert one.admitted and (two.admitted, two.flags) == (True, ("again",)), (two.reason, two.flags)
    inside = _open_stays(gw)
    entries = report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["entries"]["total"]
    assert len(inside) == 1, f"one car came in, {len(inside)} inside: {inside}; entries counted {entries}"
    assert inside == [(f"visitor:{two.holder_id}", CAR)], "on the pass, with the plate the camera read"
    assert entries == 1, f"one car came in; the daily report counts {entries} entries"


@pytest.mark.parametrize("first", ["plate", "qr"])
def test_the_car_leaves_on_its_plate_and_the_pass_car_may_come_later(
    make_gw: Callable[..., Gateway], first: str
) -> None:
    """At the exit the car is held on the plate read, and the visitor scanning her pass as it waits
    is that hold again (one hold in the report, not a second one on the pass's plate); it pays
    once and leaves nothing inside. The car registered with the pass, arriving afterwards, is let
    in as the visitor's, not refused or taken as a car recorded inside already."""
    gw = make_gw()
    qr = _qr_of_pass_with_plate(gw)
    _drive_in(gw, qr, first)
    held = _show(gw, "car-out", "plate", CAR, T0 + 3 * H)
    assert (held.reason, held.flags) == ("payment_due", ()), (held.reason, held.flags)
    scanned = _show(gw, "car-out", "qr", qr, T0 + 3 * H + 5 * S)
    assert (scanned.reason, scanned.fee_fen) == ("payment_due", held.fee_fen), scanned.fee_fen
    assert pay(gw, CAR, held.fee_fen, T0 + 3 * H + 30 * S).admitted
    assert _open_stays(gw) == []
    holds = report_of_t0_day(gw, T0 + 24 * H)["held_for_payment"]
    assert holds == 1, f"one car held at the exit, counted {holds} times"
    later = _show(gw, "car-in", "plate", PASS_PLATE, T0 + 4 * H)
    assert (later.admitted, later.reason, later.flags) == (True, "visitor", ()), (later.reason, later.flags)


def test_the_car_behind_the_pass_car_is_not_taken_for_it(gw: Gateway) -> None:
    """The pass's own car comes in on its plate, the visitor scanning her pass with it; a stranger's
    car read 5 s later, behind it, is a car of its own with a stay of its own: the pass's car is
    known (its plate was read in its passage), and keeps its stay and plate."""
    qr = _qr_of_pass_with_plate(gw)
    own = _show(gw, "car-in", "plate", PASS_PLATE, T0)
    scanned = _show(gw, "car-in", "qr", qr, T0 + 2 * S)
    assert (own.reason, scanned.flags) == ("visitor", ("again",)), (own.reason, scanned.flags)
    behind = _show(gw, "car-in", "plate", STRANGER, T0 + 5 * S)
    assert (behind.admitted, behind.reason, behind.flags) == (True, "temporary", ()), behind.flags
    stays = sorted(_open_stays(gw), key=str)
    assert stays == [(f"plate:{STRANGER}", STRANGER), (f"visitor:{own.holder_id}", PASS_PLATE)], stays
