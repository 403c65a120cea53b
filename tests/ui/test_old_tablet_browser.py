"""The guard pages on the browsers of old booth tablets, in a real Chromium with what an older engine
lacks taken away before the page's scripts run (the first version having each):

  Object.hasOwn            Chrome/WebView 93, Safari 15.4
  Element.replaceChildren  Chrome/WebView 86, Safari 14
  <dialog>.showModal       Chrome 37,         Safari 15.4 (iPad iOS 12-15.3: no <dialog> at all)
  form.requestSubmit       Chrome 76,         Safari 16
  SubmitEvent.submitter    Chrome 81,         Safari 15.4

and, for an engine older than the pages' syntax, app.js served with a syntax error in it: the whole
file rejected, as there. The pages need Chrome/WebView 61 or Safari 15.4 (docs/guard-app.md); an
older browser is told so on every page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import CARD, GUARD, PLATE, Site, make_config, served, stored
from tests.ui.test_guard_browser import browser, page_at, pytestmark, sign_in  # noqa: F401

TABLET = {"width": 1280, "height": 800}  # a size the docs promise
ID_NUMBER = "110101199003074514"
PHONE = "13812345678"
TOO_OLD = "浏览器版本过旧"


@pytest.fixture
def paying_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def rejecting_app_js(chromium: Any, url: str):  # type: ignore[no-untyped-def]
    """A page on a tablet whose engine cannot parse app.js (syntax newer than it: the whole file is
    rejected), logged in on the live page."""
    context = chromium.new_context(viewport=TABLET, locale="zh-CN")

    def rejected(route):  # type: ignore[no-untyped-def]
        response = route.fetch()
        route.fulfill(response=response, body=response.text() + "\n@")

    context.route("**/static/app.js*", rejected)
    page = context.new_page()
    page.set_default_timeout(30000)  # a loaded CI machine, not a speed check
    page.goto(f"{url}/")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    return page


def test_a_new_browser_is_not_told_it_is_too_old(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = paying_site
    page = page_at(browser, url, TABLET)
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    page.wait_for_timeout(1500)  # time enough for app.js and too-old.js to run
    assert page.is_hidden("#old-browser")
    assert page.errors == []


def test_the_live_page_is_not_silently_dead_when_app_js_cannot_run(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What the guard on an old tablet saw: the lanes, 等待车辆或刷卡..., an empty status pill, and
    nothing ever again: no decision, no 设备在线, buttons that do nothing, no word of why. He
    should see a clear line that this browser is too old, and which is needed, not a page that
    looks alive and lets cars wait."""
    site, url = paying_site
    page = rejecting_app_js(browser, url)
    expect(page.locator("#old-browser")).to_be_visible()
    said = page.inner_text("#old-browser")
    assert TOO_OLD in said and "Chrome 61" in said and "Safari 15.4" in said, said


