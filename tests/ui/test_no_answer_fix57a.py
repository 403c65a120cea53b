"""A request whose answer never comes (review 57a), in a real Chromium. The tablet's Wi-Fi drops
after the request went out: no FIN, no RST, and fetch waited minutes. The button stayed greyed and
nothing was said; the guard's way out, a reload, threw away what he typed and the form's
Idempotency-Key, so typed again the visitor was registered twice. Now the pages give up after
ANSWER_WAIT_MS (app.js), say 网关没有回应, and give the button back with the key kept: 登记 again is
answered the pass made the first time (docs/guard-app.md, *API and tokens*)."""

from __future__ import annotations

import re
import time
from typing import Any

from gateway.api.deps import WRITE_TIMEOUT_S
from gateway.api.pages import STATIC_DIR
from gateway.api.parking import PARKING_WRITE_S
from tests.ui.conftest import Site, script_errors, stored
from tests.ui.test_guard_browser import (  # noqa: F401
    PORTRAIT,
    browser,
    browser_site,
    open_page,
    page_at,
    pytestmark,
)


def _answer_wait_s() -> float:
    found = re.search(r"const ANSWER_WAIT_MS = (\d+);", (STATIC_DIR / "app.js").read_text(encoding="utf-8"))
    assert found, "app.js names no ANSWER_WAIT_MS"
    return int(found[1]) / 1000


def test_the_pages_wait_longer_than_the_gateway_before_its_answer() -> None:
    """Given up sooner, a parking fee the gateway is still waiting to store (its busy answer comes
    after PARKING_WRITE_S) would be said lost while its true answer was on the way."""
    assert _answer_wait_s() >= max(PARKING_WRITE_S, WRITE_TIMEOUT_S) + 10
    assert _answer_wait_s() <= 60  # a guard with a car waiting is told within a minute


def _register(page: Any, name: str) -> None:
    page.fill("#f-name", name)
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.click("#visitor-submit")


def test_a_registration_whose_answer_never_comes_is_told_and_can_be_sent_again(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "visitors")
    held: list[Any] = []

    def answer_never_comes(route: Any) -> None:
        if route.request.method != "POST" or held:
            route.continue_()
            return
        route.fetch()  # the gateway registers the visitor ...
        held.append(route)  # ... and its answer never reaches the tablet

    page.route("**/api/visitors", answer_never_comes)
    _register(page, "周九")
    deadline = time.monotonic() + _answer_wait_s() + 30
    while time.monotonic() < deadline and page.is_disabled("#visitor-submit"):
        time.sleep(1)
    told = page.inner_text("#toast") if page.is_visible("#toast") else ""
    stuck = page.is_disabled("#visitor-submit")
    typed = page.input_value("#f-name")
    if not stuck:
        with page.expect_navigation(wait_until="load"):
            page.click("#visitor-submit")  # 登记 again, the Wi-Fi back: the pass made the first time
    made = stored(site, "SELECT count(*) FROM passes WHERE name = '周九'")[0][0]
    for route in held:
        route.abort()
    assert not stuck, "the button is still greyed and the page has said nothing"
    assert "网关没有回应" in told, told
    assert typed == "周九"  # what he typed is kept
    assert made == 1, "registered twice"
    assert re.search(r"/passes/\d+$", page.url), page.url
    assert script_errors(page) == []
    page.context.close()


def test_a_tablet_without_abort_controller_still_registers(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """Chrome/WebView 61-65 (the pages need 61) has no AbortController: no time limit, as before,
    and the page works."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT, init_script="delete window.AbortController;")
    open_page(page, "visitors")
    with page.expect_navigation(wait_until="load"):
        _register(page, "郑十一")
    assert stored(site, "SELECT count(*) FROM passes WHERE name = '郑十一'") == [(1,)]
    assert script_errors(page) == []
    page.context.close()
