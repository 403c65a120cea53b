"""Months in service: every exit decision asks whether the car was held there to pay in the last half
hour, and the guard's "take the fee" quote asks which car is held. Their work must not grow with the
access log that retention keeps (180 days by default): it is counted here in SQLite's own steps, not
timed, so that a slow or busy machine cannot fail it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from gateway.runtime.gateway import Gateway
from tests.conftest import query_plan
from tests.parking.conftest import T0, show

D = timedelta(days=1)
MOVEMENTS_A_DAY = 3000  # a busy estate: half of them at the exit lane


def _fill(conn: sqlite3.Connection, start: datetime, days: int) -> None:
    """What the lanes wrote in those days, fast (SQL): strangers' cars in and out, nobody held."""
    n, step, t0 = days * MOVEMENTS_A_DAY, 86400.0 / MOVEMENTS_A_DAY, start.timestamp()
    with conn:
        conn.execute(
            f"""
            WITH RECURSIVE k(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM k WHERE x < {n - 1})
            INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
                                    billing)
            SELECT 'ev-' || x,
                   strftime('%Y-%m-%dT%H:%M:%f', {t0} + x * {step}, 'unixepoch') || '000+00:00',
                   CASE x % 2 WHEN 0 THEN 'car-in' ELSE 'car-out' END, 'cam', 'plate',
                   '苏E' || printf('%05d', x % 50000), 0.97, 1, 'temporary', 'temporary' FROM k
            """
        )


@contextmanager
def _steps(conn: sqlite3.Connection) -> Iterator[list[int]]:
    """SQLite virtual machine steps (in hundreds) run on the connection inside the block."""
    counted = [0]

    def tick() -> int:
        counted[0] += 1
        return 0

    conn.set_progress_handler(tick, 100)
    try:
        yield counted
    finally:
        conn.set_progress_handler(None, 0)


def _work(gw: Gateway) -> tuple[int, int]:
    """Steps of a resident car's exit decision, and of the lane's quote (nobody held, then a stranger)."""
    show(gw, "car-in", "皖B33333", T0)
    show(gw, "car-in", "苏E12345", T0 - timedelta(hours=2))
    with _steps(gw.conn) as exit_steps:
        assert show(gw, "car-out", "皖B33333", T0 + timedelta(minutes=30)).reason == "resident"
    with _steps(gw.conn) as quote_steps:
        assert gw.parking.lane_quote(gw.conn, "car-out", T0 + timedelta(minutes=30)) is None
        assert show(gw, "car-out", "苏E12345", T0 + timedelta(minutes=31)).reason == "payment_due"
        quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + timedelta(minutes=32))
    assert quote is not None and quote["plate"] == "苏E12345"
    return exit_steps[0], quote_steps[0]


def test_an_exit_decision_and_the_lane_quote_do_not_grow_with_the_kept_access_log(
    make_gw: Callable[..., Gateway],
) -> None:
    day = make_gw()
    _fill(day.conn, T0 - D, 1)
    month = make_gw()
    _fill(month.conn, T0 - 30 * D, 30)
    (exit_day, quote_day), (exit_month, quote_month) = _work(day), _work(month)
    # A month of records is 30 times the rows: work that walks the lane's history grows as much.
    assert exit_month <= 2 * exit_day + 50, (
        f"an exit decision ran {exit_month}00 SQLite steps with a month of records, {exit_day}00 with a day"
    )
    assert quote_month <= 2 * quote_day + 50, (
        f"the lane's quotes and the hold ran {quote_month}00 SQLite steps with a month of records, "
        f"{quote_day}00 with a day"
    )


def test_what_was_paid_on_a_carried_charge_is_found_without_reading_every_payment(gw: Gateway) -> None:
    """Payments are kept for ever (a trigger refuses deletes); an exit that carries an unpaid charge,
    and every daily report, sum the payments linked to each charge."""
    from gateway.store.parking import charge_owed_sql

    sql = f"SELECT {charge_owed_sql()} FROM charges c WHERE c.subject = ? AND c.settled_at IS NULL"
    plan = query_plan(gw.conn, sql, "vehicle:1")
    assert "SCAN p" not in plan and "payments_charge" in plan, plan