def test_a_visitors_id_number_does_not_end_up_in_the_address_bar(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """On the same tablet the visitor form's submit listener never exists, and the form (no
    method, no action) submitted itself natively as a GET: the page reloaded empty, no pass made,
    and the visitor's full ID number and phone were in the address bar and the shared tablet's
    history (and any proxy or access log). docs/guard-app.md: ID and phone numbers are kept only
    masked or hashed, never in clear, and nothing is kept on a shared tablet. What the guard
    should see: a refusal that says why and leaves the numbers nowhere."""
    site, url = paying_site
    page = rejecting_app_js(browser, url)
    page.goto(f"{url}/visitors")
    page.fill("#f-name", "李四")
    page.fill("#f-phone", PHONE)
    page.fill("#f-id", ID_NUMBER)
    page.fill("#f-building", "3")
    page.fill("#f-unit", "1201")
    with page.expect_navigation(wait_until="load"):
        page.click("#visitor-submit")
    assert ID_NUMBER not in page.url and PHONE not in page.url, page.url
    said = page.inner_text("body")
    assert TOO_OLD in said and ID_NUMBER not in said, said
    assert stored(site, "SELECT count(*) FROM passes") == [(0,)]


def test_a_residents_card_shows_its_owner_without_object_hasOwn(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Chrome/WebView 80-92 (an Android 9/10 tablet whose WebView is never updated, Huawei
    browsers) and iPad Safari before 15.4. What the guard saw: a resident swipes, the panel shows
    the card and 放行 but not whose it is (业主 张** 3栋2单元, REQUIREMENTS 12), the lane's list
    gets no row. What he should see: the owner, as on a new browser."""
    site, url = paying_site
    page = page_at(browser, url, TABLET, init_script="delete Object.hasOwn;")
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    site.traffic.show("door-reader", "card", CARD)
    page.wait_for_selector("#lane-door [data-latest].admitted")
    page.wait_for_timeout(500)
    latest = page.inner_text("#lane-door [data-latest]")
    assert "张**" in latest and "3栋2单元" in latest, latest
    assert page.locator("#lane-door [data-recent] li").count() == 1
    assert page.errors == []


def test_the_live_page_still_works_after_a_reload_without_object_hasOwn(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Same tablets, the page reloaded (the tablet woke up, the guard changed shift) after a
    resident's card: live.js threw drawing the page's own decisions, before it opened the stream.
    What the guard saw: lanes with a blank status for ever and no new decision, silently. He should
    see the lanes online and the next card."""
    site, url = paying_site
    page = page_at(browser, url, TABLET, init_script="delete Object.hasOwn;")
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    site.traffic.show("door-reader", "card", CARD)
    page.wait_for_selector("#lane-door [data-latest].admitted")
    page.reload()
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    site.traffic.show("door-reader", "card", "C0FFEE01")
    page.wait_for_selector("#lane-door [data-latest].refused >> text=EE01")
    assert page.errors == []


def test_a_refused_card_is_shown_without_replaceChildren(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Chrome/WebView 80-85 and iOS Safari 13.1. What the guard saw: a stranger's card refused at
    the door and the live page staying on 等待车辆或刷卡... (showLatest() started with
    box.replaceChildren(), which threw): no red panel, no row, nothing. He should see the refusal
    (docs/guard-app.md: refused presentations turn the panel red and flash)."""
    site, url = paying_site
    page = page_at(
        browser,
        url,
        TABLET,
        init_script="delete Element.prototype.replaceChildren;"
        " delete DocumentFragment.prototype.replaceChildren; delete Document.prototype.replaceChildren;",
    )
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    site.traffic.show("door-reader", "card", "C0FFEE01")
    page.wait_for_selector("#lane-door [data-latest].refused")
    assert page.locator("#lane-door [data-recent] li.refused").count() == 1
    # The exit's 输入车牌 → 无牌车 lists the tickets inside with the same call.
    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    expect(page.locator("#plate-tickets")).to_have_text("场内没有无牌车")
    assert page.errors == []


def test_open_by_hand_asks_for_a_reason_on_a_tablet_without_dialog(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """An iPad on iOS 12-15.3 (Safari before 15.4 has no <dialog>). What the guard saw: he taps 开闸
    for a resident without a card and nothing happens (askText called dialog.showModal(), a
    TypeError), the same for 常开/恢复/关闭通道, 输入车牌, 纠正车牌 and 收费放行. He should be told
    the browser is too old (the pages need Safari 15.4), and still get the reason dialog."""
    site, url = paying_site
    page = page_at(
        browser,
        url,
        TABLET,
        init_script="delete HTMLDialogElement.prototype.showModal; delete HTMLDialogElement.prototype.show;",
    )
    page.wait_for_selector("#lane-door [data-status] >> text=设备在线")
    expect(page.locator("#old-browser")).to_be_visible()
    page.click("#lane-door [data-lane-action=open]")
    expect(page.locator("#reason-input")).to_be_visible()
    page.click("#reason-dialog [data-quick] >> nth=0")
    page.click("#reason-ok")
    expect(page.locator("#toast")).to_have_text("已执行")
    assert page.is_hidden("#reason-input")
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)]
    assert page.errors == []


def test_no_plate_at_the_entrance_gives_a_ticket_without_requestSubmit(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """iPad Safari 15.4-15.x (has <dialog>, no form.requestSubmit until Safari 16). What the guard
    saw: 输入车牌 → 无牌车 for a car with no plate at the entrance: the dialog stayed open, no
    ticket, the car waited (askPlate called form.requestSubmit). He should get the ticket, shown
    large, as on a new browser (docs/guard-app.md, 无牌车)."""
    site, url = paying_site
    page = page_at(browser, url, TABLET, init_script="delete HTMLFormElement.prototype.requestSubmit;")
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    page.wait_for_selector("#plate-dialog:not([open])", state="attached")
    expect(page.locator("#toast")).to_contain_text("无牌车")
    assert stored(site, "SELECT count(*) FROM stays WHERE plate LIKE '无牌-%'") == [(1,)]
    assert page.errors == []


def test_the_fee_is_taken_in_cash_without_submitter(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Chrome/WebView 80 (and Safari before 15.4): no SubmitEvent.submitter, so askText answered
    choice "" whichever of 扫码/现金 was tapped. What the guard saw: 收费放行 → 现金 → a red
    error, no fee taken, the car kept at the barrier (the pay request carried method ""; the API
    takes cash, qr or monthly). He should see 已收费 7元 and the barrier open."""
    site, url = paying_site
    page = page_at(browser, url, TABLET, init_script="delete SubmitEvent.prototype.submitter;")
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", "鲁B12345", 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", "鲁B12345", 0.99, now, "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=鲁B12345")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.click("#pay-cash")
    page.wait_for_selector("#toast:not([hidden])")
    assert "已收费" in page.inner_text("#toast"), page.inner_text("#toast")
    assert stored(site, "SELECT amount_fen, method FROM payments") == [(700, "cash")]


def test_correct_and_decide_again_decides_without_submitter(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The same tablets: 纠正车牌 → 纠正并重新判定 on a resident's car misread at the exit only
    corrected the plate and never decided again, so the car stayed at the barrier. He should see
    the car decided again and let out."""
    site, url = paying_site
    page = page_at(browser, url, TABLET, init_script="delete SubmitEvent.prototype.submitter;")
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", PLATE, 0.99, now - timedelta(hours=1), "cam"))
    site.gw.present(Presented("car-out", "plate", "皖A12346", 0.99, now, "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=皖A12346")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", PLATE)
    page.click("#plate-decide")
    page.wait_for_selector(f"#lane-car-out [data-latest].admitted >> text={PLATE}")
    assert page.errors == []
