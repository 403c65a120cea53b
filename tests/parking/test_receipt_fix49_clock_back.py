"""Receipt numbers typed again after NTP set the clock back (docs/parking.md *At the exit lane*:
a receipt number is a payment sent again only for the same car, amount and stay)."""

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
CAR = "苏E12345"


def _pay(gw: Gateway, plate: str, amount: int, at: datetime, receipt: str) -> AccessEvent:
    return gw.decide_now(gw.parking.pay_at_lane("car-out", plate, amount, "qr", receipt, "guard1", at))


def test_old_receipt_for_a_car_held_again_after_the_clock_was_set_back_is_refused_as_used(
    make_gw: Callable[..., Gateway],
) -> None:
    """The car paid a day's 30元 at 23:01 (receipt WX-77) and left; a bad NTP server sets the clock
    back 40 minutes; the car comes back (its entry not read) and is held at the exit at 22:50 on that
    clock for a day's 30元. The guard typing the old number WX-77 is told 'nothing is owed, take
    nothing again' (already_paid) and the 30元 is never taken; it should be refused receipt_used."""
    gw = make_gw(exit_without_entry="charge")
    show(gw, "car-in", CAR, T0)
    assert show(gw, "car-out", CAR, T0 + 14 * H).fee_fen == 3000
    assert _pay(gw, CAR, 3000, T0 + 14 * H + M, "WX-77").admitted
    # 23:10 real time: the clock is set back 40 minutes to 22:30; the car is back at the exit at 22:50
    # (23:30 real), its entry missed.
    back = T0 + 13 * H + 50 * M
    held = show(gw, "car-out", CAR, back)
    assert (held.admitted, held.reason, held.fee_fen) == (False, "payment_due", 3000), held
    with pytest.raises(ParkingError) as refused:
        _pay(gw, CAR, 3000, back + M, "WX-77")
    assert refused.value.http_code == "receipt_used", (
        f"old receipt taken as this hold's payment: {refused.value.http_code}: {refused.value.fix}"
    )


def test_old_booth_receipt_for_a_car_held_again_after_the_clock_was_set_back_is_refused_as_used(
    make_gw: Callable[..., Gateway],
) -> None:
    """Paid a day's 30元 ahead at the booth at 23:00 (WX-99) and left at 23:05; the clock is set
    back 40 minutes; the car is back (its entry not read), held at 22:50 for a day's 30元. WX-99 is
    the stay it left, not this hold's payment sent again."""
    gw = make_gw(exit_without_entry="charge")
    show(gw, "car-in", CAR, T0)
    gw.parking.prepay(gw.conn, CAR, 3000, "qr", "WX-99", "booth", T0 + 14 * H)
    assert show(gw, "car-out", CAR, T0 + 14 * H + 5 * M).admitted
    back = T0 + 13 * H + 50 * M
    held = show(gw, "car-out", CAR, back)
    assert (held.admitted, held.reason, held.fee_fen) == (False, "payment_due", 3000), held
    with pytest.raises(ParkingError) as refused:
        _pay(gw, CAR, 3000, back + M, "WX-99")
    assert refused.value.http_code == "receipt_used", (refused.value.http_code, refused.value.fix)


def test_old_receipt_of_a_missed_entry_for_a_car_in_again_after_the_clock_was_set_back_is_refused_as_used(
    make_gw: Callable[..., Gateway],
) -> None:
    """Its entry missed, the car paid a day's 30元 at the exit at 10:01 (WX-88, no stay) and left;
    the clock is set back 40 minutes; it comes in at 09:30 and its driver pays ahead at the booth,
    the guard typing WX-88 again: a stay begun after that payment, the number is used."""
    gw = make_gw(exit_without_entry="charge")
    held = show(gw, "car-out", CAR, T0 + H)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000), held
    assert _pay(gw, CAR, 3000, T0 + H + M, "WX-88").admitted
    assert show(gw, "car-in", CAR, T0 + 30 * M).admitted
    with pytest.raises(ParkingError) as refused:
        gw.parking.prepay(gw.conn, CAR, 3000, "qr", "WX-88", "booth", T0 + 40 * M)
    assert refused.value.http_code == "receipt_used", (refused.value.http_code, refused.value.fix)


def test_a_payment_sent_again_after_the_clock_was_set_back_as_the_car_stood_held_is_already_paid(
    make_gw: Callable[..., Gateway],
) -> None:
    """Held at 23:00 for a day's 30元; NTP sets the clock back 40 minutes; the guard takes the 30元
    at 22:21 (WX-77) and the car leaves; the tablet lost the answer and sends it again. The hold
    dated 23:00 is the one it paid, not the car back since: it went through, take nothing again
    (not receipt_used, which sends the guard to take the 30元 a second time)."""
    gw = make_gw(exit_without_entry="charge")
    show(gw, "car-in", CAR, T0)
    assert show(gw, "car-out", CAR, T0 + 14 * H).fee_fen == 3000
    paid_at = T0 + 13 * H + 21 * M
    assert _pay(gw, CAR, 3000, paid_at, "WX-77").admitted
    with pytest.raises(ParkingError) as again:
        _pay(gw, CAR, 3000, paid_at + M, "WX-77")
    assert again.value.http_code == "already_paid", (again.value.http_code, again.value.fix)
