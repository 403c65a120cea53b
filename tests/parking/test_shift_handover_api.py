"""交班 Shift handover over the API (docs/guard-app.md, *Shift handover*): what a guard took this
shift, his alone, a booth token's fee for him counted as his; the handover records the cash counted
against the cash on record and the next shift starts from zero; with no handover, at most 36 hours
are looked back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from tests.parking.conftest import T0
from tests.parking.test_api import serving, show
from tests.ui.conftest import GUARD, log_in, password_hash

H, M = timedelta(hours=1), timedelta(minutes=1)
GUARD2 = ("guard2", "guard2-pass-123")


@contextmanager
def booth(
    make_gw: Callable[..., Gateway],
) -> Iterator[tuple[Gateway, dict[str, datetime], TestClient, dict[str, str]]]:
    """A site at T0 on a clock the test moves, with guard1 and guard2, and the booth's admin token."""
    gw = make_gw()
    clock = {"now": T0}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]

    def accounts(conn: sqlite3.Connection) -> None:
        for name, password in (GUARD, GUARD2):
            create_account(conn, T0, "test", name, name, "guard", password_hash(password))

    with serving(gw) as (gw, client, token):
        gw.on_worker(accounts).result(10)
        yield gw, clock, client, token


def take(gw: Gateway, client: TestClient, headers: dict[str, str], plate: str, **body: object) -> int:
    """A temporary car parked two hours pays at the exit: the fee, in fen."""
    now = gw.now()
    show(gw, "car-in", plate, now - 2 * H)
    fee = show(gw, "car-out", plate, now - M).fee_fen
    paid = client.post(
        "/api/parking/lanes/car-out/pay",
        headers=headers,
        json={"plate": plate, "amount_fen": fee, "method": "cash", **body},
    )
    assert paid.status_code == 200, paid.text
    return fee


def test_each_guard_sees_his_own_takings_and_a_booth_tokens_fee_for_him(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard1 takes cash, guard2 a QR payment on another tablet, the booth kiosk's token cash for
    guard1: guard1's shift is his two cash fees, guard2's his QR one, and an admin sees the same."""
    with booth(make_gw) as (gw, clock, one, token):
        two = TestClient(one.app)
        csrf1, csrf2 = log_in(one, GUARD), log_in(two, GUARD2)
        clock["now"] += M
        a = take(gw, one, csrf1, "苏E10001")
        b = take(gw, two, csrf2, "苏E10002", method="qr")
        c = take(gw, one, token, "苏E10003", actor="guard1")

        mine = one.get("/api/shift").json()
        assert mine["by_method"]["cash"] == {"count": 2, "total_fen": a + c}
        assert mine["by_method"]["qr"] == {"count": 0, "total_fen": 0}
        assert [p["plate"] for p in mine["payments"]] == ["苏E10001", "苏E10003"]
        assert mine["payments"][1]["actor"] == "token:booth for guard1"
        assert mine["since"] == "login" and mine["start"] == T0.isoformat()
        theirs = two.get("/api/shift").json()
        assert theirs["by_method"]["qr"] == {"count": 1, "total_fen": b}
        assert theirs["cash_fen"] == 0 and theirs["total_fen"] == b
        assert one.get("/api/shift", params={"guard": "Guard1"}, headers=token).json() == mine

        peek = two.get("/api/shift", params={"guard": "guard1"})
        assert peek.status_code == 403 and peek.json()["error"]["code"] == "admin_only"
        own = two.get("/api/shift", headers=token)  # a token has no shift of its own
        assert own.status_code == 400 and "guard=" in own.json()["error"]["fix"]


def test_a_handover_records_the_difference_and_the_next_shift_starts_from_zero(
    make_gw: Callable[..., Gateway],
) -> None:
    """guard1 takes a fee, counts 3 yuan short and hands over: the audit row says both amounts and
    the difference; his shift is then empty from the handover, a fee after it is the new shift's,
    and logging in again (the tablet restarted, his session ended) keeps it: the shift runs from
    the handover to the next."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E20001")
        clock["now"] += M
        handed = client.post(
            "/api/shift/handover", headers=csrf, json={"counted_cash_fen": fee - 300, "note": "少三元"}
        )
        assert handed.status_code == 201, handed.text
        h = handed.json()
        assert (h["recorded_cash_fen"], h["counted_cash_fen"], h["difference_fen"]) == (fee, fee - 300, -300)
        row = client.get("/api/audit", params={"action": "shift.handover"}, headers=token).json()
        assert [r["actor"] for r in row] == ["guard1"]
        assert f"cash recorded {fee} fen, counted {fee - 300} fen, difference -300 fen" in row[0]["detail"]
        assert "少三元" in row[0]["detail"]

        after = client.get("/api/shift").json()
        assert (after["since"], after["cash_fen"], after["payments"]) == ("handover", 0, [])
        clock["now"] += M
        later = take(gw, client, csrf, "苏E20002")  # he works on without logging out
        assert client.get("/api/shift").json()["cash_fen"] == later

        clock["now"] += H
        log_in(client, GUARD)
        again = client.get("/api/shift").json()
        assert (again["since"], again["cash_fen"]) == ("handover", later)
        assert again["start"] == (T0 + 2 * M).isoformat() == h["handed_over_at"]


