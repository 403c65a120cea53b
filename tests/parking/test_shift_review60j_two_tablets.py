"""交班 pressed for the same drawer on two tablets (the guard logged in at both booths, or the next
guard tapping it on the other tablet for him) within the same moment (docs/guard-app.md, *Shift
handover*). One handover was stored; the other tablet was told 409 `shift_changed`, "a fee was taken
meanwhile", which was false, and its dialog came back with the 7元 he counted as 长款 7.00 元: a
guard who believed it confirmed, and the accountant got a second `shift_handover` for the drawer,
7元 over. A QR-only shift (0 = 0) was handed over twice. Noticed by reviewer 60j.

The page sends the start of the shift it showed (`shift_start`); that shift handed over since is
409 `already_done`, by whom and when, nothing stored."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_shift_handover_api import M, booth, take
from tests.ui.conftest import GUARD, log_in

HANDOVERS = "SELECT payload FROM outbox WHERE topic = 'shift_handover'"


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Each call on its own thread, released together: two tablets confirming in the same moment."""
    go = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        go.wait(5)
        out[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def _records(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.on_worker(lambda c: c.execute(HANDOVERS).fetchall()).result(10)
    return [json.loads(payload) for (payload,) in rows]


@pytest.mark.parametrize("method", ["cash", "qr"])
def test_a_drawer_handed_over_on_two_tablets_at_once_is_on_record_once_and_the_other_told_done(
    make_gw: Callable[..., Gateway], method: str
) -> None:
    with booth(make_gw) as (gw, clock, east, _):
        west = TestClient(east.app)
        e_auth, w_auth = log_in(east, GUARD), log_in(west, GUARD)  # one guard, a tablet at each booth
        clock["now"] += M
        fee = take(gw, east, e_auth, "苏E12345", method=method)
        cash = fee if method == "cash" else 0
        # Both confirm dialogs show the same shift and its cash on record.
        shown = [t.get("/api/shift").json() for t in (east, west)]
        assert [s["cash_fen"] for s in shown] == [cash, cash]
        body = {"counted_cash_fen": cash, "recorded_cash_fen": cash, "shift_start": shown[0]["start"]}

        def confirm(tablet: TestClient, auth: dict[str, str], booth: str) -> Any:
            key = {"Idempotency-Key": f"{booth}-60j-{method}"}  # each dialog's own
            return tablet.post("/api/shift/handover", headers=auth | key, json=body)

        clock["now"] += M
        answers = at_once(lambda: confirm(east, e_auth, "east"), lambda: confirm(west, w_auth, "west"))
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        done = next(a for a in answers if a.status_code == 201).json()
        err = next(a for a in answers if a.status_code == 409).json()["error"]
        # Told it was handed over already, by this account and when: not that a fee changed the cash
        # on record to 0.00 元 (which sent him back to confirm his drawer as 长款).
        assert err["code"] == "already_done", err
        assert err["by"] == "guard1" and err["state"] == "same_account"
        assert err["at"] == done["handed_over_at"]
        records = _records(gw)
        assert len(records) == 1
        assert records[0]["recorded_cash_fen"] == cash and records[0]["difference_fen"] == 0


def test_a_page_drawn_before_a_handover_elsewhere_is_told_done_and_the_next_shift_hands_over(
    make_gw: Callable[..., Gateway],
) -> None:
    """Not at once: the west tablet's page shows the shift the east one has handed over since; its
    handover is already_done. The next shift, shown afresh, hands over; a client that sends no
    start hands over the shift as it stands, as before."""
    with booth(make_gw) as (gw, clock, east, _):
        west = TestClient(east.app)
        e_auth, w_auth = log_in(east, GUARD), log_in(west, GUARD)
        clock["now"] += M
        fee = take(gw, east, e_auth, "苏E12345")
        drawn = west.get("/api/shift").json()  # the west page, drawn with the 7元 shift
        assert drawn["start"] == T0.isoformat()
        body = {"counted_cash_fen": fee, "recorded_cash_fen": fee, "shift_start": drawn["start"]}
        clock["now"] += M
        assert east.post("/api/shift/handover", headers=e_auth, json=body).status_code == 201

        clock["now"] += M
        late = west.post("/api/shift/handover", headers=w_auth, json=body)
        assert late.status_code == 409 and late.json()["error"]["code"] == "already_done", late.text
        assert len(_records(gw)) == 1

        after = west.get("/api/shift").json()  # the page reloaded: the next shift, begun at the handover
        assert after["since"] == "handover" and after["cash_fen"] == 0
        clock["now"] += M
        fee2 = take(gw, west, w_auth, "苏E54321")
        body = {"counted_cash_fen": fee2, "recorded_cash_fen": fee2, "shift_start": after["start"]}
        assert west.post("/api/shift/handover", headers=w_auth, json=body).status_code == 201
        older = east.post("/api/shift/handover", headers=e_auth, json={"counted_cash_fen": 0})
        assert older.status_code == 201, older.text
        assert [r["recorded_cash_fen"] for r in _records(gw)] == [fee, fee2, 0]


def test_a_start_without_its_zone_is_refused_with_the_field_named(make_gw: Callable[..., Gateway]) -> None:
    with booth(make_gw) as (gw, clock, east, _):
        auth = log_in(east, GUARD)
        body = {"counted_cash_fen": 0, "shift_start": "2025-03-10T08:00:00"}
        sent = east.post("/api/shift/handover", headers=auth, json=body)
        assert sent.status_code == 422, sent.text
        assert _records(gw) == []
