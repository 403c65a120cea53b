"""A row's change tapped again after its answer was lost (review 57a), in a real Chromium. One guard,
one booth tablet, flaky Wi-Fi: he acknowledges an alarm (or checks a visitor out), the gateway does
it but the answer is lost (网关没有回应), he taps again as the toast invites, and was told
已由他人处理（另一台平板）: nobody else did anything. He is told he did it already, and when; someone
else who did is named, with when (docs/guard-app.md, *Alarms*; the lanes' and blocks' own cases:
test_already_done_fix48_words)."""

from __future__ import annotations

from typing import Any

import httpx2
from playwright.sync_api import expect

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import raise_alarm
from tests.ui.conftest import Site, bearer, script_errors, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401


def _first_answer_lost(sent: list[str]):  # type: ignore[no-untyped-def]
    def handle(route: Any) -> None:
        sent.append(route.request.method)
        if len(sent) == 1:  # reaches the gateway, which does it; its answer never comes back
            route.fetch()
            route.abort()
        else:
            route.continue_()

    return handle


def _forced_open(site: Site) -> None:
    text = AlarmText("forced_open", {"lane": "door", "device": "door-lock"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "door", text, site.gw.now())).result(60)


def _visitor(site: Site, url: str) -> int:
    made = httpx2.post(
        f"{url}/api/visitors",
        json={"name": "李四", "host_building": "3栋", "host_unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _tapped_twice(page: Any, button: Any) -> str:
    button.click()
    expect(page.locator("#toast")).to_contain_text("网关没有回应")
    with page.expect_navigation(wait_until="load"):
        button.click()  # tapped again, as 网关没有回应 leaves him to
    page.wait_for_selector("#toast:not([hidden])")
    return str(page.inner_text("#toast"))


def test_alarm_acknowledged_again_after_a_lost_answer_says_he_did_it(
    fresh_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    site, url = fresh_site
    _forced_open(site)
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "alarms")
    sent: list[str] = []
    page.route("**/api/alarms/*/acknowledge", _first_answer_lost(sent))
    shown = _tapped_twice(page, page.locator("#alarm-list tr button").first)
    assert stored(site, "SELECT acknowledged_by FROM alarms") == [("guard1",)]  # he did it, once
    assert "另一台平板" not in shown and "他人" not in shown, f"told someone else did it: {shown}"
    assert "您已于" in shown and "无需再操作" in shown, shown
    assert script_errors(page) == []


def test_pass_checked_out_again_after_a_lost_answer_says_he_did_it(
    fresh_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    site, url = fresh_site
    pass_id = _visitor(site, url)
    page = page_at(browser, url, LANDSCAPE)
    page.goto(f"{url}/passes/{pass_id}", wait_until="load")
    sent: list[str] = []
    page.route("**/api/passes/*/checkout", _first_answer_lost(sent))
    shown = _tapped_twice(page, page.locator("[data-post$=checkout]"))
    assert "另一台平板" not in shown and "他人" not in shown, f"told someone else did it: {shown}"
    assert "您已于" in shown, shown
    assert page.locator("[data-post$=checkout]").count() == 0  # reloaded: checked out
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'visitor.check_out'") == [(1,)]


def test_the_gateway_says_who_did_it_and_when(fresh_site: tuple[Site, str]) -> None:
    """The 409's data (the one error shape, beside code, message and fix): `by` as the pages name
    him, `at` in the site's time, and `state` "same_account" only for the account that did it
    (review 57m: one account may be logged in on two tablets; the page alone knows its own tap
    went unanswered, test_already_done_fix57m_shared_login)."""
    site, url = fresh_site
    _forced_open(site)
    alarm = f"{url}/api/alarms/1/acknowledge"
    pass_out = f"{url}/api/passes/{_visitor(site, url)}/checkout"
    for done in (alarm, pass_out):
        assert httpx2.post(done, json={}, headers=bearer(site.guard_token)).status_code == 200
        again = httpx2.post(done, json={}, headers=bearer(site.guard_token)).json()["error"]
        other = httpx2.post(done, json={}, headers=bearer(site.admin_token)).json()["error"]
        said = (again["code"], again["by"], again["state"])
        assert said == ("already_done", "guard-bot", "same_account"), again
        assert (other["code"], other["by"]) == ("already_done", "guard-bot") and "state" not in other, other
        assert other["at"].endswith("+08:00") and other["at"] == again["at"], other
