"""A receipt number typed again: a payment sent again (`already_paid`, take nothing) only for the
stay it paid; for another stay of the same car it is a number already used (`receipt_used`), even
when the car owes the same amount again (docs/parking.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _pay(gw: Gateway, plate: str, amount: int, at: datetime, receipt: str) -> AccessEvent:
    return gw.decide_now(gw.parking.pay_at_lane("car-out", plate, amount, "qr", receipt, "guard1", at))


def test_yesterdays_receipt_number_for_todays_stay_is_refused_as_used(gw: Gateway) -> None:
    """The same car comes back the next day, owes the same 7元, and the guard types yesterday's QR
    transaction number by mistake. The guard was told "nothing is owed ... went through at 11:01:
    take nothing again" (a time with no date), and the 7元 owed was never taken."""
    show(gw, "car-in", "苏E12345", T0)
    assert show(gw, "car-out", "苏E12345", T0 + 2 * H).fee_fen == 700
    assert _pay(gw, "苏E12345", 700, T0 + 2 * H + M, "WX-20250303-77").admitted
    day2 = T0 + 24 * H
    show(gw, "car-in", "苏E12345", day2)
    assert show(gw, "car-out", "苏E12345", day2 + 2 * H).fee_fen == 700
    with pytest.raises(ParkingError) as refused:
        _pay(gw, "苏E12345", 700, day2 + 2 * H + M, "WX-20250303-77")
    assert refused.value.http_code == "receipt_used", (str(refused.value), refused.value.fix)
    # Its own number then takes the 7元 and lets it out.
    assert _pay(gw, "苏E12345", 700, day2 + 2 * H + 2 * M, "WX-20250304-12").admitted


def test_yesterdays_receipt_number_for_a_car_whose_entry_was_missed_is_refused_as_used(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car paid a day's 30元 yesterday; today its entry was not read and it is held at the exit
    for a day's 30元. Yesterday's receipt number is not this hold's payment sent again."""
    gw = make_gw(exit_without_entry="charge")
    show(gw, "car-in", "苏E12345", T0)
    assert show(gw, "car-out", "苏E12345", T0 + 14 * H).fee_fen == 3000
    assert _pay(gw, "苏E12345", 3000, T0 + 14 * H + M, "WX-20250303-77").admitted
    held = show(gw, "car-out", "苏E12345", T0 + 26 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    with pytest.raises(ParkingError) as refused:
        _pay(gw, "苏E12345", 3000, T0 + 26 * H + M, "WX-20250303-77")
    assert refused.value.http_code == "receipt_used", (str(refused.value), refused.value.fix)


def test_a_payment_sent_again_says_the_day_it_went_through(gw: Gateway) -> None:
    """The tablet lost the answer and sends the payment again: the guard is told it went through,
    with the day as well as the time, so an old number typed again is not taken for this one."""
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-out", "苏E12345", T0 + 2 * H)
    assert _pay(gw, "苏E12345", 700, T0 + 2 * H + M, "WX-20250303-77").admitted
    with pytest.raises(ParkingError) as again:
        _pay(gw, "苏E12345", 700, T0 + 2 * H + 2 * M, "WX-20250303-77")
    assert again.value.http_code == "already_paid"
    assert "on 2025-03-03 at 11:01" in again.value.fix, again.value.fix


def test_a_booth_payment_sent_again_while_the_car_is_still_parked_is_already_paid(gw: Gateway) -> None:
    """Paid ahead at the booth; the booth's request is sent again a minute later."""
    show(gw, "car-in", "苏E12345", T0)
    gw.parking.prepay(gw.conn, "苏E12345", 700, "qr", "WX-1", "booth", T0 + 2 * H - M)
    with pytest.raises(ParkingError) as again:
        gw.parking.prepay(gw.conn, "苏E12345", 700, "qr", "WX-1", "booth", T0 + 2 * H)
    assert again.value.http_code == "already_paid"
