"""车位 › 登记场内车辆 and 已离场 with a reason of one character."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2

from tests.ui.conftest import ADMIN, Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def _record_with_reason(page: Any, site: Site, url: str, reason: str) -> Any:  # a Playwright Locator
    page.goto(f"{url}/occupancy")
    form = page.locator("#record-inside-form")
    form.locator("input[name=plate]").fill("皖B99999")
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz)
    form.locator("input[name=entered_at]").fill(came_in.strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=reason]").fill(reason)
    return form


def test_a_one_character_reason_is_named_as_the_field_at_fault(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A reason of one character (补) was refused as "填写的内容格式不对，请检查后重试": the admin, who
    filled in every field, was not told it is the reason, nor that it needs 2 characters. The
    gateway's refusal, however the request came (the page's minlength left out, as by any client),
    names the reason (原因) and its 2 characters."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    form = _record_with_reason(page, site, url, "补")
    form.locator("input[name=reason]").evaluate("el => el.removeAttribute('minlength')")
    form.locator("button[type=submit]").click()
    told = bad_toast(page)
    assert stored(site, "SELECT count(*) FROM stays") == [(0,)]
    assert "原因" in told and "2" in told, f"the page does not say the reason is at fault: {told}"


def test_the_form_asks_for_two_characters_before_sending(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The reason's input says its 2 characters itself (minlength), as the gateway checks them."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    form = _record_with_reason(page, site, url, "补")
    reason = form.locator("input[name=reason]")
    assert reason.get_attribute("minlength") == "2"
    form.locator("button[type=submit]").click()
    assert reason.evaluate("el => el.validity.tooShort") is True
    assert page.locator("#toast").is_hidden()
    assert stored(site, "SELECT count(*) FROM stays") == [(0,)]


def test_the_api_names_the_reason_of_a_record_and_of_a_close(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """422 `reason_required` with fields ["reason"], for 登记场内车辆 and 已离场 alike, rather than
    `invalid_request` naming no field."""
    site, url = own_site
    admin = bearer(site.admin_token)
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz).strftime("%Y-%m-%d %H:%M")
    car = {"plate": "皖B99999", "entered_at": came_in}
    short = httpx2.post(f"{url}/api/parking/stays", json={**car, "reason": "补"}, headers=admin)
    missing = httpx2.post(f"{url}/api/parking/stays", json=car, headers=admin)
    for refused in (short, missing):
        error = refused.json()["error"]
        assert (refused.status_code, error["code"], error["fields"]) == (422, "reason_required", ["reason"])
    assert "2 characters" in short.json()["error"]["fix"], short.text
    assert short.json()["error"]["least"] == 2, "the pages say 至少 2 个字"
    made = httpx2.post(f"{url}/api/parking/stays", json={**car, "reason": "补录"}, headers=admin)
    assert made.status_code == 200, made.text
    stay = made.json()["stay_id"]
    close = httpx2.post(f"{url}/api/parking/stays/{stay}/close", json={"reason": "走"}, headers=admin)
    assert (close.status_code, close.json()["error"]["code"]) == (422, "reason_required"), close.text
    assert stored(site, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(1,)]


def test_mark_as_left_asks_for_two_characters(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """已离场's reason dialog keeps a reason of one character (its 2 characters said by the input),
    and closes nothing; one of two characters closes the stay."""
    site, url = own_site
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz).strftime("%Y-%m-%d %H:%M")
    made = httpx2.post(
        f"{url}/api/parking/stays",
        json={"plate": "皖B99999", "entered_at": came_in, "reason": "补录"},
        headers=bearer(site.admin_token),
    )
    assert made.status_code == 200, made.text
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/occupancy")
    page.locator("#cars-list tr", has_text="皖B99999").get_by_role("button", name="标记离场").click()
    page.wait_for_selector("#reason-dialog[open]")
    assert page.get_attribute("#reason-input", "minlength") == "2"
    page.fill("#reason-input", "走")
    page.click("#reason-ok")
    assert page.is_visible("#reason-dialog[open]")  # kept open: nothing was sent
    assert stored(site, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(1,)]
    page.fill("#reason-input", "走了")
    with page.expect_navigation(wait_until="load"):
        page.click("#reason-ok")
    assert stored(site, "SELECT count(*) FROM stays WHERE exited_at IS NULL") == [(0,)]


def test_a_blank_reason_to_block_a_card_is_asked_for_one_character(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """Blocking a card (挂失) takes a reason of one character or more: its refusal of a blank one says
    1 (`least`), so the page's words (请填写原因，至少 {least} 个字) do not ask the guard for two."""
    site, url = own_site
    admin = bearer(site.admin_token)
    body = {"kind": "card", "value": "0001234567", "reason": " "}
    blank = httpx2.post(f"{url}/api/credentials/block", json=body, headers=admin)
    error = blank.json()["error"]
    assert (blank.status_code, error["code"], error.get("least")) == (422, "reason_required", 1), blank.text
