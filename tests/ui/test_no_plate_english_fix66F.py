"""A car with no plate on the 车位 Occupancy page of an English site (Review 66 F2): recorded inside
with the form's No plate button, and found by typing the words its row shows, "No plate". Before,
both asked for 无牌车, typed with a Chinese input method."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import ADMIN, DRIVEN, GUARD, Site, log_in, script_errors, served, stored

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def english_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    text = (site_toml(tmp_path / "data") + DRIVEN + TARIFF_TOML).replace(
        'name = "测试小区"\n', 'name = "测试小区"\nlanguage = "en"\n', 1
    )
    with served(parse_config(text, "site.toml")) as served_site:
        yield served_site


def test_an_admin_records_a_car_with_no_plate_in_english_by_its_button(
    english_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    """The hint said "type 无牌车 as the plate" and the form had no button for it: an English
    keyboard could not record the car. Now No plate records it, and the page shows its ticket."""
    site, url = english_site
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    ticket = f"无牌-{came_in:%m%d}-01"
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    hint = page.inner_text("#record-inside .muted")
    assert "No plate" in hint and not CJK.search(hint), hint
    form = page.locator("#record-inside-form")
    form.get_by_role("button", name="No plate").click()
    expect(form.locator("input[name=plate]")).to_be_disabled()
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("parked before the gateway")
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="Record a car inside").click()
    assert stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL") == [(ticket,)]
    assert unquote(page.url).endswith(f"/occupancy?plate={ticket}"), page.url
    expect(page.locator("#cars-list tr", has_text=ticket)).to_have_count(1)
    assert script_errors(page) == []


def test_no_plate_tapped_again_asks_for_the_plate_again(
    english_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    """Tapped by mistake and tapped again, the form records the plate typed, as before."""
    site, url = english_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")
    no_plate = form.get_by_role("button", name="No plate")
    no_plate.click()
    no_plate.click()
    form.locator("input[name=plate]").fill("苏E54321")
    form.locator("input[name=reason]").fill("parked before the gateway")
    with page.expect_navigation(wait_until="load"):
        form.get_by_role("button", name="Record a car inside").click()
    assert stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL") == [("苏E54321",)]


def test_the_chinese_form_has_the_button_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = site_toml(tmp_path / "data") + DRIVEN + TARIFF_TOML
    with served(parse_config(text, "site.toml")) as (site, _), TestClient(create_app(site.gw)) as c:
        log_in(c, ADMIN)
        page = c.get("/occupancy").text
    assert re.search(r"<button[^>]*data-no-plate-toggle[^>]*>无牌车</button>", page), page


def cars_found(client: TestClient, typed: str) -> list[str]:
    page = client.get("/occupancy", params={"plate": typed}).text
    return re.findall(r"<tr data-stay=\"[0-9]+\">\s*<td><strong>([^<]*)</strong>", page)


def test_the_words_the_list_shows_find_the_cars_with_no_plate(english_site: tuple[Site, str]) -> None:
    """Each such car's row says No plate; typed into Find by plate, that found nothing."""
    site, _ = english_site
    with TestClient(create_app(site.gw)) as c:
        h = log_in(c, GUARD)
        ticket = c.post("/api/lanes/car-in/plate", json={"no_plate": True}, headers=h).json()["plate"]
        assert c.post("/api/lanes/car-in/plate", json={"plate": "苏E12345"}, headers=h).status_code == 200
        for typed in ("No plate", "no plate", "NO PLATE", " noplate ", "无牌车"):
            assert cars_found(c, typed) == [ticket], typed
