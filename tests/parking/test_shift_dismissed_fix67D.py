"""A dismissed guard's 交班 shift (Review 67 D1): the booth kiosk's token still names guard1 after
his account is disabled. Each fee it takes for him is said in the journal, as one for a name no
account has is, and an admin hands his open shift over (docs/guard-app.md, *Shift handover*)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account, find_account, update_account
from tests.parking.test_shift_handover_api import GUARD2, M, booth, take
from tests.ui.conftest import ADMIN, log_in, password_hash


def test_a_fee_for_a_disabled_guard_is_said_and_an_admin_hands_his_shift_over(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += M
        dismissed = gw.on_worker(lambda c: find_account(c, "guard1")).result(10)
        assert dismissed is not None
        gw.on_worker(lambda c: update_account(c, gw.now(), "admin", dismissed.id, disabled=True)).result(10)
        with caplog.at_level(logging.WARNING, logger="gateway.api.parking"):
            fee = take(gw, client, token, "苏E70001", actor="guard1")
        (said,) = [r.getMessage() for r in caplog.records if r.name == "gateway.api.parking"]
        assert "guard1" in said and "disabled" in said and "/shift?guard=guard1" in said
        # The fee itself is taken and counted as before: in his shift, which only an admin can close.
        shift = client.get("/api/shift", params={"guard": "guard1"}, headers=token).json()
        assert shift["cash_fen"] == fee

        clock["now"] += M
        done = client.post(
            "/api/shift/handover",
            params={"guard": "guard1"},
            headers=token,
            json={"counted_cash_fen": fee, "recorded_cash_fen": fee, "shift_start": shift["start"]},
        )
        assert done.status_code == 201, done.text
        assert (done.json()["guard"], done.json()["handed_over_by"]) == ("guard1", "token:booth")
        assert done.json()["difference_fen"] == 0
        row = gw.conn.execute("SELECT actor, target FROM audit WHERE action = 'shift.handover'").fetchone()
        assert row == ("token:booth", "guard1")
        assert client.get("/api/shift", params={"guard": "guard1"}, headers=token).json()["cash_fen"] == 0


def test_a_guard_hands_over_no_one_elses_shift(make_gw: Callable[..., Gateway]) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        other = TestClient(client.app)
        csrf = log_in(other, GUARD2)
        refused = other.post(
            "/api/shift/handover", params={"guard": "guard1"}, headers=csrf, json={"counted_cash_fen": 0}
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_only"
        # Naming himself is his own handover, as leaving `guard` out is.
        own = other.post(
            "/api/shift/handover", params={"guard": "GUARD2"}, headers=csrf, json={"counted_cash_fen": 0}
        )
        assert own.status_code == 201 and own.json()["handed_over_by"] == "guard2"
        assert gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'shift.handover'").fetchone() == (
            1,
        )


def test_the_admin_page_offers_a_guards_shift_page_for_his_handover(make_gw: Callable[..., Gateway]) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        gw.on_worker(
            lambda c: create_account(c, gw.now(), "test", ADMIN[0], "", "admin", password_hash(ADMIN[1]))
        ).result(10)
        log_in(client, ADMIN)
        assert 'href="/shift?guard=guard1"' in client.get("/admin").text
        page = client.get("/shift", params={"guard": "guard1"}).text
        assert 'id="shift-for-guard"' in page and "guard1" in page
        assert '"guard": "guard1"' in page or '"guard":"guard1"' in page  # shift.js sends ?guard=
        assert 'id="shift-logout"' not in page  # the admin stays logged in
        guard = TestClient(client.app)
        log_in(guard, GUARD2)
        assert guard.get("/shift", params={"guard": "guard1"}).status_code == 403
