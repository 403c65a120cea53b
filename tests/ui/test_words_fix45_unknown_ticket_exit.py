"""输入车牌 at an exit with a ticket typed wrong (unknown_ticket), on the Chinese page."""

from __future__ import annotations

from typing import Any

import httpx2
from playwright.sync_api import expect

from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_browser import LANDSCAPE, browser, in_english, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, english_in, own_site  # noqa: F401


def live_page(chromium: Any, url: str) -> Any:
    """The live page once its script has run (the exit's status filled in by its stream): a tap on
    输入车牌 before then opened no dialog on a loaded machine (one run of the whole suite)."""
    page = page_at(chromium, url, LANDSCAPE)
    expect(page.locator("#lane-car-out [data-status]")).not_to_have_text("")
    return page


def test_a_ticket_typed_wrong_at_the_exit_is_told_in_chinese(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A guard typing the paper ticket's number without its counter's zero (0303-1) reads a Chinese
    heading followed by the API's English ("'0303-1' is no ticket ..., nor a plate ... — check the
    ticket: inside now ..."). The Chinese page should say it all in Chinese, the tickets inside
    named, as docs/guard-app.md promises each code's words in the guard's language."""
    site, url = own_site
    guard = bearer(site.guard_token)
    came = httpx2.post(f"{url}/api/lanes/car-in/plate", json={"no_plate": True}, headers=guard)
    assert came.status_code == 200, came.text
    ticket = came.json()["plate"]
    day = ticket.split("-")[1]
    page = live_page(browser, url)
    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", f"{day}-1")
    page.click("#plate-ok")
    told = bad_toast(page)
    assert ticket in told, told  # the tickets inside are named
    assert english_in(told) == [], f"English on the Chinese page: {told}"


def test_no_plate_typed_at_the_exit_is_told_in_chinese_naming_the_tickets(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """无牌车 typed at an exit (ticket_needed) was told the same way: a Chinese heading, then the
    API's English fix naming the tickets."""
    site, url = own_site
    guard = bearer(site.guard_token)
    came = httpx2.post(f"{url}/api/lanes/car-in/plate", json={"no_plate": True}, headers=guard)
    ticket = came.json()["plate"]
    page = live_page(browser, url)
    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "无牌车")
    page.click("#plate-ok")
    told = bad_toast(page)
    assert told == f"操作失败: 无牌车出场请输入或选择其票号。场内无牌车票号：{ticket}", told


def test_the_english_page_names_the_tickets_in_english(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """No car with no plate inside: the page says so, rather than an empty list."""
    _, url = own_site
    page = live_page(browser, url)
    in_english(page)
    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "0303-1")
    page.click("#plate-ok")
    told = bad_toast(page)
    assert told == (
        "Failed: No car with no plate is inside on that ticket: check the number on the paper ticket. "
        "No car with no plate is inside"
    ), told


def test_the_answer_carries_the_tickets_inside(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """unknown_ticket and ticket_needed carry the tickets inside as data (`tickets`), at the exit
    and at the booth's quote, for a page to word them; the English fix names them too."""
    site, url = own_site
    guard = bearer(site.guard_token)
    tickets = [
        httpx2.post(f"{url}/api/lanes/car-in/plate", json={"no_plate": True}, headers=guard).json()["plate"]
        for _ in range(2)
    ]
    newest_first = tickets[::-1]
    answers = {
        "unknown_ticket": [
            httpx2.post(f"{url}/api/lanes/car-out/plate", json={"plate": "0303-1"}, headers=guard),
            httpx2.post(f"{url}/api/lanes/car-out/plate", json={"plate": "无牌-0101-99"}, headers=guard),
            httpx2.get(f"{url}/api/parking/quote", params={"plate": "0303-1"}, headers=guard),
        ],
        "ticket_needed": [
            httpx2.post(f"{url}/api/lanes/car-out/plate", json={"plate": "无牌车"}, headers=guard),
            httpx2.get(f"{url}/api/parking/quote", params={"plate": "无牌车"}, headers=guard),
        ],
    }
    for code, refused in answers.items():
        for answer in refused:
            error = answer.json()["error"]
            assert (error["code"], error["tickets"]) == (code, newest_first), answer.text
            assert all(t in error["fix"] for t in tickets), error
