"""A guard's tap at a lane cut off (Review 63k), in a real Chromium.

His session ends as he opens the barrier by hand (typed the reason, tapped 确认 just as the shift
length ran out): the login page said nothing of why, and after logging in again nothing said the
lane was never opened, the driver waiting at a shut barrier the guard thought he had opened. Now
the login page says the login ended and what he did was not done, and once he is back the page
names it (car-in · 开闸 未办成), whatever the action (a typed plate too), in his language.

The Wi-Fi drops as he taps 开闸: the gateway opened, its answer never came. Tapped again, the lane
opened a second time (two openings on record and upstream, a second car in under the arm): the
lane buttons sent no Idempotency-Key. Now the repeat is answered with the first opening, the
barrier raised once, and the page says so; a tap after that is a new opening."""

from __future__ import annotations

from playwright.sync_api import expect

from drivers.simulated import SimulatedRelay
from gateway.api.auth import SESSION_COOKIE
from tests.ui.conftest import GUARD, Site, fresh_site, stored  # noqa: F401
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark, sign_in  # noqa: F401

REASON = "3栋301业主忘带卡，车在道闸前"


def _open(page, reason: str = REASON) -> None:  # type: ignore[no-untyped-def]
    page.click('#lane-car-in [data-lane-action="open"]')
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", reason)
    page.click("#reason-ok")


def _opens(site: Site) -> int:
    return int(stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'")[0][0])


def _relay(site: Site) -> SimulatedRelay:
    relay = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(relay, SimulatedRelay)
    return relay


def test_session_ending_as_the_guard_opens_by_hand_is_said_and_the_opening_named(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    page.click('#lane-car-in [data-lane-action="open"]')
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", REASON)
    # The session's hours are over: the browser drops its cookie (the language's stays).
    page.context.clear_cookies(name=SESSION_COOKIE)
    page.click("#reason-ok")
    page.wait_for_url("**/login**")
    said = page.locator("#login-error")
    expect(said).to_contain_text("登录已到时")
    expect(said).to_contain_text("未办成")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    toast = page.locator("#toast")
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("car-in · 开闸")
    expect(toast).to_contain_text("未办成")
    assert _opens(site) == 0 and _relay(site).pulses == []

    _open(page)  # he does it again, as the page told him: done, once
    expect(toast).to_contain_text("已执行")
    assert _opens(site) == 1 and len(_relay(site).pulses) == 1
    assert [e for e in page.errors if "401" not in e] == []


def test_a_typed_plate_cut_off_is_named_in_english(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    with page.expect_navigation(wait_until="load"):
        page.click("[data-lang]")  # English
    page.wait_for_selector("#lanes")
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "皖A54321")
    page.context.clear_cookies(name=SESSION_COOKIE)
    page.click("#plate-ok")
    page.wait_for_url("**/login**")
    said = page.locator("#login-error")
    expect(said).to_contain_text("login ran out")
    expect(said).to_contain_text("not done")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    toast = page.locator("#toast")
    expect(toast).to_contain_text("car-in · Type plate 皖A54321")
    expect(toast).to_contain_text("Not done, your login ran out")
    assert stored(site, "SELECT count(*) FROM access_log WHERE lane = 'car-in'")[0][0] == 0
    assert [e for e in page.errors if "401" not in e] == []


def test_open_by_hand_tapped_again_after_a_lost_answer_opens_once(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    lost = {"n": 0}

    def answer_lost(route):  # type: ignore[no-untyped-def]
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # the gateway gets it and opens
            route.abort("internetdisconnected")  # the answer never comes back
        else:
            route.continue_()

    page.route("**/api/lanes/car-in/open", answer_lost)
    _open(page)
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")
    page.evaluate("document.getElementById('toast').hidden = true")
    _open(page)  # the guard tries again, as anyone would after 网关没有回应
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("car-in · 开闸：刚才那一次已办成")
    expect(toast).to_contain_text("没有再次执行")
    assert _opens(site) == 1 and len(_relay(site).pulses) == 1
    upstream = stored(site, "SELECT count(*) FROM outbox WHERE topic = 'lane_action'")[0][0]
    assert upstream == 1

    page.evaluate("document.getElementById('toast').hidden = true")
    _open(page)  # answered: the next tap is another opening
    expect(toast).to_contain_text("已执行")
    assert _opens(site) == 2 and len(_relay(site).pulses) == 2
    assert [e for e in page.errors if "ERR_INTERNET_DISCONNECTED" not in e] == []
