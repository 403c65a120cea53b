"""Retention of what was kept for ever before: the audit trail (retention.audit_days, never its
last 180 days), closed alarms and patrol taps and rounds (as long as access records)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.audit import audit
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.test_operations import offline, ops, tap
from tests.test_config import problems_of, site_toml

D = timedelta(days=1)
NOW = datetime.now(UTC)


def _actions(gw: Gateway) -> list[str]:
    return [r[0] for r in gw.conn.execute("SELECT action FROM audit ORDER BY id")]


def test_the_audit_trail_is_cut_from_its_start_after_audit_days(gw: Gateway) -> None:
    # The gateway's own first row (the registry import) was written now, on the real clock.
    audit(gw.conn, NOW + 10 * D, "admin", "old.first")
    audit(gw.conn, NOW + 20 * D, "admin", "old.second")
    audit(gw.conn, NOW + 300 * D, "admin", "recent")
    audit(gw.conn, NOW + 30 * D, "guard1", "written.late")  # a Pi's boot clock 270 days behind
    audit(gw.conn, NOW + 400 * D, "admin", "today")
    counts = ops(gw).retention(NOW + 400 * D)  # audit_days 365 by default: up to NOW + 35 days
    assert counts["audit"] == 3
    # The row dated NOW + 30 days came after a recent one: it stays until the rows before it go.
    assert _actions(gw) == ["recent", "written.late", "today"]


def test_audit_days_below_the_legal_six_months_is_refused_with_the_fix(tmp_path: Path) -> None:
    problems = problems_of(site_toml(tmp_path) + "\n[retention]\naudit_days = 90\n")
    assert len(problems) == 1 and "audit_days" in problems[0] and "180" in problems[0]


def test_the_database_refuses_to_delete_the_last_six_months_of_the_trail(gw: Gateway) -> None:
    """Even code that asks (a bug, a hand at the sqlite3 prompt without dropping the trigger)."""
    audit(gw.conn, T0 - 179 * D, "admin", "within.six.months")
    audit(gw.conn, T0, "admin", "today")
    with pytest.raises(sqlite3.IntegrityError, match="last 180 days"):
        gw.conn.execute("DELETE FROM audit WHERE action = 'within.six.months'")
    gw.conn.execute("DELETE FROM audit WHERE at < ?", (to_db(T0 - 181 * D),))  # older rows may go


def test_a_trail_quiet_for_months_keeps_its_last_six_months_of_rows(make_gw: Callable[..., Gateway]) -> None:
    """Nothing audited for 300 days: rows past audit_days but within 180 days of the newest row,
    which the database keeps, are left rather than failing the retention pass."""
    gw = make_gw(extra="[retention]\naudit_days = 200\n")
    audit(gw.conn, NOW + 50 * D, "admin", "long.ago")
    audit(gw.conn, NOW + 100 * D, "admin", "before.the.quiet")
    audit(gw.conn, NOW + 200 * D, "admin", "last.before.today")
    assert ops(gw).retention(NOW + 500 * D)["audit"] == 1  # the import row of NOW
    assert _actions(gw) == ["long.ago", "before.the.quiet", "last.before.today"]


def test_closed_alarms_and_patrol_records_go_with_access_records(gw: Gateway) -> None:
    old, recent = T0 - 200 * D, T0 - 10 * D  # access_records_days 180
    raise_alarm(gw.conn, kind="device_offline", source="cam-old", text=offline("cam"), at=old)
    clear_alarm(gw.conn, kind="device_offline", source="cam-old", at=old + D)
    raise_alarm(gw.conn, kind="device_offline", source="cam-still", text=offline("cam"), at=old)
    raise_alarm(gw.conn, kind="device_offline", source="cam-recent", text=offline("cam"), at=old)
    clear_alarm(gw.conn, kind="device_offline", source="cam-recent", at=recent)
    tap(gw, old, "cp-a")
    tap(gw, recent, "cp-a")
    for due in (old, recent):
        gw.conn.execute(
            "INSERT INTO patrol_rounds (route, due_at, status, evaluated_at) "
            "VALUES ('night', ?, 'missed', ?)",
            (to_db(due), to_db(due)),
        )
    counts = ops(gw).retention(T0)
    assert counts["alarms"] == 1 and counts["patrol"] == 1
    sources = {r[0] for r in gw.conn.execute("SELECT source FROM alarms")}
    assert sources == {"cam-still", "cam-recent"}, "an open alarm stays however old; a closed one its time"
    assert [r[0] for r in gw.conn.execute("SELECT at FROM patrol_taps")] == [to_db(recent)]
    assert [r[0] for r in gw.conn.execute("SELECT due_at FROM patrol_rounds")] == [to_db(recent)]


def test_one_row_dated_years_ahead_does_not_keep_the_rows_after_it(gw: Gateway) -> None:
    """A bad time source set the clock five years ahead for a moment (NTP set it back) and one row
    was written then: the visitor registrations written after it (masked name, unit, plate) still go
    after audit_days, not in five years. The row dated ahead stays while the database protects it."""
    audit(gw.conn, NOW + 10 * D, "admin", "old.first")
    audit(gw.conn, NOW + 20 * D + 5 * 365 * D, "admin", "written.on.a.clock.ahead")
    audit(gw.conn, NOW + 21 * D, "guard1", "old.after.the.jump")
    for day in range(22, 300, 7):  # a year of ordinary rows
        audit(gw.conn, NOW + day * D, "guard1", f"old.{day}")
    audit(gw.conn, NOW + 800 * D, "admin", "today")
    ops(gw).retention(NOW + 800 * D)  # audit_days 365: up to NOW + 435 days
    left = _actions(gw)
    assert left == ["written.on.a.clock.ahead", "today"], f"{len(left) - 2} rows past audit_days kept"
