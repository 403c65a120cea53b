"""A lane's Idempotency-Key kept past what it stood for (Review 63ka of 3771baf), in a real Chromium.

The live page kept one key per lane and action until an answer came (2 minutes). A 常开 whose
answer was lost, then 取消常开 (answered: the lane let down), then 常开 again for the next vehicle
went with the lost hold's key: the gateway answered it `again`, the lane was not held, and the
toast said it had been done before; so did 关闭 after 关闭 (lost) and 开放通道. Now a key stands
for the same tap tried again with nothing done on that lane since: an answered action on the lane,
or another action on it the stream shows, lets the lane's keys go; and the gateway does a hold,
release, close or reopen sent again anew where the lane is no longer so (changed since).

An opening whose answer was lost, tapped again just as the login ran out (401): the page said
after the login that 开闸 was not done, to do it again, and that opened a second time (the key
was lost with the reload). Now the key is kept with what the login cut off, the first tap after
the login sends it (a done opening is answered `again`), and the page says the earlier tap went
unanswered and may have been done: look at the lane's list first."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gateway.api.auth import SESSION_COOKIE
from tests.ui.conftest import GUARD, Site, bearer, fresh_site, stored  # noqa: F401
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark, sign_in  # noqa: F401

_WAIT_S = 20  # bounds a hang: the lane changes within a moment


def _tap(page, selector: str, reason: str, login_ends: bool = False) -> None:  # type: ignore[no-untyped-def]
    page.click(selector)
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", reason)
    if login_ends:  # as he taps 确认 (earlier, the page's stream may find it first)
        page.context.clear_cookies(name=SESSION_COOKIE)
    page.click("#reason-ok")


def _lose_first_answer(page, url_glob: str, still_saving: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The gateway gets the first request and does it; its answer never comes back (the Wi-Fi),
    or comes back 503 still_saving (the gateway slow to write it)."""
    lost = {"n": 0}

    def answer_lost(route):  # type: ignore[no-untyped-def]
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()
            if still_saving:
                error = {
                    "code": "still_saving",
                    "message": "the gateway is busy and is still saving this",
                    "fix": "reload the page in a moment to see whether it was saved before doing it again",
                }
                route.fulfill(status=503, content_type="application/json", body=json.dumps({"error": error}))
            else:
                route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(url_glob, answer_lost)


def _hide_toast(page) -> None:  # type: ignore[no-untyped-def]
    page.evaluate("document.getElementById('toast').hidden = true")


def _count(site: Site, action: str) -> int:
    return int(stored(site, "SELECT count(*) FROM audit WHERE action = ?", f"lane.{action}")[0][0])


