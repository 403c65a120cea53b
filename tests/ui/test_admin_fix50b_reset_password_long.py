"""重设密码 with a password longer than the gateway takes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import Site

pytest.importorskip("playwright.sync_api")

from tests.ui.test_admin_fix50_reset_password_dialog import admin_page, an_account, logs_in, reset_dialog  # noqa: E402
from tests.ui.test_guard_browser import (  # noqa: E402
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_a_129_character_password_is_not_cut_to_128_without_a_word(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """An admin pastes a 129-character password (a password manager's) into both masked fields of the
    reset dialog: the fields silently keep 128 (maxlength), the two match, the 128 are set, and the
    guard given the 129 cannot log in (the login takes up to 256). The page should refuse it saying
    128 at most (as the API's weak_password does), or set what was typed; never a password nobody knows."""
    site, url = browser_site
    username, old = "qian", "qian old passphrase"
    an_account(site, url, username, old)
    page = admin_page(browser, site, url, "zh")
    dialog = reset_dialog(page, username)
    new = ("correct horse battery staple " * 5)[:129]
    assert len(new) == 129
    first, second = dialog.locator("input").nth(0), dialog.locator("input").nth(1)
    first.fill(new)
    second.fill(new)
    try:
        with page.expect_navigation(wait_until="load", timeout=5000):
            second.press("Enter")
    except Exception:
        pass  # refused on the page: no reload
    changed_to_128 = logs_in(url, username, new[:128])
    assert not changed_to_128, (
        "the 129-character password typed twice was cut to its first 128 and set without a word: "
        f"the guard cannot log in with the password he was given (129 chars: {logs_in(url, username, new)})"
    )
