"""Review 57l: a fee a booth token took 'for' a guard, naming him as a kiosk typed him (`guard1 `,
ｇｕａｒｄ１), was stored as typed and fell in no shift and no handover; one for a name that is no
account (`guard01`) was taken too. The fee is now stored under the account's spelling. A name that
is no account was then refused (f6498f3); review 57q: the driver has paid at the kiosk, so it is
taken, stored as sent, and the journal warns that it is in no guard's shift."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.test_shift_handover_api import GUARD, M, booth, log_in, take


def test_a_fee_for_guard1_named_with_a_trailing_space_or_full_width_is_in_his_shift(
    make_gw: Callable[..., Gateway],
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        log_in(client, GUARD)
        clock["now"] += M
        plain = take(gw, client, token, "苏E70001", actor="guard1")
        spaced = take(gw, client, token, "苏E70002", actor="guard1 ")
        wide = take(gw, client, token, "苏E70003", actor="ｇｕａｒｄ１")
        shift = client.get("/api/shift").json()
        listed = [p["plate"] for p in shift["payments"]]
        assert listed == ["苏E70001", "苏E70002", "苏E70003"], (
            f"guard1's shift lists {listed}; cash on record {shift['cash_fen']} fen for "
            f"{plain + spaced + wide} fen taken for him"
        )


def test_a_fee_for_a_guard_who_is_no_account_is_taken_and_the_journal_warns(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += M
        gw_now = gw.now()
        from tests.parking.test_api import show

        show(gw, "car-in", "苏E70009", gw_now - 2 * 60 * M)
        fee = show(gw, "car-out", "苏E70009", gw_now - M).fee_fen
        with caplog.at_level(logging.WARNING, logger="gateway.api.parking"):
            paid = client.post(
                "/api/parking/lanes/car-out/pay",
                headers=token,
                json={"plate": "苏E70009", "amount_fen": fee, "method": "cash", "actor": " ｇｕａｒｄ０１"},
            )
        # The driver has paid at the kiosk: refused, the fee would be lost and the lane kept shut.
        assert paid.status_code == 200, paid.text
        (actor,) = gw.conn.execute("SELECT actor FROM payments").fetchone()
        assert actor.endswith(" for guard01"), actor
        (warned,) = [r.getMessage() for r in caplog.records if "no guard's" in r.getMessage()]
        assert "token:" in warned and "guard01" not in warned, warned
