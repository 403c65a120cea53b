"""A booth prepayment sent again (its answer lost) after the car, paid up, left within
its grace and came back in: the retry is checked against the new stay only, and answered
nothing_owed ("the car may leave: open the barrier"), no receipt, as if the 7元 had not gone
through; the day's revenue counts it (review 62g: eaa1626 handled the car gone, not back in)."""

from datetime import timedelta

import pytest

from gateway.store.parking import ParkingError
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)

M = timedelta(minutes=1)
CAR = "苏E00001"


def test_sent_again_after_the_car_left_and_came_back_names_its_receipt(gw) -> None:  # noqa: F811
    show(gw, "car-in", CAR, T0)
    receipt = gw.parking.prepay(gw.conn, CAR, 700, "qr", "", "kiosk", T0 + 100 * M)["receipt"]
    assert show(gw, "car-out", CAR, T0 + 102 * M).admitted
    assert show(gw, "car-in", CAR, T0 + 105 * M).admitted
    with pytest.raises(ParkingError) as again:
        gw.parking.prepay(gw.conn, CAR, 700, "qr", "", "kiosk", T0 + 106 * M)
    err = again.value
    assert err.http_code == "already_paid", (err.http_code, str(err), err.fix)
    assert err.data["receipt"] == receipt


def test_the_fee_of_the_new_stay_is_still_taken(gw) -> None:  # noqa: F811
    """Back in, and owing again once its free minutes are over: that fee is taken, not refused."""
    show(gw, "car-in", CAR, T0)
    first = gw.parking.prepay(gw.conn, CAR, 700, "qr", "", "kiosk", T0 + 100 * M)["receipt"]
    assert show(gw, "car-out", CAR, T0 + 102 * M).admitted
    assert show(gw, "car-in", CAR, T0 + 103 * M).admitted
    due = gw.parking.quote(gw.conn, CAR, T0 + 200 * M)["due_fen"]
    assert due > 0, "the test wants a stay that owes"
    again = gw.parking.prepay(gw.conn, CAR, due, "qr", "", "kiosk", T0 + 200 * M)["receipt"]
    assert again != first
