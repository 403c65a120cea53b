"""A booth prepayment whose answer was lost, sent again (its receipt left for the gateway to make)
after the car it paid for, paid up, left within its grace (docs/parking.md, *Paying ahead at the
booth*): answered 409 already_paid with the receipt made and its time, nothing taken twice. Told
"not recorded inside and owes nothing", the kiosk and the guard took the 7元 as not gone through
(and refunded it), while the day's revenue counted it and the centre had its payment record."""

from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from tests.parking.conftest import T0, show

M = timedelta(minutes=1)
CAR = "苏E00001"  # a stranger's car: temporary, 7元 for its 100 minutes


def _paid_ahead(gw: Gateway) -> str:
    show(gw, "car-in", CAR, T0)
    return str(gw.parking.prepay(gw.conn, CAR, 700, "qr", "", "kiosk", T0 + 100 * M)["receipt"])


def _sent_again(gw: Gateway, minutes: int) -> ParkingError:
    with pytest.raises(ParkingError) as again:
        gw.parking.prepay(gw.conn, CAR, 700, "qr", "", "kiosk", T0 + minutes * M)
    return again.value


def _payments(gw: Gateway) -> int:
    return int(gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0])


@pytest.mark.parametrize("exit_without_entry", ["guard", "charge"])
def test_sent_again_after_the_car_left_in_its_grace_names_its_receipt(
    make_gw, exit_without_entry: str
) -> None:
    # "charge": the stranger's plate, out now, is quoted a day's fee for an entry missed; the
    # payment sent again is still the one it made, not a fee to take at the exit.
    gw = make_gw(exit_without_entry=exit_without_entry)
    receipt = _paid_ahead(gw)
    out = show(gw, "car-out", CAR, T0 + 102 * M)
    assert out.admitted, out.reason
    err = _sent_again(gw, 103)
    assert err.http_code == "already_paid", (err.http_code, str(err), err.fix)
    assert err.data["receipt"] == receipt
    assert err.data["paid_at"].startswith("2025-03-03T10:40")
    assert f"receipt {receipt}" in err.fix
    assert _payments(gw) == 1


def test_sent_again_after_an_admin_closed_its_stay_names_its_receipt(gw) -> None:
    receipt = _paid_ahead(gw)
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE plate = ?", (CAR,)).fetchone()[0]
    gw.parking.close_stay(gw.conn, stay_id, "camera down, car seen leaving", "admin1", T0 + 101 * M)
    err = _sent_again(gw, 103)
    assert err.http_code == "already_paid", (err.http_code, str(err), err.fix)
    assert err.data["receipt"] == receipt
    assert _payments(gw) == 1


def test_a_payment_past_its_grace_is_not_taken_for_it(gw) -> None:
    # Out of the grace (15 minutes) the same amount is no payment sent again: the car is not
    # inside and owes nothing, as before.
    _paid_ahead(gw)
    show(gw, "car-out", CAR, T0 + 102 * M)
    err = _sent_again(gw, 100 + 16)
    assert err.http_code == "refused", (err.http_code, str(err), err.fix)
    assert "owes nothing" in str(err)
    assert _payments(gw) == 1
