"""Two cars with no plate at the same entrance, the first one's answer lost on the Wi-Fi, in the real
Chromium: the second car's 无牌车 must be a decision (a ticket of its own), not the first car's
answer replayed (docs/guard-app.md, *A plate the camera did not read*)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.ui.conftest import Site, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.test_no_plate_browser import paying_site  # noqa: F401


def _no_plate(page: Any) -> None:
    page.evaluate("document.getElementById('toast').hidden = true")
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    expect(page.locator("#toast")).to_be_visible()


def _answers_lost(page: Any, lost: int) -> list[str]:
    """The first `lost` tries reach the lane, which decides, and their answers never reach the
    tablet; the Idempotency-Key of each try, in order."""
    keys: list[str] = []

    def route(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        if len(keys) <= lost:
            route.fetch()
            route.abort()
        else:
            route.continue_()

    page.route("**/api/lanes/car-in/plate", route)
    return keys


def _tickets(site: Site) -> list[tuple[Any, ...]]:
    return stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY id")


def test_second_car_with_no_plate_after_a_lost_answer_gets_its_own_ticket(
    paying_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The first car with no plate is let in and given its ticket, but the tablet never gets the answer,
    nor that of the try the page sends again (网关没有回应). A minute later another car with no plate
    comes: the guard taps 无牌车, and it is a decision of its own (before, the page sent the first
    car's Idempotency-Key again, and the gateway answered car 1's ticket and 放行: no barrier moved,
    no ticket was given)."""
    site, url = paying_site
    page = page_at(browser, url, LANDSCAPE)
    keys = _answers_lost(page, 2)
    _no_plate(page)  # car 1: 网关没有回应; it drives in through the raised barrier
    expect(page.locator("#toast")).to_have_class("bad")
    _no_plate(page)  # car 2, with no plate either, a minute later
    expect(page.locator("#toast")).to_contain_text("无牌车 票号")
    tickets = _tickets(site)
    assert len(tickets) == 2, f"the second car with no plate was given no ticket of its own: stays {tickets}"
    assert len(keys) == 3 and keys[0] == keys[1] != keys[2], keys
    expect(page.locator("#toast")).to_contain_text(str(tickets[1][0]))


def test_a_lost_answer_for_a_car_with_no_plate_is_asked_again_at_once(
    paying_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """Its answer lost once, the page sends the same request again with its key: the lane answers the
    ticket it gave, shown to the guard to write on the paper ticket, and the car is decided once."""
    site, url = paying_site
    page = page_at(browser, url, LANDSCAPE)
    keys = _answers_lost(page, 1)
    _no_plate(page)
    expect(page.locator("#toast")).to_contain_text("无牌车 票号")
    expect(page.locator("#toast")).not_to_have_class("bad")
    tickets = _tickets(site)
    assert len(tickets) == 1, tickets
    assert len(keys) == 2 and keys[0] == keys[1], keys
    expect(page.locator("#toast")).to_contain_text(str(tickets[0][0]))
    assert stored(site, "SELECT count(*) FROM access_log WHERE lane = 'car-in'") == [(1,)]
