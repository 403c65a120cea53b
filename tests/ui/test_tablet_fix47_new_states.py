"""This session's new states on the booth tablet, in a real Chromium, in both languages and both
orientations (800x1280, 1280x800: docs/guard-app.md): a pass whose car is blocked, on the visitors
list and in the pass check's answer, fits the screen; a new resident refused for a field left blank
names the field as the admin form labels it."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx2
import pytest

from tests.ui.conftest import ADMIN, GUARD, Site, bearer

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    PORTRAIT,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
CAR_BLOCKED = {"zh": "车辆已禁用：车行出入口不放行此车", "en": "Vehicle blocked: refused at the car lanes"}
NOT_BEGUN = {"zh": "未到时间", "en": "Not yet valid"}
BUILDING = {"zh": "楼栋", "en": "Building"}
# Each case its own plate: a plate is on one pass at a time, and the site is the module's.
SCREENS = [
    ("en", LANDSCAPE, "苏E66601"),
    ("en", PORTRAIT, "苏E66602"),
    ("zh", LANDSCAPE, "苏E66603"),
    ("zh", PORTRAIT, "苏E66604"),
]
SCREEN_IDS = [f"{lang}-{size['width']}x{size['height']}" for lang, size, _ in SCREENS]


def in_language(page: Any, lang: str) -> None:
    """Switch the signed-in account's pages to `lang` (the top bar's 中文/English button names the
    other language), whatever an earlier test left the account in."""
    page.wait_for_load_state("load")  # the button's script wired up: a click before it does nothing
    if page.get_attribute("[data-lang]", "data-lang") == lang:
        with page.expect_navigation():
            page.click("[data-lang]")


def block_car(url: str, token: str, plate: str) -> None:
    """Block `plate` at once, as a guard does for a car reported stolen."""
    block = {"kind": "plate", "value": plate, "reason": "车辆被盗"}
    r = httpx2.post(f"{url}/api/credentials/block", json=block, headers=bearer(token))
    assert r.is_success, r.text


@pytest.mark.parametrize(("lang", "size", "car"), SCREENS, ids=SCREEN_IDS)
def test_a_booked_visitor_whose_car_is_blocked_fits_the_visitors_page(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    lang: str,
    size: dict[str, int],
    car: str,
) -> None:
    """A visitor booked for tomorrow whose car a guard blocked: the row's 车辆已禁用 pill wraps in its
    cell, and the visitors page stays as wide as the tablet, its check-out buttons on screen."""
    site, url = browser_site
    tomorrow = site.gw.now() + timedelta(days=1)
    visit = {
        # A flat where the site's resident lives (3栋 2单元): a visit is for a unit someone lives in.
        "name": "欧阳娜娜", "host_building": "3栋", "host_unit": "2单元1201", "plate": car,
        "valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + timedelta(hours=1)).isoformat(),
    }
    made = httpx2.post(f"{url}/api/visitors", json=visit, headers=bearer(site.guard_token))
    assert made.status_code == 201, made.text
    block_car(url, site.guard_token, car)
    page = page_at(browser, url, size, who=GUARD)
    in_language(page, lang)
    open_page(page, "visitors")
    row = page.locator(f"#pass-list tr[data-pass='{made.json()['id']}']")
    expect(row).to_contain_text(CAR_BLOCKED[lang])
    wide, screen = page.evaluate(WIDTHS)
    assert wide <= screen, f"the visitors page is {wide} px wide on a {screen} px tablet"
    checkout = row.locator("[data-post$='/checkout']").bounding_box()
    assert checkout and checkout["x"] + checkout["width"] <= screen, checkout
    assert page.errors == []


@pytest.mark.parametrize(("lang", "size", "car"), SCREENS, ids=SCREEN_IDS)
def test_checking_a_crews_pass_whose_van_is_blocked_fits_the_tablet(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    lang: str,
    size: dict[str, int],
    car: str,
) -> None:
    """A renovation crew's pass from next week whose van a guard blocked, its QR checked at the
    booth: the answer (… → 未到时间 · 车辆已禁用：车行出入口不放行此车) wraps inside its card and
    keeps its colour."""
    site, url = browser_site
    van = car.replace("E666", "E777")
    starts = (site.gw.now() + timedelta(days=7)).date()
    crew = {
        "name": "赵装修", "company": "好家装饰", "host_building": "12栋", "host_unit": "3单元1201",
        "plate": van, "valid_from": starts.isoformat(), "valid_to": (starts + timedelta(days=30)).isoformat(),
    }
    made = httpx2.post(f"{url}/api/contractors", json=crew, headers=bearer(site.admin_token))
    assert made.status_code == 201, made.text
    block_car(url, site.guard_token, van)
    page = page_at(browser, url, size, who=GUARD)
    in_language(page, lang)
    open_page(page, "visitors")
    page.fill("input[name=token]", made.json()["qr"])
    page.click("form[data-then=pass-state] [type=submit]")
    answer = page.locator("#pass-state")
    expect(answer).to_contain_text(f"{NOT_BEGUN[lang]} · {CAR_BLOCKED[lang]}")
    expect(answer).to_have_class(re.compile(r"\bbad\b"))  # still red: the pass keeps its car out
    wide, screen = page.evaluate(WIDTHS)
    assert wide <= screen, f"the pass check's answer makes the page {wide} px wide on a {screen} px tablet"
    card = page.evaluate("(el) => el.closest('.card').getBoundingClientRect().right", answer.element_handle())
    box = answer.bounding_box()
    assert box and box["x"] + box["width"] <= card, (box, card)
    assert page.errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_resident_without_a_building_is_told_which_field_to_fill(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    lang: str,
) -> None:
    """An admin adds resident 王芳 with 楼栋 holding only a space (which passes the field's `required`):
    the gateway refuses it naming `building`, and the toast names it as the form labels it (楼栋)."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    in_language(page, lang)
    open_page(page, "admin")
    form = page.locator("form[data-api='/api/residents']")
    form.locator("input[name=ref]").fill(f"R-0901-{lang}")
    form.locator("input[name=name]").fill("王芳")
    form.locator("input[name=building]").fill(" ")
    form.locator("input[name=unit]").fill("2单元")
    with page.expect_response("**/api/residents") as answer:
        form.locator("[type=submit]").click()
    error = answer.value.json()["error"]
    assert (answer.value.status, error["code"], error["fields"]) == (422, "invalid_request", ["building"])
    expect(page.locator("#toast.bad")).to_be_visible()
    said = page.inner_text("#toast")
    assert BUILDING[lang] in said, f"the refusal does not name the field left blank: {said!r}"
    assert "building" not in said, said
