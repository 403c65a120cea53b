"""Two booth tablets: what one shows when the other has done the thing already, in a real Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import raise_alarm
from tests.ui.conftest import Site, bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401


@pytest.fixture
def two_tablets(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


def test_an_alarm_acknowledged_on_another_tablet_is_not_called_a_duplicate_plate(
    two_tablets: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Both tablets show a forced-open alarm; guard B acknowledges it first. Guard A's tap says it
    was dealt with already, by whom (not 与已有记录冲突 同一车牌、卡号), and the alarm leaves A's list."""
    site, url = two_tablets
    text = AlarmText("forced_open", {"lane": "door", "device": "door-lock"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "door", text, site.gw.now())).result(60)
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "alarms")
    row = page.locator("#alarm-list tr").first
    alarm_id = row.get_attribute("data-alarm")
    other = httpx2.post(f"{url}/api/alarms/{alarm_id}/acknowledge", json={}, headers=bearer(site.guard_token))
    assert other.status_code == 200, other.text
    row.locator("button").click()
    page.wait_for_selector("#toast >> text=已由 guard-bot 于")  # the other one: the token's name
    shown = page.inner_text("#toast")
    assert "车牌" not in shown and "卡号" not in shown, shown
    page.wait_for_selector("#no-alarms")  # reloaded: an acknowledged forced opening is closed
    assert script_errors(page) == []


def test_a_pass_checked_out_on_another_tablet_is_not_called_a_duplicate(
    two_tablets: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = two_tablets
    made = httpx2.post(
        f"{url}/api/visitors",
        json={"name": "李四", "host_building": "3栋", "host_unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    page = page_at(browser, url, LANDSCAPE)
    page.goto(f"{url}/passes/{made.json()['id']}")
    other = httpx2.post(f"{url}/api/passes/{made.json()['id']}/checkout", headers=bearer(site.guard_token))
    assert other.status_code == 200, other.text
    page.click("[data-post$=checkout]")
    page.wait_for_selector("#toast >> text=已由 guard-bot 于")
    assert page.locator("[data-post$=checkout]").count() == 0  # reloaded: checked out, no button
    assert script_errors(page) == []
