"""Resetting a guard's password on the admin page (管理 → 账号 → 重设密码): a dialog of its own."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import ADMIN, GUARD, Site, bearer

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def logs_in(url: str, username: str, password: str) -> bool:
    answer = httpx2.post(f"{url}/api/session", json={"username": username, "password": password})
    return answer.status_code == 200


def reset_dialog(page: Any, username: str, button: str = "重设密码") -> Any:  # the dialog, open
    page.locator(f"tr[data-account='{username}']").get_by_role("button", name=button).click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_have_count(1)
    return dialog


def an_account(site: Site, url: str, username: str, password: str, **more: str) -> tuple[str, str]:
    made = httpx2.post(
        f"{url}/api/accounts",
        json={"username": username, "password": password, **more},
        headers=bearer(site.admin_token),
    )
    assert made.status_code == 201, made.text
    return username, password


def admin_page(chromium: Any, site: Site, url: str, language: str) -> Any:
    """The admin page, for an admin whose page language is `language` (English: an account of its
    own, made once for the site, so that the site's other tests keep theirs)."""
    who = ADMIN
    if language != "zh":
        who = (f"admin-{language}", "admin passphrase")
        if not logs_in(url, *who):
            an_account(site, url, *who, role="admin", language=language)
    page = page_at(chromium, url, LANDSCAPE, who=who)
    open_page(page, "admin")
    return page


def test_the_reset_password_dialog_is_a_password_field_not_the_lane_reason_dialog(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """An admin resetting a guard's password got the lanes' reason dialog: the new password typed
    in clear on the booth tablet under 原因（必填） "Reason (required)", beside quick-reason chips. The
    new password goes in masked password fields of its own (typed twice), with no reasons offered."""
    site, url = browser_site
    page = admin_page(browser, site, url, "zh")
    dialog = reset_dialog(page, GUARD[0])
    fields = dialog.locator("input")
    shown = {
        "title": dialog.locator("h2").inner_text(),
        "labels": dialog.locator("label").all_inner_texts(),
        "input types": [f.get_attribute("type") or "text" for f in fields.all()],
        "autocomplete": [f.get_attribute("autocomplete") for f in fields.all()],
        "quick reasons offered": dialog.locator("[data-quick]").count(),
    }
    assert shown["input types"] == ["password", "password"], shown
    assert shown["autocomplete"] == ["new-password", "new-password"], shown
    assert shown["quick reasons offered"] == 0, shown
    assert GUARD[0] in shown["title"] and not any("原因" in label for label in shown["labels"]), shown
    assert page.locator("#reason-dialog[open]").count() == 0
    assert page.errors == []


def test_a_quick_reason_tapped_in_the_reset_dialog_becomes_the_guards_password(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The same dialog in English: its quick reasons are 8 characters or more, so an admin who tapped
    "Visitor registered" in the reset dialog and confirmed had set the guard's password to it, a
    phrase on every lane's dialog. A password dialog offers no ready-made answers."""
    site, url = browser_site
    page = admin_page(browser, site, url, "en")
    dialog = reset_dialog(page, GUARD[0], "Reset password")
    if dialog.locator("[data-quick]", has_text="Visitor registered").count():
        dialog.locator("[data-quick]", has_text="Visitor registered").click()
        with page.expect_navigation(wait_until="load"):
            dialog.locator("button[type=submit]").first.click()
    assert not logs_in(url, GUARD[0], "Visitor registered"), "the guard's password is now a quick reason"


@pytest.mark.parametrize(
    ("language", "differ"), [("zh", "两次输入的新密码不一致"), ("en", "The two new passwords differ")]
)
def test_two_different_passwords_are_refused_on_the_page_and_the_same_two_sent_as_typed(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    language: str,
    differ: str,
) -> None:
    """Typed once, a slip of the finger became the guard's password, which nobody knew. It is typed
    twice: two that differ are refused on the page, in its words, nothing sent; the same two are
    sent as typed (a space at the end kept, as the login keeps it), with Enter."""
    site, url = browser_site
    username, old = f"sun{language}", "sun old passphrase"
    an_account(site, url, username, old)
    page = admin_page(browser, site, url, language)
    dialog = reset_dialog(page, username, "重设密码" if language == "zh" else "Reset password")
    first, second = dialog.locator("input").nth(0), dialog.locator("input").nth(1)
    new = "sun new pass 2024 "
    first.fill(new)
    second.fill(new.strip())
    second.press("Enter")
    expect(dialog.get_by_text(differ)).to_be_visible()
    assert page.locator("dialog[open]").count() == 1 and logs_in(url, username, old), "sent while they differ"
    second.fill(new)
    with page.expect_navigation(wait_until="load"):
        second.press("Enter")
    assert logs_in(url, username, new), "the password sent is not the one typed twice"
    assert not logs_in(url, username, new.strip())
    assert page.errors == []


def test_escape_closes_the_reset_dialog_and_changes_nothing(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """As the reason dialog does: Escape cancels, nothing sent; opened again, nothing typed is left."""
    site, url = browser_site
    an_account(site, url, "zhou", "zhou old passphrase")
    page = admin_page(browser, site, url, "zh")
    dialog = reset_dialog(page, "zhou")
    dialog.locator("input").nth(0).fill("zhou new passphrase")
    dialog.locator("input").nth(1).fill("zhou new passphrase")
    page.keyboard.press("Escape")
    expect(page.locator("dialog[open]")).to_have_count(0)
    assert logs_in(url, "zhou", "zhou old passphrase")
    dialog = reset_dialog(page, "zhou")
    assert [f.input_value() for f in dialog.locator("input").all()] == ["", ""]
    dialog.get_by_role("button", name="取消").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    assert logs_in(url, "zhou", "zhou old passphrase") and page.errors == []
