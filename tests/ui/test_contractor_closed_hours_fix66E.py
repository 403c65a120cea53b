"""Review 66 E (smaller): during closed management that turns contractors away (07:00-21:00 from
1 March to 31 May), a crew's pass for 08:00-18:00 to 30 April was issued with no word, and its QR
then opened no door on any day of it. Visitors get the period's rules up front (visitor_rules);
a contractor pass that could open the door at no moment of its window is now refused when issued,
saying why (docs/guard-app.md, *Contractors*)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, Site, bearer, start_site

TZ = ZoneInfo("Asia/Shanghai")
CLOSED = """
[[policy.closed_management]]
first_day = 2025-03-01
last_day = 2025-05-31
hours = ["07:00-21:00"]
"""
CREW = {"name": "赵装修", "company": "好家装饰", "host_building": "3栋", "host_unit": "2单元"}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def closed_site(tmp_path: Path) -> Iterator[Site]:
    text = site_toml(tmp_path / "data") + DRIVEN
    site = start_site(parse_config(text.replace("[[zones]]", CLOSED + "\n[[zones]]", 1), "site.toml"))
    site.gw.now = Clock(datetime(2025, 3, 3, 10, 0, tzinfo=TZ))
    yield site
    site.gw.stop()


def _issue(site: Site, **body: Any) -> Any:
    with TestClient(create_app(site.gw)) as client:
        return client.post("/api/contractors", json={**CREW, **body}, headers=bearer(site.admin_token))


def test_a_crew_pass_the_period_keeps_out_all_through_is_refused(closed_site: Site) -> None:
    r = _issue(closed_site, hours=["08:00-18:00"], valid_to="2025-04-30")
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "closed_management" and "hours" in error["fields"], error


@pytest.mark.parametrize(
    "body",
    [
        {"hours": ["08:00-18:00"], "valid_to": "2025-06-10"},  # runs past the period's last day
        {"hours": ["06:00-18:00"], "valid_to": "2025-04-30"},  # 06:00-07:00 is outside its hours
        {"hours": ["20:00-23:00"], "valid_to": "2025-04-30"},  # an evening crew after 21:00
        {"valid_to": "2025-04-30"},  # any time: at night too
    ],
)
def test_a_crew_pass_with_some_open_hours_is_issued(closed_site: Site, body: dict[str, Any]) -> None:
    r = _issue(closed_site, **body)
    assert r.status_code == 201, r.text
