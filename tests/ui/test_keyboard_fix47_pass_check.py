"""Guard pages worked with a keyboard (and a barcode scanner that types) alone."""

from __future__ import annotations

import httpx2
from playwright.sync_api import expect

from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_browser import LANDSCAPE, browser, browser_site, page_at  # noqa: F401


def _pass(url: str, site: Site, name: str) -> dict:
    r = httpx2.post(f"{url}/api/visitors", json={"name": name, "host_building": "3栋", "host_unit": "2单元"},
                    headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    return r.json()


def _to_visitors(page) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation(wait_until="load"):
        page.focus("#nav-visitors")
        page.keyboard.press("Enter")


def test_a_scanner_checks_two_passes_one_after_the_other(browser_site, browser) -> None:  # noqa: F811
    """A booth scanner types a pass's code and Enter; scanning the next visitor's pass should show that
    pass, but the first code stays in the field, the second is typed after it, and the check fails."""
    site, url = browser_site
    first, second = _pass(url, site, "王一"), _pass(url, site, "赵二")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    page.focus("input[name=token]")
    page.keyboard.type(str(first["qr"]))
    page.keyboard.press("Enter")
    expect(page.locator("#pass-state")).to_contain_text(f"#{first['id']}")
    # The guard scans the next visitor's pass: focus is still in the field, as the scanner needs.
    page.keyboard.type(str(second["qr"]))
    page.keyboard.press("Enter")
    typed = page.input_value("input[name=token]")
    shown = expect(page.locator("#pass-state"), f"field holds {typed!r}")
    shown.to_contain_text(f"#{second['id']}", timeout=5000)


def test_a_code_that_fails_the_check_does_not_leave_the_last_pass_shown_valid(browser_site, browser) -> None:  # noqa: F811
    """After a valid pass is checked, a code typed wrong (or a pass from elsewhere) only flashes an
    error toast: the earlier visitor's green "有效" line stays under the field, so the guard reads the
    new code as valid. The old result should go when a new check fails."""
    site, url = browser_site
    good = _pass(url, site, "钱三")
    page = page_at(browser, url, LANDSCAPE)
    _to_visitors(page)
    page.focus("input[name=token]")
    page.keyboard.type(str(good["qr"]))
    page.keyboard.press("Enter")
    expect(page.locator("#pass-state")).to_contain_text(f"#{good['id']}")
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.type("NOTAPASS12345")
    page.keyboard.press("Enter")
    expect(page.locator("#toast.bad")).to_be_visible()
    shown = page.locator("#pass-state")
    assert not (shown.is_visible() and "有效" in shown.inner_text()), (
        f"after a failed check the page still shows: {shown.inner_text()!r}")
