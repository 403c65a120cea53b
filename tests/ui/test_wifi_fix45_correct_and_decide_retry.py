"""纠正并重新判断 (correct and decide again) on a refused car, when the correction's answer is lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from gateway.core import Presented
from tests.ui.conftest import PLATE, Site
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)


def test_correct_and_decide_again_after_a_lost_answer_still_decides_the_car(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A resident's car is refused at the exit, its 皖 read as 渝. The guard taps 纠正并重新判断; the
    correction is stored but its answer is lost on the Wi-Fi, so the lane is never asked to decide.
    Tapped again, the page answers 记录已是该车牌，未作修改 and still decides nothing: the resident
    stays at a shut barrier. The second tap should let the lane decide the corrected plate."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=1), "cam"))
    misread = "渝" + PLATE[1:]
    site.gw.present(Presented("car-out", "plate", misread, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={misread}")
    lost = {"n": 0}

    def answer_lost(route: Any) -> None:  # the correction reaches the gateway; its answer does not come back
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/events/*/plate", answer_lost)
    for _ in range(2):  # the first tap, its answer lost; the guard taps again
        page.evaluate("document.getElementById('toast').hidden = true")
        page.click("#lane-car-out [data-latest] [data-correct]")
        page.wait_for_selector("#plate-dialog[open]")
        page.fill("#plate-input", PLATE)
        page.click("#plate-decide")
        expect(page.locator("#toast")).to_be_visible()
        said = page.inner_text("#toast")
        page.wait_for_timeout(500)
    assert lost["n"] == 1
    assert f"{PLATE} · 放行" in said, f"the second 纠正并重新判断 says {said!r}"
