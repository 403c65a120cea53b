"""A car held at an exit to pay stays held for half an hour of real time (holds.PENDING_FOR), also on
the nights the clocks change at an estate abroad (Europe/Berlin): the guard's "Take the fee" dialog
(the lane's quote) and an opening by hand (car_at_barrier) find it for that half hour and no longer.
Counted on the wall clock, a hold made just after the clocks went forward was gone a minute later,
and one made just before they went back was still named an hour and a half on (review 57b)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.parking.conftest import show
from tests.parking.test_prepay_leave_by_dst import BERLIN, CAR, berlin_gw


def test_a_car_held_just_after_the_clocks_go_forward_is_found_a_minute_later(tmp_path: Path) -> None:
    """29 March 2026, 02:00 -> 03:00: held at 03:05 summer time, the car is still the lane's a minute
    on, in the fee dialog and for an opening by hand."""
    gw = berlin_gw(tmp_path)
    try:
        assert show(gw, "car-in", CAR, datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)).reason == "temporary"
        held = show(gw, "car-out", CAR, datetime(2026, 3, 29, 3, 5, tzinfo=BERLIN))
        assert (held.admitted, held.reason) == (False, "payment_due")
        minute_on = datetime(2026, 3, 29, 3, 6, tzinfo=BERLIN)
        quote = gw.parking.lane_quote(gw.conn, "car-out", minute_on)
        assert quote is not None and quote["plate"] == CAR, "the car held a minute ago is not in the dialog"
        at_barrier = gw.parking.car_at_barrier(gw.conn, "car-out", minute_on)
        assert at_barrier is not None and at_barrier[0].car == CAR
    finally:
        gw.conn.close()


def test_the_same_hold_on_an_ordinary_night_is_found(tmp_path: Path) -> None:
    gw = berlin_gw(tmp_path)
    try:
        show(gw, "car-in", CAR, datetime(2026, 4, 5, 0, 30, tzinfo=BERLIN))
        assert show(gw, "car-out", CAR, datetime(2026, 4, 5, 3, 5, tzinfo=BERLIN)).reason == "payment_due"
        quote = gw.parking.lane_quote(gw.conn, "car-out", datetime(2026, 4, 5, 3, 6, tzinfo=BERLIN))
        assert quote is not None and quote["plate"] == CAR
    finally:
        gw.conn.close()


def test_a_car_held_before_the_clocks_go_back_is_not_named_85_minutes_later(tmp_path: Path) -> None:
    """25 October 2026, 03:00 summer time -> 02:00 winter time: a car held at 01:55 summer time that
    backed away is no longer held at 02:20 winter time (85 real minutes on). Named there, the fee
    dialog showed it, and an opening by hand let it out on record instead of the car at the barrier."""
    gw = berlin_gw(tmp_path)
    try:
        show(gw, "car-in", CAR, datetime(2026, 10, 25, 0, 30, tzinfo=BERLIN))
        assert show(gw, "car-out", CAR, datetime(2026, 10, 25, 1, 55, tzinfo=BERLIN)).reason == "payment_due"
        still_held = datetime(2026, 10, 25, 2, 20, tzinfo=BERLIN)  # summer time: 25 real minutes on
        assert gw.parking.lane_quote(gw.conn, "car-out", still_held) is not None
        gone = datetime(2026, 10, 25, 2, 20, fold=1, tzinfo=BERLIN)  # winter time: 85 real minutes on
        assert gw.parking.lane_quote(gw.conn, "car-out", gone) is None
        assert gw.parking.car_at_barrier(gw.conn, "car-out", gone) is None
    finally:
        gw.conn.close()
