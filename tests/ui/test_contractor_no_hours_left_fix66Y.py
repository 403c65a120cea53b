"""Review V (on 45037c1d): at a site with no closed management at all, an admin at 19:00 issuing a
crew's pass for today 08:00-18:00 was refused as closed management keeping contractors out, told to
admit contractors in a period that does not exist. Its hours are over: it is now refused as a pass
with no open hour left, naming its end (valid_to) to change; the same for an extension."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, Site, bearer, start_site
from tests.ui.test_contractor_closed_hours_fix66E import CLOSED, CREW, TZ, Clock

TODAY = {"hours": ["08:00-18:00"], "valid_from": "2025-03-03", "valid_to": "2025-03-03"}


def _site(tmp_path: Path, extra: str) -> Site:
    text = site_toml(tmp_path / "data") + DRIVEN
    site = start_site(parse_config(text.replace("[[zones]]", extra + "\n[[zones]]", 1), "site.toml"))
    site.gw.now = Clock(datetime(2025, 3, 3, 19, 0, tzinfo=TZ))
    return site


@pytest.fixture(params=["", CLOSED], ids=["no_closed_management", "closed_management"])
def evening_site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    site = _site(tmp_path, request.param)
    yield site
    site.gw.stop()


def _no_hours_left(error: dict) -> None:
    assert error["code"] == "invalid_pass", error
    assert error["fields"] == ["valid_to"], error
    assert "closed management" not in error["message"] + error["fix"], error
    assert "no open hour" in error["message"], error


def test_a_pass_for_today_issued_after_its_hours_is_told_its_hours_are_over(evening_site: Site) -> None:
    with TestClient(create_app(evening_site.gw)) as client:
        r = client.post("/api/contractors", json={**CREW, **TODAY}, headers=bearer(evening_site.admin_token))
    assert r.status_code == 422, r.text
    _no_hours_left(r.json()["error"])


def test_an_extension_that_leaves_no_open_hour_is_told_so(tmp_path: Path) -> None:
    site = _site(tmp_path, "")
    try:
        site.gw.now = Clock(datetime(2025, 3, 3, 10, 0, tzinfo=TZ))
        with TestClient(create_app(site.gw)) as client:
            made = client.post(
                "/api/contractors",
                json={**CREW, "hours": ["08:00-09:00"], "valid_from": "2025-03-01", "valid_to": "2025-03-03"},
                headers=bearer(site.admin_token),
            )
            assert made.status_code == 422, made.text  # 08:00-09:00 today is over at 10:00 too
            made = client.post(
                "/api/contractors",
                json={
                    **CREW,
                    "hours": ["08:00-09:00"],
                    "valid_from": "2025-03-03",
                    "valid_to": "2025-03-04T12:00",
                },
                headers=bearer(site.admin_token),
            )
            assert made.status_code == 201, made.text
            site.gw.now = Clock(datetime(2025, 3, 4, 19, 0, tzinfo=TZ))
            url = f"/api/passes/{made.json()['id']}/extend"
            r = client.post(url, json={"valid_to": "2025-03-04T23:00"}, headers=bearer(site.admin_token))
            assert r.status_code == 422, r.text
            _no_hours_left(r.json()["error"])
            later = client.post(url, json={"valid_to": "2025-03-05"}, headers=bearer(site.admin_token))
            assert later.status_code == 200, later.text
    finally:
        site.gw.stop()
