"""Two faults of Review 67 B3's sessions on a clock ahead (Review 67 I2, I3).

A login that waited in memory (a full disk, a card gone read-only: runtime/kept_sessions.py) is
written later at its own time; its sweep of the sessions "made on a clock ahead" was counted from
that time, so it took every session logged in more than an hour after it for one, and logged the
next shift's guard out. And an API token made with an expiry while the clock read 2035 kept that
expiry once the clock was set right: a 30-day token still worked 400 days later."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.store.accounts import (
    create_account,
    create_session,
    digest,
    get_account,
    record_login,
    session_account,
)
from gateway.store.database import open_database
from tests.ui.conftest import Site, bearer

T = datetime(2025, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
H = timedelta(hours=1)
HOURS = 12.0


def test_a_login_written_after_it_waited_logs_nobody_out(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "gateway.db").conn
    night, day = (
        get_account(conn, create_account(conn, T, "admin", name, name, "guard", "x"))
        for name in ("guard1", "guard2")
    )
    # 13:00: the disk has room again; guard2 logs in, on record at once ...
    token, _ = create_session(conn, T + 3 * H, day, HOURS)
    # ... then guard1's 10:00 login, kept in memory while the disk was full, is written at 10:00
    record_login(conn, T, night, HOURS, digest(secrets.token_urlsafe(32)), "csrf", "10.0.0.5")
    assert session_account(conn, token, T + 3 * H + timedelta(minutes=1), HOURS) is not None
    # a login made now still sweeps one made while the clock read 2035
    create_session(conn, T.replace(year=2035), day, HOURS)
    create_session(conn, T + 4 * H, night, HOURS)
    assert conn.execute("SELECT count(*) FROM sessions WHERE created_at > '2030'").fetchone() == (0,)


def test_a_token_made_on_a_clock_ahead_is_refused_once_it_is_set_right(
    client: TestClient, site: Site
) -> None:
    gw, true = site.gw, site.gw.now()
    gw.now = lambda: true.replace(year=true.year + 10)  # type: ignore[method-assign]  # typed 2035
    made = {
        days: client.post(
            "/api/tokens",
            json={"name": f"kiosk{days}", "role": "guard", "days": days},
            headers=bearer(site.admin_token),
        ).json()["token"]
        for days in (30, None)
    }
    gw.now = lambda: true + timedelta(days=400)  # type: ignore[method-assign]  # set right within the hour
    me = client.get("/api/me", headers=bearer(made[30]))
    assert me.status_code == 401 and me.json()["error"]["code"] == "bad_token", me.text
    assert "clock" in me.json()["error"]["message"] and "new token" in me.json()["error"]["fix"], me.text
    # one made without an expiry has none to be wrong: it still works
    assert client.get("/api/me", headers=bearer(made[None])).status_code == 200
