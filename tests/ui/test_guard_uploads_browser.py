"""An admin sends a set-aside record again from the alarms page, in a real headless Chromium."""

from __future__ import annotations

import pytest

from tests.set_aside_helpers import open_quarantine_alarms, set_aside_records
from tests.ui.conftest import ADMIN, Site

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402  (after the skip)
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
    shot,
)


def test_an_admin_sends_a_record_again_from_the_alarms_page(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = browser_site
    seq, kept = set_aside_records(site.gw, "visitor_pass", "materials")
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    open_page(page, "alarms")
    expect(page.locator("#alarm-list")).to_contain_text("记录无法上传")
    row = page.locator(f'#set-aside [data-seq="{seq}"]')
    expect(row).to_contain_text("not authorized")
    shot(page, "alarms-set-aside")
    row.get_by_role("button", name="重新上传").click()
    expect(row).to_have_count(0)  # the page reloads without it
    expect(page.locator(f'#set-aside [data-seq="{kept}"]')).to_have_count(1)
    assert open_quarantine_alarms(site.gw) == ["materials"]
    assert page.errors == []
