"""The hourly retention pass on a box that has run for months. Its batches run on the decision
worker, which every card and plate at a lane waits for, and docs/parking.md (Retention) promises
"A batch reads what it deletes, not what the box keeps". Counted in SQLite's own steps on the
worker's connection, not timed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking import test_month_fix45_report_cost as _cost
from tests.parking.conftest import T0
from tests.parking.test_operations import ops

D = timedelta(days=1)


def _rounds(gw: Gateway, days: int) -> None:
    """36 patrol rounds judged a day (three routes every two hours), kept 180 days."""
    _cost._fill(
        gw,
        days,
        36,
        "INSERT INTO patrol_rounds (route, due_at, status, evaluated_at) "
        "SELECT 'route' || (i % 3), t, 'done', t FROM times",
    )


def _retention_steps(gw: Gateway) -> int:
    """SQLite's steps in one hourly retention pass two days after T0, every batch on the worker's
    connection (nothing is due: all the history is within retention)."""
    o = ops(gw, T0)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn: sqlite3.Connection = gw.conn
    conn.set_progress_handler(count, 1)
    try:
        o.retention(T0 + 2 * D)
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


def _compare(make_gw: Callable[..., Gateway], fill: Callable[[Gateway, int], None], what: str) -> None:
    small, big = make_gw(), make_gw()
    fill(small, 20)
    fill(big, 160)
    a, b = _retention_steps(small), _retention_steps(big)
    assert b < 1.2 * a, (
        f"an hourly retention pass with nothing due: {a} SQLite steps on the decision worker with 20 "
        f"days of {what} kept, {b} with 160 days"
    )


def test_an_hourly_pass_with_no_alarm_due_costs_the_same_however_many_alarms_are_kept(
    make_gw: Callable[..., Gateway],
) -> None:
    """Closed alarms are found by reading every alarm kept (no index on cleared_at), on the decision
    worker, every hour: the lanes wait longer each day for half a year (100 alarms a day, a camera on
    a weak link). It should read only the alarms past retention."""
    _compare(make_gw, _cost._alarms, "closed alarms")


def test_an_hourly_pass_with_no_patrol_round_due_costs_the_same_however_many_rounds_are_kept(
    make_gw: Callable[..., Gateway],
) -> None:
    """Patrol rounds past retention are looked for by reading every round kept (the key begins with
    the route, not the time), on the decision worker, every hour. It should read only those due."""
    _compare(make_gw, _rounds, "patrol rounds")
