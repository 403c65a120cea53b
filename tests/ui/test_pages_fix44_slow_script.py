"""The 浏览器版本过旧 line on a current browser whose app.js is slow to arrive, in a real Chromium.

The line is for a browser that cannot run the pages' script (docs/guard-app.md, Browsers). A booth
tablet on a weak Wi-Fi, or the gateway busy just after a start, can take seconds to send app.js:
that is no reason to tell the guard his tablet is too old and to use another.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import GUARD, Site, make_config, served
from tests.ui.test_guard_browser import browser, page_at, pytestmark, sign_in  # noqa: F401

TABLET = {"width": 1280, "height": 800}
TOO_OLD = "浏览器版本过旧"


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


class HeldScript:
    """app.js held back by the network until the test lets it through (or drops it)."""

    def __init__(self, context: Any):
        self.held: list[Any] = []
        context.route("**/static/app.js*", self.hold)

    def hold(self, route: Any) -> None:
        self.held.append(route)  # answered later, by arrives or never_arrives

    def arrives(self) -> None:
        for route in self.held:
            route.continue_()

    def never_arrives(self) -> None:
        for route in self.held:
            route.abort("connectionreset")


def live_page_with_app_js_held(chromium: Any, url: str) -> tuple[Any, HeldScript]:
    """The live page drawn (logged in before the hold), its app.js not yet arrived."""
    page = page_at(chromium, url, TABLET)
    script = HeldScript(page.context)  # a route also turns the browser's cache off: app.js is fetched
    page.goto(f"{url}/", wait_until="commit")
    page.wait_for_selector("#lanes")
    return page, script


def test_a_slow_app_js_is_no_reason_to_say_the_browser_is_too_old(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What the guard saw on a current Chrome while app.js took a few seconds: the red line
    浏览器版本过旧：请用 Chrome 61 或 Safari 15.4 以上 across the top of the live page (it came a
    second after the page, whatever the script was doing), then gone. He should see no such line:
    his browser is fine, the script is only late."""
    site, url = paying_site
    page, script = live_page_with_app_js_held(browser, url)
    page.wait_for_timeout(1500)  # past the second the line used to wait for the script
    assert page.is_hidden("#old-browser"), "the page said the browser is too old while app.js was on its way"
    script.arrives()
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    assert page.is_hidden("#old-browser")


def test_app_js_that_never_arrives_is_still_said(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The other side: the script fails to load for good (a browser that refuses it, a proxy): the
    page says so rather than looking alive while its buttons do nothing."""
    site, url = paying_site
    page, script = live_page_with_app_js_held(browser, url)
    script.never_arrives()
    expect(page.locator("#old-browser")).to_be_visible()
    said = page.inner_text("#old-browser")
    assert TOO_OLD in said and "Chrome 61" in said, said


def test_a_browser_without_scripts_is_told(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """A browser with scripts off (a kiosk app's WebView set up so): no script can say anything,
    the page itself must."""
    site, url = paying_site
    context = browser.new_context(viewport=TABLET, locale="zh-CN", java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30000)  # a loaded CI machine, not a speed check
    page.goto(f"{url}/")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    expect(page.locator(".old-browser >> visible=true")).to_contain_text(TOO_OLD)
    context.close()
