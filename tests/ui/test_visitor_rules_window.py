"""GET /api/visitors/rules for the window a guard types: what the visitor page marks required is
what registering a visitor for that window is refused without, on a closed-management evening."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_visitor_edges import TZ, closed_site


@pytest.fixture
def evening(tmp_path: Path) -> Iterator[tuple[Site, date]]:
    """Closed management 07:00-21:00 for three days from ten days ahead; it is 21:30 on the first."""
    day = datetime.now(TZ).date() + timedelta(days=10)
    site = closed_site(
        tmp_path, ClosedManagement(first_day=day, last_day=day + timedelta(days=2), hours=["07:00-21:00"])
    )
    site.gw.now = lambda: datetime.combine(day, time(21, 30), TZ)  # type: ignore[method-assign]
    yield site, day
    site.gw.stop()


def test_the_rules_for_a_typed_window_are_those_registering_checks(evening: tuple[Site, date]) -> None:
    """A visit typed in for 09:00-11:00 tomorrow: the rules name the fields the registration of a
    visitor on foot is refused without (all but the vehicle's occupants); one for 21:30-23:30
    tonight needs none, and is registered with a name alone."""
    site, day = evening
    guard = bearer(site.guard_token)
    tomorrow = datetime.combine(day + timedelta(days=1), time(9))  # as the form's datetime-local sends it
    tonight = datetime.combine(day, time(21, 30))
    with TestClient(create_app(site.gw)) as client:

        def ask(start: datetime, end: datetime | None = None) -> tuple[list[str], Response]:
            window = {"valid_from": start.isoformat(timespec="minutes")}
            if end:
                window["valid_to"] = end.isoformat(timespec="minutes")
            rules = client.get("/api/visitors/rules", params=window, headers=guard)
            assert rules.status_code == 200, rules.text
            assert rules.json()["closed_now"] is False  # 21:30: the day's closed hours are over
            registered = client.post("/api/visitors", json={"name": "王五", **window}, headers=guard)
            return rules.json()["required"], registered

        required, registered = ask(tomorrow, tomorrow + timedelta(hours=2))
        refused = registered.json()["error"]
        assert refused["code"] == "refused" and "closed management needs" in refused["message"]
        assert "phone" in required and refused["fields"] == [f for f in required if f != "occupants"]

        # Only a start: the default visitor hours from it, as registering counts them (into 07:00).
        assert ask(tomorrow - timedelta(hours=2))[0] == required

        required, registered = ask(tonight, tonight + timedelta(hours=2))
        assert required == []
        assert registered.status_code == 201, registered.text
