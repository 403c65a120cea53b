"""A visitor on a pass registered without a plate came in at a lane with a camera: its stay is on
the pass and carries the plate the camera read (docs/parking.md, *One car, one passage*). At the
exit the camera holds it to pay on that plate, and while it waits the driver scans the pass too.
That is one car and one hold, by its plate: the scan asks the fee of the hold, the guard's quote
names the plate and that fee, and the day's report counts one car held. Keyed apart (the plate,
and the pass's QR), the car was two holds: the quote named the later one, and its fee ran from it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, report_of_t0_day
from tests.parking.test_pass_without_plate_at_camera_lane import (
    PLATE,
    _drive_in,
    _qr_of_pass_without_plate,
    _show,
)

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_pass_car_held_on_its_plate_then_scanning_its_pass_is_one_hold(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    _drive_in(gw, qr, "plate")
    held = _show(gw, "car-out", "plate", PLATE, T0 + 3 * H - 2 * M)
    assert held.reason == "payment_due", held
    scanned = _show(gw, "car-out", "qr", qr, T0 + 3 * H + 2 * M)  # past the hour: a later hold pays more
    quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + 3 * H + 3 * M)
    assert (scanned.reason, scanned.fee_fen) == ("payment_due", held.fee_fen), (
        scanned.reason,
        scanned.fee_fen,
    )
    assert quote is not None
    assert (quote["plate"], quote["due_fen"]) == (PLATE, held.fee_fen), quote
    assert pay(gw, PLATE, held.fee_fen, T0 + 3 * H + 4 * M).admitted
    report = report_of_t0_day(gw, T0 + 4 * H)
    assert report["held_for_payment"] == 1, report["held_for_payment"]


def test_a_pass_car_held_on_its_pass_is_paid_for_by_its_pass_at_the_fee_of_its_hold(
    make_gw: Callable[..., Gateway],
) -> None:
    """At an exit with only a QR scanner the car is held on its pass; the guard takes the fee a few
    minutes later, past the hour, naming the car by its pass: the fee of the hold is taken."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    _drive_in(gw, qr, "plate")
    held = _show(gw, "car-out", "qr", qr, T0 + 3 * H - 2 * M)
    assert held.reason == "payment_due", held
    take = gw.parking.pay_at_lane(
        "car-out", "", held.fee_fen, "cash", "", "guard1", T0 + 3 * H + 2 * M, held.holder_id
    )
    assert gw.decide_now(take).admitted
