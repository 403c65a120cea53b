"""A reason left empty is told how many characters the route takes, as one too short is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2

from tests.ui.conftest import ADMIN, Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def test_a_blank_reason_to_record_a_car_inside_is_asked_for_two_characters(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """An admin fills 登记场内车辆 with a reason of two spaces (the input's minlength 2 and required
    take it; the page sends no reason, as it sends no empty field): the page says 请填写原因，至少 1 个字,
    and one character typed then is refused again; it should say 至少 2 个字 from the first."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")
    form.locator("input[name=plate]").fill("皖B99999")
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill("  ")
    form.locator("button[type=submit]").click()
    told = bad_toast(page)
    assert stored(site, "SELECT count(*) FROM stays") == [(0,)]
    assert "至少 2 个字" in told, f"the page asks for fewer characters than the gateway takes: {told}"


def test_the_api_fix_for_a_missing_reason_names_the_routes_least(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """A client that leaves out the reason of 已离场 (close a stay) is told "say why, in 1 characters or
    more" and least 1; sending one character as told is refused asking for 2. The first answer
    should say 2."""
    site, url = own_site
    admin = bearer(site.admin_token)
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz).strftime("%Y-%m-%d %H:%M")
    car = {"plate": "皖B99999", "entered_at": came_in, "reason": "补录"}
    made = httpx2.post(f"{url}/api/parking/stays", json=car, headers=admin)
    assert made.status_code == 200, made.text
    close = f"{url}/api/parking/stays/{made.json()['stay_id']}/close"
    missing = httpx2.post(close, json={}, headers=admin).json()["error"]
    short = httpx2.post(close, json={"reason": "走"}, headers=admin).json()["error"]
    assert (missing["code"], short["code"], short["least"]) == ("reason_required", "reason_required", 2)
    assert missing["least"] == 2, f"a missing reason is told {missing['least']}: {missing['fix']}"
