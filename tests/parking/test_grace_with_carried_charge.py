"""A car within its booth payment's grace period that still owes a charge carried from a missed
exit (docs/parking.md, *At the exit lane*, *Paying ahead at the booth*, *Misread plates*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"


def test_fee_taken_at_the_lane_within_the_booth_grace_lets_the_car_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """Policy reentry = "charge". 苏E12345 comes in at 09:00 and, its exit missed, again at 12:00:
    the 09:00 stay's 9元 is carried. The guard corrects the 12:00 reading to 苏E12346 (the charge
    undone, the 09:00 stay open again), the driver pays the 11元 the booth asks at 13:00, and the
    guard corrects the entry back (the 9元 charge stands again, unpaid; the 11元 now on the 12:00
    stay, paid up to 13:00). Out at 13:05, within the booth payment's 15 minutes, the car is held
    for what it still owes: the 12:00 stay to 13:00 (5元) and the 9元, less the 11元: 3元. The
    guard takes those 3元 at the lane (收费放行) at 13:06 and the barrier opens: the car is not
    refused again for the time from 13:00 to the hold, which the booth payment's grace covers, nor
    is the 3元 undone ("its fee was not taken") with the car stuck at the barrier."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, 1100, "qr", "WX4300011", "guard1", T0 + 4 * H)
    correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    held = show(gw, "car-out", REAL, T0 + 4 * H + 5 * M)
    assert (held.reason, held.fee_fen) == ("payment_due", 300)
    out = pay(gw, REAL, 300, T0 + 4 * H + 6 * M)
    assert out.admitted, (
        f"the 3元 taken at the lane is refused again: {out.reason}, asked {out.fee_fen / 100:.0f}元"
    )


def test_the_rest_paid_at_the_booth_within_the_grace_lets_the_car_out(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same car pays the 3元 the booth asks at 13:05 instead (the 12:00 stay paid up to 13:00
    by the 11元, within its grace) and drives out at 13:10: it owes nothing more, and the barrier
    opens, rather than holding it for the time from 13:00 to 13:05 that the first payment's grace
    covered."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, 1100, "qr", "WX4300012", "guard1", T0 + 4 * H)
    correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    assert gw.parking.quote(gw.conn, REAL, T0 + 4 * H + 5 * M)["due_fen"] == 300
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, 300, "cash", "", "guard1", T0 + 4 * H + 5 * M)
    out = show(gw, "car-out", REAL, T0 + 4 * H + 10 * M)
    assert (out.admitted, out.fee_fen) == (True, 0), (out.reason, out.fee_fen)
