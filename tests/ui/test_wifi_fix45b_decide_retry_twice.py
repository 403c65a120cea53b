"""纠正并重新判断 tapped again after the lane's answer (not the correction's) was lost on the Wi-Fi."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.sync_api import expect

from gateway.core import Presented
from tests.ui.conftest import PLATE, Site, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)


def test_correct_and_decide_again_after_the_decisions_answer_was_lost_does_not_let_the_car_out_twice(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A resident refused at the exit on a misread plate; the guard taps 纠正并重新判断, the lane lets
    the car out but that answer is lost on the Wi-Fi, and the guard taps 纠正并重新判断 again (as the
    docs invite): the page goes past same_plate and the lane decides the car a second time, a second
    exit recorded and the barrier raised again for a car already gone. One exit should be recorded."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=1), "cam"))
    misread = "渝" + PLATE[1:]
    site.gw.present(Presented("car-out", "plate", misread, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={misread}")
    # The same weak Wi-Fi keeps the live stream from coming through: the page shows what it loaded.
    page.route("**/api/live/stream", lambda route: route.abort())
    page.reload()
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={misread}")
    lost = {"n": 0}

    def decision_lost(route: Any) -> None:  # the lane decides; its answer never reaches the tablet
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/lanes/car-out/plate", decision_lost)
    page.evaluate("document.getElementById('toast').hidden = true")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", PLATE)
    page.click("#plate-decide")
    expect(page.locator("#toast")).to_be_visible()  # 网关没有回应: the guard taps again
    page.wait_for_timeout(500)
    page.evaluate("document.getElementById('toast').hidden = true")
    # The lane's panel still shows the car refused (corrected): he taps 纠正 there again.
    page.click("#lane-car-out [data-latest].refused [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", PLATE)
    page.click("#plate-decide")
    expect(page.locator("#toast")).to_be_visible()
    page.wait_for_timeout(500)
    assert lost["n"] == 1
    exits = stored(
        site, "SELECT flags FROM access_log WHERE lane = 'car-out' AND value = ? AND admitted = 1", PLATE
    )
    assert len(exits) == 1, f"the resident's car let out {len(exits)} times for one exit: {exits}"
