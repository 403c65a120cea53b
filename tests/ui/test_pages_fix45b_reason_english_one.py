"""The English page's words for a reason left blank where one character is enough."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx2

from tests.ui.conftest import CARD, Site, bearer, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, in_english, open_page, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def test_a_blank_reason_to_block_a_card_reads_as_english(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """On the English 查询 page a guard blocks a card by its number with a blank reason: the toast
    read "Give a reason, 1 characters or more"; it reads "1 or more characters", as the Chinese
    至少 1 个字 does."""
    site, url = own_site
    page = page_at(browser, url, LANDSCAPE)
    in_english(page)
    open_page(page, "lookup")
    form = page.locator("#block-form")
    form.locator("input[name=value]").fill(CARD)
    form.locator("input[name=reason]").fill(" ")
    form.locator("button[type=submit]").click()
    told = bad_toast(page)
    assert stored(site, "SELECT count(*) FROM credentials WHERE blocked = 1") == [(0,)]
    assert "Give a reason" in told, told
    assert "1 characters" not in told, f"the English page says: {told}"
    assert "Give a reason, 1 or more characters" in told, told


def test_the_api_fix_reads_right_for_one_character_and_for_two(own_site: tuple[Site, str]) -> None:  # noqa: F811
    """The API's fix counts the characters as English does: "1 character or more", "2 characters or
    more" (it said "1 characters or more")."""
    site, url = own_site
    admin = bearer(site.admin_token)
    block = {"kind": "card", "value": CARD, "reason": ""}
    one = httpx2.post(f"{url}/api/credentials/block", json=block, headers=admin).json()["error"]
    came_in = (site.gw.now() - timedelta(hours=3)).astimezone(site.gw.site.tz).strftime("%Y-%m-%d %H:%M")
    two = httpx2.post(
        f"{url}/api/parking/stays", json={"plate": "皖B99999", "entered_at": came_in}, headers=admin
    ).json()["error"]
    assert (one["code"], one["least"]) == ("reason_required", 1), one
    assert (two["code"], two["least"]) == ("reason_required", 2), two
    assert one["fix"] == "say why, in 1 character or more", one
    assert two["fix"] == "say why, in 2 characters or more", two
