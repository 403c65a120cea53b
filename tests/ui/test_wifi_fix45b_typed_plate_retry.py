"""A plate typed at a lane on the guard tablet, its answer lost on the Wi-Fi: typed again, the lane's
decision already made is answered (the same Idempotency-Key), and another plate typed after a lost
answer is decided as the other car it is (a key of its own), in the real Chromium."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import PLATE, Site, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)

OTHER, THIRD = "豫A5B123", "豫A5B124"


def _type_plate(page: Any, plate: str) -> None:
    page.evaluate("document.getElementById('toast').hidden = true")
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", plate)
    page.click("#plate-ok")
    expect(page.locator("#toast")).to_be_visible()


def test_a_plate_typed_again_after_a_lost_answer_is_decided_once_and_another_plate_is_decided(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    sent: list[tuple[str, str]] = []  # (plate, Idempotency-Key) of each try

    def answers_lost_on_the_first_and_third(route: Any) -> None:
        request = route.request
        sent.append((request.post_data_json["plate"], request.headers.get("idempotency-key", "")))
        if len(sent) in (1, 3):  # the lane decides; its answer never reaches the tablet
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/lanes/car-in/plate", answers_lost_on_the_first_and_third)
    _type_plate(page, PLATE)  # 网关没有回应
    _type_plate(page, PLATE)  # tapped again: the decision already made
    expect(page.locator("#toast")).to_contain_text(f"{PLATE} · 放行")
    _type_plate(page, OTHER)  # 网关没有回应
    _type_plate(page, THIRD)  # the next car, typed before the last one's answer came
    expect(page.locator("#toast")).to_contain_text(f"{THIRD} · 放行")
    plates = [plate for plate, _ in sent]
    keys = [key for _, key in sent]
    assert plates == [PLATE, PLATE, OTHER, THIRD, THIRD]
    assert all(keys) and keys[0] == keys[1] and keys[2] == keys[3] != keys[4] != keys[0], keys
    decided = stored(site, "SELECT value FROM access_log WHERE lane = 'car-in' ORDER BY id")
    assert decided == [(PLATE,), (OTHER,), (THIRD,)]
