"""The daily report on a box that has run for months: one day's report must cost what that day
holds, not what the box keeps. Counted in SQLite's own steps (as tests/test_retention_query_plans.py
and tests/parking/test_clock_fix45b_redate_work.py do), not timed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import T0, report_of_t0_day

D = timedelta(days=1)

# One row per :n, spread evenly over :days days before T0's day; :t is each row's time as stored.
_SPREAD = """
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :n - 1),
times(i, t) AS (SELECT i, strftime('%Y-%m-%dT%H:%M:%S', :start, printf('+%d seconds', i * :span / :n))
                          || '.000000+00:00' FROM n)
"""


def _fill(gw: Gateway, days: int, per_day: int, insert: str) -> None:
    """`per_day` rows a day over the `days` before T0's day."""
    conn = gw.conn
    conn.execute("BEGIN")
    conn.execute(
        _SPREAD + insert,
        {"n": days * per_day, "start": to_db(T0 - (days + 1) * D)[:19], "span": days * 86400},
    )
    conn.execute("COMMIT")


def _charges(gw: Gateway, days: int) -> None:
    """300 temporary cars' exit charges a day, each settled at its exit: the accounts, never pruned."""
    _fill(
        gw,
        days,
        300,
        "INSERT INTO charges (subject, plate, class, billing, kind, tariff_version, started_at, "
        "ended_at, amount_fen, at, settled_at) "
        "SELECT 'plate:苏E' || i, '苏E' || i, 'car', 'temporary', 'exit', 'v1', t, t, 700, t, t FROM times",
    )


def _stays(gw: Gateway, days: int) -> None:
    """1,000 closed stays a day (kept retention.access_records_days, 180)."""
    _fill(
        gw,
        days,
        1000,
        "INSERT INTO stays (subject, plate, class, zone, billing, entered_at, exited_at) "
        "SELECT 'plate:苏E' || i, '苏E' || i, 'car', 'main', 'temporary', t, t FROM times",
    )


def _alarms(gw: Gateway, days: int) -> None:
    """100 closed alarms a day (kept retention.access_records_days, 180): a camera on a weak link
    dropping off and coming back."""
    _fill(
        gw,
        days,
        100,
        "INSERT INTO alarms (kind, source, message, raised_at, cleared_at) "
        "SELECT 'device_offline', 'car-in-camera', 'offline', t, t FROM times",
    )


def _audit(gw: Gateway, days: int) -> None:
    """500 audit rows a day (kept retention.audit_days, 365): logins, lanes opened by hand."""
    _fill(
        gw,
        days,
        500,
        "INSERT INTO audit (at, actor, action, target, detail) "
        "SELECT t, 'guard1', CASE i % 2 WHEN 0 THEN 'session.login' ELSE 'lane.open' END, 'car-in', '' "
        "FROM times",
    )


def _report_steps(gw: Gateway) -> int:
    """SQLite's steps to build the report of T0's day, two days on."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    conn: sqlite3.Connection = gw.conn
    conn.set_progress_handler(count, 1)
    try:
        report_of_t0_day(gw, T0 + 2 * D)
    finally:
        conn.set_progress_handler(None, 0)
    return steps[0]


def _compare(
    make_gw: Callable[..., Gateway], fill: Callable[[Gateway, int], None], few: int, many: int
) -> None:
    small, big = make_gw(), make_gw()
    fill(small, few)
    fill(big, many)
    a, b = _report_steps(small), _report_steps(big)
    assert b < 1.2 * a, (
        f"the report of one day: {a} SQLite steps with {few} days of {fill.__name__.strip('_')} kept "
        f"before it, {b} with {many} days"
    )


def test_the_daily_report_does_not_read_every_charge_ever_made(make_gw: Callable[..., Gateway]) -> None:
    """Charges are never pruned (docs/parking.md, Retention: the accounts are kept), so a report that
    reads every charge before its day gets slower every day the box runs, for good. The report of a
    day should cost the same after a year as after a month (300 temporary cars a day)."""
    _compare(make_gw, _charges, 30, 365)


def test_the_daily_report_does_not_read_every_stay_kept(make_gw: Callable[..., Gateway]) -> None:
    """The report's peak occupancy counts the cars inside at the period's start by reading every
    stay kept (180 days of them): each day's report is slower than the last for half a year. The
    cars inside then are the open stays and those that left after it."""
    _compare(make_gw, _stays, 20, 160)


def test_the_daily_report_does_not_read_every_alarm_kept(make_gw: Callable[..., Gateway]) -> None:
    """The report's devices section reads every alarm kept (180 days) to find the faults of its
    day: each day's report is slower than the last for half a year."""
    _compare(make_gw, _alarms, 20, 160)


def test_the_daily_report_does_not_read_the_whole_audit_trail(make_gw: Callable[..., Gateway]) -> None:
    """The report's host validations and admin corrections are counted by reading the whole audit
    trail (365 days, every login and lane opened by hand): each day's report is slower than the last
    for a year."""
    _compare(make_gw, _audit, 30, 300)
