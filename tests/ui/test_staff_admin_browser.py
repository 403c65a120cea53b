"""The admin page's account form in a real Chromium, as the estate manager uses it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import ADMIN, Site

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_a_chinese_user_name_is_refused_saying_what_a_user_name_may_be(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The manager adds the new guard as 张伟 (his name, as the estate writes it). The page says
    only 用户名格式不对 ("Not a valid user name"): not what a user name may be, so the manager
    tries 张 伟, zhang wei... and each gets the same words. The gateway's own message says it
    (2-32 of A-Z, a-z, 0-9, '.', '_' and '-'); the page should say it too (字母/数字, or the
    message), and that the Chinese name goes in 显示名."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/admin")
    form = page.locator("#account-form")
    form.locator('input[name="username"]').fill("张伟")
    form.locator('input[name="password"]').fill("zhang-wei-pass-1")
    form.get_by_role("button", name="添加").click()
    toast = page.locator("#toast")
    toast.wait_for(state="visible")
    text = toast.inner_text()
    assert "用户名格式不对" in text  # refused it is
    assert any(word in text for word in ("字母", "数字", "A-Z", "a-z", "0-9")), text
