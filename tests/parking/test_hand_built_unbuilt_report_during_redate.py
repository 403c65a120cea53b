"""dcfe2ae: a report built by hand whose store waits behind NTP's re-dating keeps the day's rebuild
mark. But the re-dating marks only days that HAVE a stored report (reports_on_old_clock): a hand
build of Saturday made before the tick built it (period just ended on the stale clock) reads the
booth's 5 yuan on the stale Saturday, the re-dating (in turn before its store on the worker) moves
the payment to Monday and marks nothing, and the hand build then stores Saturday with the 5 yuan.
No mark -> nothing rebuilds it; Monday's report counts the 5 yuan too (review 56m). Each re-dating
now counts itself; a report read before one is stored with its day marked to rebuild."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.parking.operations import Operations
from tests.parking.conftest import T0
from tests.parking.stale_boot import STALE, H, M, S, booth_payment_on_a_stale_boot
from tests.rush_helpers import parking_gw


def test_hand_build_of_unbuilt_day_racing_redate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gw = parking_gw(tmp_path)
    o, steady = booth_payment_on_a_stale_boot(gw)
    steady.s = 3 * 3600 + 59 * 60
    o.tick(STALE + 3 * H + 59 * M)  # Saturday 23:59 stale: no Saturday report yet
    saturday = (STALE.date()).isoformat()
    assert gw.conn.execute("SELECT count(*) FROM daily_reports WHERE day = ?", (saturday,)).fetchone() == (0,)

    # Sunday 00:00:10 (stale): the office builds Saturday's report by hand; its rows are read,
    # its store waits on the worker where the tick's re-dating (NTP answers) is in turn first.
    queued: list[Callable[[Any], object]] = []
    turns = iter([True])

    def hand_run(fn):  # type: ignore[no-untyped-def]
        if next(turns, False):
            return fn(gw.conn)
        queued.append(fn)
        return None

    o.build_report(date.fromisoformat(saturday), STALE + 4 * H + 10 * S, actor="admin", run=hand_run)
    real_redate = Operations._redate

    def redate_then_hand_store(self: Operations, at):  # type: ignore[no-untyped-def]
        real_redate(self, at)
        for fn in queued:
            fn(gw.conn)
        queued.clear()

    monkeypatch.setattr(Operations, "_redate", redate_then_hand_store)
    steady.s = 4 * 3600 + 30
    o.tick(T0 + 4 * H + 10 * M)
    monkeypatch.undo()
    for seconds, at in ((24 * 3600, T0 + 24 * H), (24 * 3600 + 60, T0 + 24 * H + M)):
        steady.s = seconds
        o.tick(at)
    reports = {
        day: json.loads(body)["parking"]["revenue_fen"]
        for day, body in gw.conn.execute("SELECT day, body FROM daily_reports ORDER BY day")
    }
    assert sum(reports.values()) == 500, f"5 yuan taken once, the reports count {reports}"
