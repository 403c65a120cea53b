"""A car let out by a single opening by hand whose record waits in memory for storage (another
process holds the database: a `gateway import` stopped with Ctrl-Z, docs/guard-app.md): written in
turn behind its opening's record, never let out again by the next opening, and named in the journal
if the gateway stops before it is written (docs/parking.md, *Let out by hand*)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_opened_by_hand import RELAY, STRANGER, _exit_with_relay, _rows, _until

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_the_car_let_out_by_the_first_opening_is_on_record_as_let_out_by_it(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """reentry = "charge". A stranger is held at car-out for 7元 and the database is held locked
    by another process. At 11:00 the guard presses 开闸 ("业主确认访客"): the barrier opens, the
    stranger drives out, the opening and the car's let-out wait in memory. At 11:01 the guard
    presses 开闸 again for the next car ("后车"); then the lock is let go.

    The record had the stranger let out at 11:01 by the second opening (its reason), its
    `stay.close` and `closed_by_hand` written before either opening's record. The stranger left at
    11:00 by the first opening: one let-out, dated and worded as that opening, written after the
    opening's record (parking.md, *Let out by hand*: "the car's record waits in memory behind the
    opening's and is written after it"). Nor does the lane's display, after the second opening,
    name the stranger who had left a minute before."""
    gw = make_gw(extra=RELAY, reentry="charge")
    shown: list[list[str]] = []
    boards = gw.by_hand._boards
    told = boards.show
    monkeypatch.setattr(
        boards, "show", lambda lane, lines, **how: (shown.append(lines), told(lane, lines, **how))[1]
    )
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", STRANGER, T0)
        held = look("car-out", STRANGER, T0 + 2 * H)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout=100")).result()  # a box's 10 s, shortened
        other = sqlite3.connect(gw.db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert open_by_hand()["record_waits"] is True  # 11:00, 业主确认访客，已线下处理
            gw.now = lambda: T0 + 2 * H + M  # type: ignore[method-assign]
            second = open_by_hand()  # 11:01, for the car behind
            assert second["record_waits"] is True
            assert shown and STRANGER not in "".join(shown[-1]), f"the second opening shows {shown[-1]}"
        finally:
            other.execute("ROLLBACK")
            other.close()
        _until(lambda: gw.by_hand.unrecorded_opens() == 0, "the waiting records were never written")
        gw.on_worker(lambda c: None).result(timeout=15)
        stays = _rows(gw, "SELECT exited_at, closed_by FROM stays")
        charges = _rows(gw, "SELECT kind, amount_fen FROM charges ORDER BY id")
        sent = [
            json.loads(p)["change"] for (p,) in _rows(gw, "SELECT payload FROM outbox WHERE topic = 'stay'")
        ]
        trail = _rows(
            gw, "SELECT action, at FROM audit WHERE action IN ('lane.open', 'stay.close') ORDER BY id"
        )
    first = to_db(T0 + 2 * H)
    assert charges == [("reentry", 700)], f"the car let out once is charged {charges}"
    assert sent.count("closed_by_hand") == 1, sent
    assert stays == [(first, "hand")], f"the car that left at 11:00 is on record as {stays}"
    assert trail[:2] == [("lane.open", first), ("stay.close", first)], (
        f"the audit trail (oldest first) reads {trail}"
    )


def test_the_journal_line_of_a_let_out_never_recorded_names_the_car(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """A stranger held at car-out for 7元 is let out by the guard's 开闸 while another process
    holds the database locked; the gateway is stopped (an upgrade, the watchdog) before the lock
    is let go. The car's let-out is lost with the process: its stay stays open on record for good
    (the car counted inside, holding a space; back another day it is 'already inside' and billed
    from this entry). The journal line that is "its only record" read
    `lane let_out by hand never recorded ... lane=car-out actor=... reason=... at=...`: nothing said
    which car or stay, so the installer could not close it (POST /api/parking/stays/{id}/close).
    It names the car's plate and its stay, and that fix."""
    caplog.set_level(logging.ERROR)
    gw = make_gw(extra=RELAY)
    other = sqlite3.connect(gw.db_path, isolation_level=None, check_same_thread=False)
    try:
        with _exit_with_relay(gw) as (look, open_by_hand):
            look("car-in", STRANGER, T0)
            held = look("car-out", STRANGER, T0 + 2 * H)
            assert (held.reason, held.fee_fen) == ("payment_due", 700)
            stay_id = _rows(gw, "SELECT id FROM stays")[0][0]
            gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout=100")).result()
            other.execute("BEGIN IMMEDIATE")
            assert open_by_hand()["record_waits"] is True
        # the gateway has stopped, the lock still held
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
    lost = [r.getMessage() for r in caplog.records if "never recorded" in r.getMessage()]
    let_out = [m for m in lost if "let_out" in m]
    assert let_out, f"no journal line for the car let out: {lost}"
    assert STRANGER in let_out[0], f"the only record of the car let out reads: {let_out[0]}"
    assert f"stay={stay_id}" in let_out[0], let_out[0]
    assert f"/api/parking/stays/{stay_id}/close" in let_out[0], let_out[0]
