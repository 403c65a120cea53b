"""docs/guard-app.md: a guard's login lasts `[http] session_hours` (12 by default, a shift), also
across the night the clocks change (an estate abroad, on Europe/Berlin): not 11 hours on the night
they go forward, nor 13 on the night they go back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import GUARD, Site

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("logged_in", "after", "status"),
    [
        pytest.param(datetime(2025, 3, 29, 20, 0, tzinfo=BERLIN), 11.5, 200, id="spring-still-on-shift"),
        pytest.param(datetime(2025, 10, 25, 20, 0, tzinfo=BERLIN), 12.5, 401, id="autumn-shift-over"),
    ],
)
def test_a_night_shift_login_lasts_twelve_real_hours(
    berlin_site: Site, logged_in: datetime, after: float, status: int
) -> None:
    """The night guard logs in at 20:00; the login ends 12 real hours later: at 09:00 by the wall
    clock in spring (the clocks skipped an hour), at 07:00 in autumn (they repeated one)."""
    gw = berlin_site.gw
    gw.now = lambda: logged_in  # type: ignore[method-assign]
    with TestClient(create_app(gw)) as client:
        r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
        assert r.status_code == 200, r.text
        then = (logged_in.astimezone(UTC) + timedelta(hours=after)).astimezone(BERLIN)
        gw.now = lambda: then  # type: ignore[method-assign]
        seen = client.get("/api/me").status_code
    assert seen == status, (
        f"logged in at {logged_in.isoformat()}, at {then.isoformat()} the session answered {seen}"
    )