def test_a_handover_is_for_a_logged_in_guard_with_an_amount_in_fen(make_gw: Callable[..., Gateway]) -> None:
    """No login: 401. An amount that is not a whole number of fen, 0 or more, is refused saying
    what to send, and nothing is recorded."""
    with booth(make_gw) as (gw, clock, client, token):
        assert client.get("/api/shift").status_code == 401
        assert client.post("/api/shift/handover", json={"counted_cash_fen": 0}).status_code == 401
        csrf = log_in(client, GUARD)
        for wrong in (-1, 123.5, "12350", None, True, 10**12):
            refused = client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": wrong})
            assert refused.status_code == 422, (wrong, refused.text)
            error = refused.json()["error"]
            assert (error["code"], error["fields"]) == ("invalid_amount", ["counted_cash_fen"])
            assert "12350" in error["fix"]
        missing = client.post("/api/shift/handover", headers=csrf, json={})
        assert missing.json()["error"]["code"] == "invalid_amount"
        by_token = client.post("/api/shift/handover", headers=token, json={"counted_cash_fen": 0})
        assert by_token.status_code == 400
        assert client.get("/api/audit", params={"action": "shift"}, headers=token).json() == []


def test_a_handover_sent_again_with_its_key_is_recorded_once(make_gw: Callable[..., Gateway]) -> None:
    """The answer lost on the Wi-Fi, the tablet sends the handover again with its Idempotency-Key:
    answered the same handover, one row on record; the key with another amount is refused."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        keyed = {**csrf, "Idempotency-Key": "handover-1"}
        first = client.post("/api/shift/handover", headers=keyed, json={"counted_cash_fen": 5000})
        clock["now"] += M
        again = client.post("/api/shift/handover", headers=keyed, json={"counted_cash_fen": 5000})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        other = client.post("/api/shift/handover", headers=keyed, json={"counted_cash_fen": 4000})
        assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch"
        rows = client.get("/api/audit", params={"action": "shift.handover"}, headers=token).json()
        assert len(rows) == 1


def test_a_guard_who_never_hands_over_gets_at_most_36_hours(make_gw: Callable[..., Gateway]) -> None:
    """guard1 logged in and took a fee the morning before yesterday's evening and never handed
    over; the kiosk takes a fee for him 40 hours later, with no login of his in 36 hours: his shift
    starts 36 hours ago and holds that fee alone. Logging in then keeps it: the kiosk's fee taken
    before the login is in the shift he hands over (review 60m)."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        take(gw, client, csrf, "苏E30001")
        clock["now"] = T0 + 40 * H
        today = take(gw, client, token, "苏E30002", actor="guard1")
        shift = client.get("/api/shift", params={"guard": "guard1"}, headers=token).json()
        assert shift["since"] == "look_back"
        assert shift["start"] == (T0 + 4 * H).isoformat()
        assert [p["plate"] for p in shift["payments"]] == ["苏E30002"]
        assert shift["cash_fen"] == today
        clock["now"] += M
        log_in(client, GUARD)
        assert client.get("/api/shift").json()["cash_fen"] == today
