"""The night's fees a booth kiosk took for a guard stay in the shift he logs in to hand over (交班)
(docs/guard-app.md, *Shift handover*). A guard who had never handed over began his shift at his
first login of the 36 hours, so the fees the kiosk's token took for him before it dropped out of it
the moment he logged in: an admin saw 14元 on record a minute before, his handover recorded 0 and the
14元 he counted as 长款, and those receipts were in no handover. Noticed by reviewer 60m.

His shift now begins at the window's start (36 hours ago, `look_back`) where a fee was taken for him
before that login; with none, still at the login."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_shift_handover_api import booth, take
from tests.ui.conftest import GUARD, log_in

H, M = timedelta(hours=1), timedelta(minutes=1)


def test_the_kiosks_fees_for_a_guard_are_in_the_handover_he_logs_in_for(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        # The night at the kiosk booth: its token takes two cash fees for guard1, who has never
        # handed over (a new box) and has no tablet session.
        clock["now"] += 3 * H
        a = take(gw, client, token, "苏E60001", actor="guard1")
        clock["now"] += 3 * H
        b = take(gw, client, token, "苏E60002", actor="guard1")
        seen_by_admin = client.get("/api/shift", params={"guard": "guard1"}, headers=token).json()
        assert seen_by_admin["cash_fen"] == a + b and seen_by_admin["since"] == "look_back"

        # The morning: he logs in at a tablet to hand the drawer over, and a second tablet (the
        # other booth) shows his shift too.
        clock["now"] += H
        tablet, other = TestClient(client.app), TestClient(client.app)
        csrf, other_csrf = log_in(tablet, GUARD), log_in(other, GUARD)
        mine = tablet.get("/api/shift").json()
        assert mine["since"] == "look_back"
        assert (mine["cash_fen"], [p["plate"] for p in mine["payments"]]) == (a + b, ["苏E60001", "苏E60002"])
        shown_there = other.get("/api/shift").json()
        handed = tablet.post(
            "/api/shift/handover",
            headers=csrf,
            json={
                "counted_cash_fen": a + b,
                "recorded_cash_fen": mine["cash_fen"],
                "shift_start": mine["start"],
            },
        )
        assert handed.status_code == 201, handed.text
        assert (handed.json()["recorded_cash_fen"], handed.json()["difference_fen"]) == (a + b, 0)
        (payload,) = gw.on_worker(
            lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'shift_handover'").fetchall()
        ).result(10)[0]
        record = json.loads(payload)
        assert len(record["receipts"]) == 2 and record["since"] == "look_back"

        # The other tablet, drawn before, is told it is done (commit 9ee44df), not handed over again.
        again = other.post(
            "/api/shift/handover",
            headers=other_csrf,
            json={"counted_cash_fen": a + b, "recorded_cash_fen": a + b, "shift_start": shown_there["start"]},
        )
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_done", again.text
        # The next shift begins at the handover and holds none of them.
        after = tablet.get("/api/shift").json()
        assert (after["since"], after["cash_fen"], after["payments"]) == ("handover", 0, [])


def test_a_guard_with_nothing_taken_for_him_before_his_login_begins_at_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Another guard's kiosk fees do not move his start: his shift still begins at his login."""
    with booth(make_gw) as (gw, clock, client, token):
        clock["now"] += 3 * H
        take(gw, client, token, "苏E60003", actor="guard2")
        clock["now"] += H
        log_in(client, GUARD)
        mine = client.get("/api/shift").json()
        assert (mine["since"], mine["start"], mine["cash_fen"]) == ("login", clock["now"].isoformat(), 0)