def test_hold_after_a_release_holds_even_if_an_earlier_holds_answer_was_lost(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """常开 for a fire engine: answer lost (the lane IS held, the pill says so). Released once the
    engine is in (answered). The ambulance follows: 常开 again holds the lane."""
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _lose_first_answer(page, "**/api/lanes/car-in/hold")
    hold = '#lane-car-in [data-lane-action="hold"]'
    _tap(page, hold, "消防车进场")
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")  # 网关没有回应
    assert site.gw.by_hand.held.get("car-in")
    _hide_toast(page)
    release = '#lane-car-in [data-lane-action="release"]'
    page.wait_for_selector(release)  # the stream showed the hold
    _tap(page, release, "消防车已进")
    expect(toast).to_contain_text("已执行")
    deadline = time.monotonic() + _WAIT_S
    while site.gw.by_hand.held.get("car-in") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not site.gw.by_hand.held.get("car-in")
    _hide_toast(page)
    _tap(page, hold, "救护车跟进")
    expect(toast).to_be_visible()
    assert site.gw.by_hand.held.get("car-in"), (
        f"the second 常开 (after a release) did not hold the lane; the guard saw {toast.text_content()!r}"
    )
    expect(toast).to_contain_text("已执行")
    assert _count(site, "hold") == 2


def test_close_after_a_reopen_closes_even_if_an_earlier_closes_answer_was_lost(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _lose_first_answer(page, "**/api/lanes/car-in/close")
    _tap(page, '#lane-car-in [data-lane-mode="close"]', "道闸维修")
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")
    _hide_toast(page)
    reopen = '#lane-car-in [data-lane-mode="reopen"]'
    page.wait_for_selector(reopen)
    _tap(page, reopen, "维修完成")
    expect(toast).to_contain_text("已执行")
    _hide_toast(page)
    close = '#lane-car-in [data-lane-mode="close"]'
    page.wait_for_selector(close)
    _tap(page, close, "又坏了")
    expect(toast).to_be_visible()
    assert _count(site, "close") == 2, (
        f"the second 关闭 (after a reopen) did not close the lane; the guard saw {toast.text_content()!r}"
    )
    expect(toast).to_contain_text("已执行")
    assert site.gw.by_hand.lane_modes.get("car-in") == "closed"


def test_a_release_on_another_tablet_shown_live_lets_the_lost_holds_key_go(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The hold's answer lost here; the lane let down on the other tablet (the stream shows it):
    常开 tapped here again is a new hold, not the lost one answered again. The page still sends the
    lost hold's key (the stream lets no key go, Review 63kb); the gateway holds anew a lane no
    longer held."""
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _lose_first_answer(page, "**/api/lanes/car-in/hold")
    hold = '#lane-car-in [data-lane-action="hold"]'
    _tap(page, hold, "消防车进场")
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")
    _hide_toast(page)
    release = page.locator('#lane-car-in [data-lane-action="release"]')
    expect(release).to_be_visible()  # the stream showed the hold
    site.gw.by_hand.release_lane("car-in", "guard2", "另一台平板")
    expect(release).to_be_hidden()  # ... and the release
    expect(page.locator("#lane-car-in li.manual")).to_have_count(2)
    _tap(page, hold, "救护车跟进")
    expect(toast).to_contain_text("已执行")
    assert site.gw.by_hand.held.get("car-in")
    assert _count(site, "hold") == 2


def test_after_login_an_opening_that_was_done_is_not_called_not_done(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """开闸: the gateway opened, the answer lost (网关没有回应). He taps again as his login runs
    out: 401. After logging in, the page says the earlier tap went unanswered and may have been
    done; tapped again all the same, it is answered as done, the barrier raised once."""
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _lose_first_answer(page, "**/api/lanes/car-in/open")
    opener = '#lane-car-in [data-lane-action="open"]'
    _tap(page, opener, "业主未带卡")
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")
    _hide_toast(page)
    _tap(page, opener, "业主未带卡", login_ends=True)
    page.wait_for_url("**/login**")
    expect(page.locator("#login-error")).to_contain_text("登录已到时")
    expect(page.locator("#login-error")).not_to_contain_text("未办成")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    expect(toast).to_be_visible()
    said = toast.text_content() or ""
    assert _count(site, "open") == 1
    assert "未办成" not in said, f"开闸 was done once (its answer lost); the page said {said!r}"
    assert "car-in · 开闸" in said and "可能已经办成" in said, said
    _hide_toast(page)
    _tap(page, opener, "业主未带卡")  # he taps again all the same
    expect(toast).to_contain_text("刚才那一次已办成")
    assert _count(site, "open") == 1
    _hide_toast(page)
    _tap(page, opener, "下一位业主")  # answered: the next tap is another opening
    expect(toast).to_contain_text("已执行")
    assert _count(site, "open") == 2


def test_after_login_a_hold_not_done_is_done_by_the_first_tap(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """A 常开 cut off by the login's end on its first try (nothing went unanswered before it) is
    named not done, and the tap after the login holds the lane."""
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _tap(page, '#lane-car-in [data-lane-action="hold"]', "消防车进场", login_ends=True)
    page.wait_for_url("**/login**")
    sign_in(page, GUARD)
    page.wait_for_selector("#lanes")
    toast = page.locator("#toast")
    expect(toast).to_contain_text("car-in · 常开")
    expect(toast).to_contain_text("未办成")
    _hide_toast(page)
    _tap(page, '#lane-car-in [data-lane-action="hold"]', "消防车进场")
    expect(toast).to_contain_text("已执行")
    assert site.gw.by_hand.held.get("car-in") and _count(site, "hold") == 1


def test_done_before_says_the_gateway_was_still_saving(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The first 开闸 answered 503 still_saving (done all the same): tapped again, the page says
    it was done, not that its answer was lost on the network."""
    site, url = fresh_site
    page = page_at(browser, url, LANDSCAPE)
    _lose_first_answer(page, "**/api/lanes/car-in/open", still_saving=True)
    opener = '#lane-car-in [data-lane-action="open"]'
    _tap(page, opener, "业主未带卡")
    toast = page.locator("#toast")
    expect(toast).to_have_class("bad")
    _hide_toast(page)
    _tap(page, opener, "业主未带卡")
    expect(toast).to_contain_text("刚才那一次已办成")
    said = toast.text_content() or ""
    assert "网络" not in said and "仍在保存" in said, said
    assert _count(site, "open") == 1


def test_a_hold_sent_again_after_its_lane_was_let_down_holds_it(client: TestClient, site: Site) -> None:
    """The gateway's side: a hold repeated with its key after the lane was released (another
    tablet, the centre) is a new hold, as is a close after a reopen; a repeat of one still in
    effect is answered again, and an opening always is."""
    guard = bearer(site.guard_token)

    def post(lane: str, action: str, key: str) -> dict[str, object]:
        r = client.post(
            f"/api/lanes/{lane}/{action}", json={"reason": "测试"}, headers={**guard, "Idempotency-Key": key}
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert post("car-in", "hold", "h1")["again"] is False
    assert post("car-in", "hold", "h1")["again"] is True  # still held: the same hold
    assert post("car-in", "release", "r1")["again"] is False
    assert post("car-in", "hold", "h1")["again"] is False  # let down since: held anew
    assert site.gw.by_hand.held.get("car-in")
    assert post("car-in", "release", "r1")["again"] is False  # held since: let down anew
    assert not site.gw.by_hand.held.get("car-in")

    assert post("car-in", "close", "c1")["again"] is False
    assert post("car-in", "reopen", "o1")["again"] is False
    assert post("car-in", "close", "c1")["again"] is False
    assert site.gw.by_hand.lane_modes.get("car-in") == "closed"
    assert post("car-in", "close", "c1")["again"] is True
    assert post("car-in", "reopen", "o1")["again"] is False
    assert site.gw.by_hand.lane_modes.get("car-in") != "closed"

    assert post("door", "open", "d1")["again"] is False
    assert post("door", "open", "d1")["again"] is True
    assert _count(site, "hold") == 2 and _count(site, "release") == 2
    assert _count(site, "close") == 2 and _count(site, "reopen") == 2 and _count(site, "open") == 1
