"""The visitor form on a closed-management day (封闭式管理): it asks for the closed-management fields
only when the visit falls within the period's hours, as the gate applies them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from gateway.web.i18n import TEXTS
from tests.ui.conftest import GUARD, Site, bearer, log_in
from tests.ui.test_guard_visitor_edges import TZ, closed_site


@pytest.fixture
def daytime(tmp_path: Path) -> Iterator[tuple[Site, date]]:
    """Closed management 07:00-21:00 for three days, starting ten days from now."""
    day = datetime.now(TZ).date() + timedelta(days=10)
    site = closed_site(
        tmp_path, ClosedManagement(first_day=day, last_day=day + timedelta(days=2), hours=["07:00-21:00"])
    )
    yield site, day
    site.gw.stop()


def test_an_evening_visit_after_the_closed_hours_is_registered_as_the_gate_admits_it(
    daytime: tuple[Site, date],
) -> None:
    """21:30 on a closed day: the day's closed hours are over and the door lets a visitor in without
    ID number or phone. A visitor on foot for 21:30-23:30 is registered with name and host only."""
    site, day = daytime
    start, end = datetime.combine(day, time(21, 30), TZ), datetime.combine(day, time(23, 30), TZ)
    body = {"name": "王五", "host_building": "3栋", "host_unit": "2单元"}
    window = {"valid_from": start.isoformat(), "valid_to": end.isoformat()}
    assert site.gw.site.policy.closed_period(start + timedelta(minutes=15)) is None  # the gate
    with TestClient(create_app(site.gw)) as client:
        r = client.post("/api/visitors", json={**body, **window}, headers=bearer(site.guard_token))
        assert r.status_code == 201, r.text
        # Until 07:30 the next morning, the visit runs into the next day's closed hours.
        window["valid_to"] = (start + timedelta(hours=10)).isoformat()
        r = client.post("/api/visitors", json={**body, **window}, headers=bearer(site.guard_token))
    assert r.status_code == 422
    assert "closed management needs" in r.json()["error"]["message"]


def test_the_visitor_page_does_not_say_closed_management_after_the_days_closed_hours(
    daytime: tuple[Site, date],
) -> None:
    """At 21:30 on a closed day the gate admits visitors as usual, and the default pass (4 hours,
    to 01:30) has no closed hours in it: the form marks no closed-management field required and
    does not show 封闭管理期间：请登记全部必填项."""
    site, day = daytime
    evening = datetime.combine(day, time(21, 30), TZ)
    site.gw.now = lambda: evening  # type: ignore[method-assign]
    with TestClient(create_app(site.gw)) as client:
        rules = client.get("/api/visitors/rules", headers=bearer(site.guard_token)).json()
        log_in(client, GUARD)
        page = client.get("/visitors").text
    assert rules["closed_now"] is False
    assert rules["required"] == [], rules
    assert TEXTS["visitor.closed_now"][0] not in page
