"""The audit trail's person filter finds what a token or a guard did when the request also named
someone in its `actor` field (docs/guard-app.md: "A token acts with its role and appears in the
audit trail as `token:NAME`"; the audit page is "Who changed what and when, filtered by person"):
a row is found under the principal that made the request, the account or token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.store.audit import audit, count_audit, recent_audit
from gateway.store.database import transaction
from tests.parking.test_api import serving, show
from tests.ui.conftest import GUARD, log_in, password_hash

H = timedelta(hours=1)


def _held(gw: Gateway, plate: str) -> int:
    now = gw.now()
    show(gw, "car-in", plate, now - 2 * H)
    return show(gw, "car-out", plate, now - timedelta(minutes=1)).fee_fen


def _add_guard(gw: Gateway) -> None:
    gw.on_worker(
        lambda c: create_account(c, gw.now(), "test", GUARD[0], "张师傅", "guard", password_hash(GUARD[1]))
    ).result(10)


def test_a_fee_a_booth_token_took_for_its_guard_is_found_under_the_token(
    make_gw: Callable[..., Gateway],
) -> None:
    """A booth token takes a fee naming the guard it acts for: the row keeps that guard, and
    filtering the audit trail by `token:booth` lists it, as every other row the token wrote."""
    with serving(make_gw()) as (gw, client, auth):
        _add_guard(gw)
        fee = _held(gw, "苏E12345")
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": "苏E12345", "amount_fen": fee, "method": "cash", "actor": "guard1"},
        )
        assert paid.status_code == 200, paid.text
        everything = client.get("/api/audit", params={"action": "payment"}, headers=auth).json()
        assert [row["actor"] for row in everything] == ["token:booth for guard1"]
        by_token = client.get(
            "/api/audit", params={"action": "payment", "actor": "token:booth"}, headers=auth
        ).json()
        assert [row["action"] for row in by_token] == ["payment.take"]


def test_a_guard_who_names_someone_else_as_actor_is_refused_and_nothing_is_taken(
    make_gw: Callable[..., Gateway],
) -> None:
    """A guard's session takes a fee with `"actor": "夜班"` in the body: refused, with what to do,
    and nothing written; taken without it (as the guard pages do), the audit page filtered by his
    user name shows it."""
    with serving(make_gw()) as (gw, client, auth):
        _add_guard(gw)
        fee = _held(gw, "苏E22222")
        csrf = log_in(client, GUARD)
        body = {"plate": "苏E22222", "amount_fen": fee, "method": "cash"}
        refused = client.post("/api/parking/lanes/car-out/pay", headers=csrf, json={**body, "actor": "夜班"})
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "actor_not_allowed"
        assert "actor" in error["fix"] and "token" in error["fix"]
        assert client.get("/api/audit", params={"action": "payment"}, headers=auth).json() == []

        paid = client.post("/api/parking/lanes/car-out/pay", headers=csrf, json=body)
        assert paid.status_code == 200, paid.text
        page = client.get("/audit", params={"actor": GUARD[0], "action": "payment"})
        assert page.status_code == 200
        assert "payment.take" in page.text


def test_a_guard_who_names_himself_as_actor_takes_the_fee_under_his_name(
    make_gw: Callable[..., Gateway],
) -> None:
    """Naming oneself (in any case, as user names are read) is no one else: the fee is taken, under
    the user name alone."""
    with serving(make_gw()) as (gw, client, auth):
        _add_guard(gw)
        fee = _held(gw, "苏E33333")
        csrf = log_in(client, GUARD)
        paid = client.post(
            "/api/parking/prepay",
            headers=csrf,
            json={"plate": "苏E33333", "amount_fen": fee, "method": "qr", "actor": "Guard1"},
        )
        assert paid.status_code == 200, paid.text
        rows = client.get("/api/audit", params={"action": "payment", "actor": GUARD[0]}, headers=auth).json()
        assert [row["actor"] for row in rows] == [GUARD[0]]


def test_the_person_filter_finds_rows_that_name_whom_their_principal_acted_for(
    make_gw: Callable[..., Gateway],
) -> None:
    """Rows already written as `X for Y` (a session could name anyone before) are found under X, in
    any case; a longer name that begins with X is not X, nor is the one X acted for."""
    gw = make_gw()
    at = gw.now()
    actors = ["guard1", "guard1 for 夜班", "token:booth for guard1", "guard10 for 夜班", "guard1for"]

    with transaction(gw.conn):
        for actor in actors:
            audit(gw.conn, at, actor, "payment.take", "stay:1")

    def found(actor: str) -> list[str]:
        return [row["actor"] for row in reversed(recent_audit(gw.conn, 100, actor))]

    assert found("guard1") == ["guard1", "guard1 for 夜班"]
    assert found("GUARD1") == ["guard1", "guard1 for 夜班"]
    assert found("token:booth") == ["token:booth for guard1"]
    assert found("token:booth for guard1") == ["token:booth for guard1"]
    assert found("夜班") == []
    assert count_audit(gw.conn, "guard1") == 2
