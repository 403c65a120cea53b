"""A temporary driver says he paid at the booth by WeChat and was asked again at the barrier.

The entrance camera misread his plate (苏E12345 read as 苏E12346). At the booth the guard found the
car on the open stays list under the plate the gateway had (苏E12346) and took the fee ahead by
QR. At the exit the camera reads the real plate; the guard sees the entry was a misread and
corrects it (docs/guard-app.md, *Correcting a misread plate*: "a temporary car's stay opened under
the misread plate moves onto the corrected one, so the car is found at the exit and pays for its
stay"). docs/parking.md, *Money follows the car*: a stay's booth payment moves with it "so it is
not asked to pay twice at the exit"; *Paying ahead at the booth*: "the car then has
parking.grace_minutes to leave without paying more".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def _prepaid_under_the_misread_plate(gw: Gateway) -> tuple[str, int]:
    came = show(gw, "car-in", MISREAD, T0)
    assert came.admitted and came.reason == "temporary"
    due = gw.parking.quote(gw.conn, MISREAD, T0 + 2 * H)["due_fen"]
    assert due > 0
    with gw.conn:
        paid = gw.parking.prepay(gw.conn, MISREAD, due, "qr", "WX4200001", "guard1", T0 + 2 * H)
    assert paid["amount_fen"] == due
    return came.event_id, due


def test_booth_payment_follows_the_stay_when_its_entry_plate_is_corrected(
    make_gw: Callable[..., Gateway],
) -> None:
    """Paid 7元 ahead at 11:00 under the plate the gateway had; at 11:05 the guard corrects the
    misread entry to 苏E12345 and the car, read as 苏E12345, leaves within the grace period. The
    driver expects the barrier to open (he paid); instead the exit holds him for the whole fee
    again for the whole stay (payment_due 9元, nothing of the 7元 counted): the booth payment
    stayed with the misread plate."""
    gw = make_gw()
    entry, due = _prepaid_under_the_misread_plate(gw)
    correct_plate(gw.conn, entry, REAL, "guard1", T0 + 2 * H + 4 * M)
    out = show(gw, "car-out", REAL, T0 + 2 * H + 5 * M)
    assert out.admitted and not out.fee_fen, (
        f"paid {due} fen at the booth, asked again: {out.reason} {out.fee_fen} fen"
    )


def test_the_days_report_does_not_keep_the_booth_payment_as_paid_by_a_car_still_inside(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same driver, once the guard took the fee a second time to let him out: the accountant's
    report of the day should show the car's stay charged and paid, with nothing paid ahead by a
    car not seen leaving. The first payment is counted for ever as paid ahead by a car that never
    left (paid_ahead_not_left_fen), and the money stands against no charge."""
    gw = make_gw()
    entry, due = _prepaid_under_the_misread_plate(gw)
    correct_plate(gw.conn, entry, REAL, "guard1", T0 + 2 * H + 4 * M)
    out = show(gw, "car-out", REAL, T0 + 2 * H + 5 * M)
    if not out.admitted:  # asked again: the guard takes it to clear the lane
        taken = gw.parking.pay_at_lane("car-out", REAL, out.fee_fen or 0, "cash", "", "guard1", out.at + M)
        assert gw.decide_now(taken).admitted
    unlinked = gw.conn.execute("SELECT count(*) FROM payments WHERE charge_id IS NULL").fetchone()[0]
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert (unlinked, report["parking"]["paid_ahead_not_left_fen"]) == (0, 0), (
        unlinked,
        report["parking"],
    )


def test_booth_payment_follows_the_stay_when_the_entry_is_corrected_back(gw: Gateway) -> None:
    """苏E12345 comes in at 09:00 and, its exit missed, again at 12:00 (already inside). The guard
    takes the 12:00 reading for a misread and corrects it to 苏E12346; at the booth the driver pays
    ahead at 13:00 for the stay the gateway now has under 苏E12346; at 13:04 the guard sees the
    camera was right and corrects the entry back to 苏E12345. The car, read as 苏E12345 at 13:05,
    leaves within its grace period free: its booth payment moved back with its stay."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    due = gw.parking.quote(gw.conn, MISREAD, T0 + 4 * H)["due_fen"]
    assert due > 0
    with gw.conn:
        gw.parking.prepay(gw.conn, MISREAD, due, "qr", "WX4200002", "guard1", T0 + 4 * H)
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 4 * M)
    assert again.stay_moved and again.taken_back is not None
    out = show(gw, "car-out", REAL, T0 + 4 * H + 5 * M)
    assert out.admitted and not out.fee_fen, (
        f"paid {due} fen at the booth, asked again: {out.reason} {out.fee_fen} fen"
    )
    unlinked = gw.conn.execute("SELECT count(*) FROM payments WHERE charge_id IS NULL").fetchone()[0]
    assert unlinked == 0
