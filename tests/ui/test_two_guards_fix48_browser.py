"""Two booth tablets on one lookup page, in a real Chromium: 禁用 pressed on a card the other tablet
blocked already says so (已由他人处理) and shows the card blocked, on record once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx2
import pytest

from tests.ui.conftest import Site, bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401


@pytest.fixture
def two_tablets(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


def test_a_card_blocked_on_another_tablet_is_said_so_on_the_lookup_page(
    two_tablets: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = two_tablets
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "lookup")
    page.fill("#lookup-q", "张三")
    page.press("#lookup-q", "Enter")
    page.wait_for_selector("[data-resident]")
    card_id = page.get_attribute("[data-resident] tr:has-text('卡') button.danger", "data-post")
    assert card_id is not None and card_id.endswith("/block"), card_id
    other = httpx2.post(f"{url}{card_id}", json={"reason": "业主报失"}, headers=bearer(site.guard_token))
    assert other.status_code == 200, other.text

    page.click("[data-resident] tr:has-text('卡') button.danger")
    page.fill("#reason-input", "业主报失")
    page.click("#reason-ok")
    page.wait_for_selector("#toast >> text=已由他人处理")
    page.wait_for_selector("[data-resident] tr.refused:has-text('卡')")  # reloaded: shown blocked
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'credential.block'").fetchone() == (1,)
    assert script_errors(page) == []
