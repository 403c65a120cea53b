"""A report built by hand whose store waits behind NTP's re-dating on the decision worker (review
56h). The hand build (POST /api/parking/reports/<day>/build) reads its rows, then waits its turn on
the worker to store them; the tick's re-dating, in turn before it, marks the stale day to rebuild
(gateway/store/report_rebuilds.py). The hand build stored Saturday's figures as read on the stale
clock and took the mark with it: the booth's 5 yuan stayed in Saturday's report and Monday's. A
report now forgets the mark only if no re-dating committed after it read its rows (review 56m: a
global count, read before the rows; else the day stays marked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.parking.operations import Operations
from gateway.store.database import transaction
from gateway.store.report_rebuilds import keep_rebuilds, redatings, reports_to_rebuild, stored_rebuild
from tests.parking.conftest import T0
from tests.parking.stale_boot import STALE, H, M, booth_payment_on_a_stale_boot
from tests.rush_helpers import parking_gw


def _revenue(gw) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        day: json.loads(body)["parking"]["revenue_fen"]
        for day, body in gw.conn.execute("SELECT day, body FROM daily_reports ORDER BY day")
    }


@pytest.mark.parametrize(
    "by_hand", [False, True], ids=["tick alone", "hand build stored after the re-dating"]
)
def test_the_booth_payment_is_in_one_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, by_hand: bool
) -> None:
    gw = parking_gw(tmp_path)
    o, steady = booth_payment_on_a_stale_boot(gw)
    steady.s = 4 * 3600 + 5 * 60
    o.tick(STALE + 4 * H + 5 * M)  # Saturday's report built on the stale clock
    (saturday,) = gw.conn.execute("SELECT day FROM daily_reports ORDER BY day DESC LIMIT 1").fetchone()

    now = T0 + 4 * H + 10 * M
    if by_hand:
        # The office asks for Saturday's report again: its rows are read now; its store waits for
        # the worker, where the tick's re-dating (NTP just set the clock) is in turn before it.
        queued: list[Callable[[Any], object]] = []
        turns = iter([True])

        def hand_run(fn):  # type: ignore[no-untyped-def]
            if next(turns, False):
                return fn(gw.conn)  # the turn it waits for before reading
            queued.append(fn)
            return None

        o.build_report(date.fromisoformat(saturday), now, actor="admin", run=hand_run)
        real_redate = Operations._redate

        def redate_then_hand_store(self: Operations, at):  # type: ignore[no-untyped-def]
            real_redate(self, at)
            for fn in queued:
                fn(gw.conn)

        monkeypatch.setattr(Operations, "_redate", redate_then_hand_store)

    steady.s = 4 * 3600 + 10 * 60
    o.tick(now)
    monkeypatch.undo()
    for seconds, at in ((24 * 3600, T0 + 24 * H), (24 * 3600 + 60, T0 + 24 * H + M)):
        steady.s = seconds
        o.tick(at)
    reports = _revenue(gw)
    assert sum(reports.values()) == 500, f"5 yuan taken once, the reports count {reports}"
    assert reports[saturday] == 0
    if by_hand:
        (audited,) = gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'report.build'").fetchone()
        assert audited == 1, "the hand build was stored (and audited), then rebuilt by the tick"


def test_a_report_read_before_a_redating_leaves_the_day_marked(tmp_path: Path) -> None:
    """A report whose rows were read before a re-dating (one that marked another day, or none)
    leaves its day marked; one read after every re-dating forgets the mark."""
    gw = parking_gw(tmp_path)
    day = date(2025, 2, 28)
    gw.conn.execute(
        "INSERT INTO daily_reports (day, period_start, period_end, built_at, body) "
        "VALUES (?, '', '', '', '{}')",
        (day.isoformat(),),
    )
    assert redatings(gw.conn) == 0
    with transaction(gw.conn):
        keep_rebuilds(gw.conn, [day], T0)
    first = redatings(gw.conn)
    with transaction(gw.conn):
        keep_rebuilds(gw.conn, [], T0 + H)
    second = redatings(gw.conn)
    assert second == first + 1
    for read, left in ((0, [day]), (first, [day]), (second, [])):
        with transaction(gw.conn):
            stored_rebuild(gw.conn, day, read, T0 + 2 * H)
        assert reports_to_rebuild(gw.conn) == left
    with transaction(gw.conn):
        stored_rebuild(gw.conn, day, first, T0 + 2 * H)  # read before the last: marked again
    assert reports_to_rebuild(gw.conn) == [day]
