"""A guard's login made while the clock was ahead (an hour of an installer's 2035 for 2025, or a
bad NTP answer) stayed live for ten years once the clock was set right: sessions were timed on the
wall clock alone, and one dated after now always looked fresh (Review 67 B3). Now a session opened
more than CLOCK_ALARM after now is refused (and swept at the next login), while a clock set back
less than that, which the gateway takes without an alarm, logs nobody out."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.store.accounts import create_account, create_session, get_account, session_account
from gateway.store.database import open_database

T = datetime(2025, 3, 3, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOURS = 12.0


def test_a_login_on_a_clock_ahead_ends_when_it_is_set_right(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "gateway.db").conn
    guard = get_account(conn, create_account(conn, T, "admin", "guard1", "张师傅", "guard", "x"))
    assert guard is not None
    typed_ahead, _ = create_session(conn, T.replace(year=2035), guard, HOURS)
    now = T + timedelta(hours=2)  # set right, an hour after the typo
    assert session_account(conn, typed_ahead, now, HOURS) is None
    assert session_account(conn, typed_ahead, now + timedelta(days=365 * 5), HOURS) is None
    on_time, _ = create_session(conn, now, guard, HOURS)  # the next login sweeps the one ahead
    assert conn.execute("SELECT count(*) FROM sessions WHERE created_at > '2030'").fetchone()[0] == 0
    assert session_account(conn, on_time, now + timedelta(hours=1), HOURS) is not None
    # NTP sets a fast clock back 40 minutes: the login just made on it stays
    set_back, _ = create_session(conn, now + timedelta(minutes=40), guard, HOURS)
    assert session_account(conn, set_back, now + timedelta(minutes=1), HOURS) is not None
