"""Review 63m: the `monthly` payment method puts a car's fee on its monthly account (月租), billed
with the car's renewal: no money is taken at the gate. It was taken for any car, a stranger's
temporary car too: the kiosk's or integrator's POST .../pay with "method": "monthly" let a car out
that has no account to put the fee on, its charge settled, and the day's report counted the 9元
that nobody collected, a payment no correction can change (method_not_correctable). Now a car that
is not a registered car with a monthly period (paid up or run out) is refused, 422
`no_monthly_account`, the fix naming the methods it can pay with (cash or qr); a monthly car's fee
is still put on its account (docs/parking.md, *Payment methods*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from tests.parking.conftest import T0, pay, report_of_t0_day, show
from tests.parking.test_shift_handover_api import booth

H, M = timedelta(hours=1), timedelta(minutes=1)
STRANGER = "苏E12345"  # on no register: a temporary car
LAPSED = "皖D55555"  # R4's car, its monthly period over since January: pays by time


def _payments(gw: Gateway) -> list[tuple[str, int, str]]:
    return gw.conn.execute("SELECT plate, amount_fen, method FROM payments ORDER BY id").fetchall()


def _refused_as_no_account(exc: pytest.ExceptionInfo[ParkingError], car: str) -> None:
    err = exc.value
    assert (err.http_status, err.http_code) == (422, "no_monthly_account"), (err.http_status, err.http_code)
    assert car in err.message and "monthly" in err.message, err.message
    assert "cash" in err.fix and "qr" in err.fix, err.fix
    assert err.data == {"methods": ["cash", "qr"]}, err.data


def test_a_strangers_fee_cannot_be_put_on_a_monthly_account(gw: Gateway) -> None:
    """The reviewer's case: a stranger held at the exit owing its fee is refused `monthly`, stays
    held, nothing is recorded or counted; the same fee in cash then lets it out."""
    assert show(gw, "car-in", STRANGER, T0).reason == "temporary"
    held = show(gw, "car-out", STRANGER, T0 + 3 * H)
    assert held.reason == "payment_due" and held.fee_fen > 0, held
    with pytest.raises(ParkingError) as refused:
        pay(gw, STRANGER, held.fee_fen, T0 + 3 * H, method="monthly")
    _refused_as_no_account(refused, STRANGER)
    assert _payments(gw) == []
    report = report_of_t0_day(gw, T0 + 2 * 24 * H)["parking"]
    assert (report["revenue_fen"], report["payments"]) == (0, 0), report
    assert show(gw, "car-out", STRANGER, T0 + 3 * H + M).reason == "payment_due"  # still held

    assert pay(gw, STRANGER, held.fee_fen, T0 + 3 * H + 2 * M, method="cash").admitted
    report = report_of_t0_day(gw, T0 + 2 * 24 * H)["parking"]
    assert report["revenue_by_method_fen"] == {"cash": held.fee_fen, "qr": 0, "monthly": 0}, report


def test_a_residents_car_with_no_monthly_period_has_no_monthly_account(gw: Gateway) -> None:
    """R1's second car on the shared slot B001 parks as a temporary car while the first holds the
    slot: on the register, but with no monthly period, so it pays in cash or by QR."""
    show(gw, "car-in", "皖A11111", T0)
    assert show(gw, "car-in", "皖A22222", T0 + M).reason == "temporary"
    held = show(gw, "car-out", "皖A22222", T0 + 3 * H)
    assert held.reason == "payment_due" and held.fee_fen > 0, held
    with pytest.raises(ParkingError) as refused:
        pay(gw, "皖A22222", held.fee_fen, T0 + 3 * H, method="monthly")
    _refused_as_no_account(refused, "皖A22222")
    assert _payments(gw) == []


def test_a_stranger_paying_ahead_at_the_booth_cannot_use_the_monthly_method(gw: Gateway) -> None:
    show(gw, "car-in", STRANGER, T0)
    due = gw.parking.quote(gw.conn, STRANGER, T0 + 2 * H)["due_fen"]
    assert due > 0
    with pytest.raises(ParkingError) as refused:
        gw.parking.prepay(gw.conn, STRANGER, due, "monthly", "", "booth", T0 + 2 * H)
    _refused_as_no_account(refused, STRANGER)
    assert _payments(gw) == []
    gw.parking.prepay(gw.conn, STRANGER, due, "qr", "", "booth", T0 + 2 * H)
    assert _payments(gw) == [(STRANGER, due, "qr")]


def test_a_monthly_cars_fee_is_put_on_its_account_and_counted_apart(gw: Gateway) -> None:
    """R4's car, its period run out, has a monthly account: its fee may go on it. The day's report
    lists it under revenue_by_method_fen.monthly, apart from the cash and QR money taken; revenue_fen
    is every fee settled, that one too (docs/parking.md, *Daily report*)."""
    assert "monthly_expired" in show(gw, "car-in", LAPSED, T0).flags
    held = show(gw, "car-out", LAPSED, T0 + 90 * M)
    assert pay(gw, LAPSED, held.fee_fen, T0 + 91 * M, method="monthly").admitted
    report = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert report["revenue_by_method_fen"] == {"cash": 0, "qr": 0, "monthly": held.fee_fen}, report
    assert report["revenue_fen"] == held.fee_fen, report


def test_the_kiosk_token_is_told_which_methods_a_stranger_can_pay_with(
    make_gw: Callable[..., Gateway],
) -> None:
    """Over the API, as the reviewer sent it: 422 no_monthly_account with the fix and the methods,
    the car still held, no payment and nothing upstream."""
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += M
        now = gw.now()
        show(gw, "car-in", STRANGER, now - 2 * H)
        fee = show(gw, "car-out", STRANGER, now - M).fee_fen
        body = {"plate": STRANGER, "amount_fen": fee, "method": "monthly", "actor": "guard1"}
        answer = client.post("/api/parking/lanes/car-out/pay", headers=token, json=body)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "no_monthly_account" and error["methods"] == ["cash", "qr"], error
        assert "cash" in error["fix"] and "qr" in error["fix"], error
        got = gw.on_worker(
            lambda c: (
                c.execute("SELECT count(*) FROM payments").fetchone()[0],
                c.execute("SELECT count(*) FROM outbox WHERE topic = 'payment'").fetchone()[0],
            )
        ).result(10)
        assert got == (0, 0), got
        paid = client.post("/api/parking/lanes/car-out/pay", headers=token, json={**body, "method": "cash"})
        assert paid.status_code == 200, paid.text
