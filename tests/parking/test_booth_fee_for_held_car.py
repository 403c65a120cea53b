"""A car held at the exit barrier to pay, whose driver walks to the booth (or a kiosk) and pays
there: the booth asks the fee the lane display showed, the one the exit charges when the camera
lets the car out on that hold, so what was taken and what was charged are one amount in the day's
report."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
S = timedelta(seconds=1)


def _money(gw: Gateway) -> tuple[int, int]:
    taken = gw.conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM payments").fetchone()[0]
    charged = gw.conn.execute("SELECT coalesce(sum(amount_fen), 0) FROM charges").fetchone()[0]
    return taken, charged


def test_a_fee_taken_at_the_booth_for_a_car_held_at_the_barrier_matches_its_charge(gw: Gateway) -> None:
    """The lane display says 7元 at 10:59:30; the driver pays at the booth at 11:00:30, after the
    next period began. The booth asks 7元, not 9元, and the car let out on its hold is charged 7元."""
    show(gw, "car-in", "苏E12345", T0)  # 09:00
    held = show(gw, "car-out", "苏E12345", T0 + 2 * H - 30 * S)  # 10:59:30
    assert (held.reason, held.fee_fen) == ("payment_due", 700)  # 临时车 请缴费 7元
    at_booth = T0 + 2 * H + 30 * S
    asked = gw.parking.quote(gw.conn, "苏E12345", at_booth)
    assert (asked["due_fen"], asked["charged_until"]) == (700, held.at.isoformat())
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", at_booth)
    out = show(gw, "car-out", "苏E12345", at_booth + 5 * S)  # the camera decides the standing car again
    assert (out.admitted, out.fee_fen) == (True, 0)
    assert _money(gw) == (700, 700)


def test_a_car_that_backed_away_from_the_barrier_long_ago_pays_to_now_at_the_booth(gw: Gateway) -> None:
    """A car held at 09:30 that backed away and is still parked at 11:00:30 (its hold ended after
    half an hour): the booth asks the fee to now, as for any car."""
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-out", "苏E12345", T0 + 30 * 60 * S + S)
    assert gw.parking.quote(gw.conn, "苏E12345", T0 + 2 * H + 30 * S)["due_fen"] == 900
