"""The live page's lane pill names who holds the lane open as the rest of the pages name him (his
display name), in a real Chromium; the status keeps the login in `held_by`."""

from __future__ import annotations

import httpx2

from tests.ui.conftest import ADMIN, Site, bearer
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at, pytestmark  # noqa: F401

RELEASE = "#lane-car-in [data-lane-action=release]"


def test_the_held_pill_names_the_guard_as_the_pages_do(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """guard1 (显示名 张师傅) holds car-in on his tablet; the admin's tablet showed the lane's row
    '常开 · 张师傅' but its status pill '常开中 · guard1', a login name the pages never show elsewhere
    (docs/guard-app.md: a Chinese name goes in the display name). The pill names 张师傅."""
    site, url = fresh_site
    mine = page_at(browser, url, PORTRAIT)
    other = page_at(browser, url, PORTRAIT, who=ADMIN)
    mine.click("#lane-car-in [data-lane-action=hold]")
    mine.wait_for_selector("#reason-dialog[open]")
    mine.fill("#reason-input", "车队")
    mine.click("#reason-ok")
    other.wait_for_selector(RELEASE, state="visible")
    other.wait_for_selector("#lane-car-in [data-recent] li.manual")
    row = other.inner_text("#lane-car-in [data-recent] li.manual")
    pill = other.inner_text("#lane-car-in [data-status]")
    assert "张师傅" in row, row
    assert "张师傅" in pill and "guard1" not in pill, f"pill reads {pill!r} while the row reads {row!r}"


def test_the_status_keeps_the_login_and_adds_the_shown_name(fresh_site: tuple[Site, str]) -> None:
    """GET /api/lanes: `held_by` stays the login (scripts and the centre's tools read it), and
    `held_by_name` is the name the pages show; a token's hold is named by the token's name."""
    site, url = fresh_site
    held = httpx2.post(
        f"{url}/api/lanes/car-in/hold", json={"reason": "车队"}, headers=bearer(site.guard_token)
    )
    assert held.status_code == 200, held.text
    lanes = httpx2.get(f"{url}/api/lanes", headers=bearer(site.guard_token)).json()
    car_in = next(lane for lane in lanes if lane["id"] == "car-in")
    assert car_in["held_by"].startswith("token:"), car_in
    assert car_in["held_by_name"] == car_in["held_by"].removeprefix("token:"), car_in
    car_out = next(lane for lane in lanes if lane["id"] == "car-out")
    assert car_out["held_by"] is None and car_out["held_by_name"] is None, car_out
