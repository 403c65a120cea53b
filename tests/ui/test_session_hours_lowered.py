"""docs/guard-app.md: sessions last `[http] session_hours`. An estate that wants guards on a shared
booth tablet to log in again every 2 hours lowers it and restarts the service: a guard logged in
before the restart must be logged out by the new length, not keep the old one. Raising the setting
gives no session opened before more than it was given at login."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.api.auth import SESSION_COOKIE
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, GUARD, start_site


def _with_session_hours(data: Path, hours: float) -> str:
    return site_toml(data).replace("port = 8080", f"port = 8080\nsession_hours = {hours}") + DRIVEN


def _guard_logs_in(data: Path, hours: float) -> str:
    site = start_site(parse_config(_with_session_hours(data, hours), "site.toml"))
    try:
        with TestClient(create_app(site.gw)) as client:
            r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
            assert r.status_code == 200, r.text
            cookie = client.cookies.get(SESSION_COOKIE)
    finally:
        site.gw.stop()
    assert cookie
    return cookie


def _me_after_restart(data: Path, hours: float, cookie: str, after: timedelta) -> int:
    """GET /api/me with the cookie, `after` the login, on a gateway restarted with `hours`."""
    gw = Gateway(parse_config(_with_session_hours(data, hours), "site.toml"))
    later = gw.now() + after
    gw.now = lambda: later  # type: ignore[method-assign]
    gw.start()
    try:
        with TestClient(create_app(gw)) as client:
            client.cookies.set(SESSION_COOKIE, cookie)
            return client.get("/api/me").status_code
    finally:
        gw.stop()


@pytest.mark.parametrize(
    ("at_login", "after_restart", "after", "status"),
    [
        pytest.param(12, 2, timedelta(hours=3), 401, id="lowered-ends-older-session"),
        pytest.param(12, 2, timedelta(hours=1), 200, id="lowered-keeps-younger-session"),
        pytest.param(2, 8, timedelta(hours=3), 401, id="raised-lengthens-nothing"),
    ],
)
def test_a_session_opened_before_session_hours_changed_ends_by_the_shorter_length(
    tmp_path: Path, at_login: float, after_restart: float, after: timedelta, status: int
) -> None:
    cookie = _guard_logs_in(tmp_path / "data", at_login)
    seen = _me_after_restart(tmp_path / "data", after_restart, cookie, after)
    assert seen == status, (
        f"{after} after logging in with session_hours = {at_login}, restarted with {after_restart}: "
        f"the guard's session answered {seen}, expected {status}"
    )
