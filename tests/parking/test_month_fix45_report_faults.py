"""The devices section of the daily report on a box that has run for months: each fault of the day
is looked up for the repair_overdue the centre was told of it. That look must read that device's
alarms, not every alarm kept. Counted in SQLite's steps, as test_month_fix45_report_cost does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking import test_month_fix45_report_cost as cost
from tests.parking.conftest import T0


def _faults_of_t0_day(gw: Gateway) -> None:
    """50 cameras dropping off for ten minutes during T0's day (its report runs from 06:00)."""
    gw.conn.executemany(
        "INSERT INTO alarms (kind, source, message, raised_at, cleared_at) "
        "VALUES ('device_offline', ?, 'offline', ?, ?)",
        [
            (f"camera-{i}", to_db(T0 + timedelta(minutes=10 * i)), to_db(T0 + timedelta(minutes=10 * i + 10)))
            for i in range(50)
        ],
    )


def test_the_faults_of_a_day_cost_the_same_however_many_alarms_are_kept(
    make_gw: Callable[..., Gateway],
) -> None:
    """Each fault of the day looked for its repair_overdue among every alarm kept (180 days of a
    camera on a weak link): 50 faults read the whole table 100 times over."""
    small, big = make_gw(), make_gw()
    cost._alarms(small, 20)
    cost._alarms(big, 160)
    for gw in (small, big):
        _faults_of_t0_day(gw)
    a, b = cost._report_steps(small), cost._report_steps(big)
    assert b < 1.2 * a, (
        f"the report of a day with 50 faults: {a} SQLite steps with 20 days of alarms kept, {b} with 160"
    )
