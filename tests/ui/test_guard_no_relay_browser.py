"""Lane buttons only where they can work, in a real Chromium."""

from __future__ import annotations

from tests.ui.conftest import Site
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    PORTRAIT,
    browser,
    browser_site,
    page_at,
    pytestmark,
)


def test_a_lane_with_no_relay_offers_no_open_button_and_says_why(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The test site's exit lane has a camera but no barrier relay: 开闸, 常开 and 恢复 would always
    fail (422), so the panel does not offer them and says why; a lane with a relay keeps them."""
    _, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    assert page.locator("#lane-car-out [data-lane-action]").count() == 0
    assert "不能手动开闸" in page.inner_text("#lane-car-out [data-no-relay]")
    assert page.locator("#lane-car-out [data-type-plate]").count() == 1  # a typed plate still decides
    assert page.locator("#lane-car-in [data-lane-action]").count() == 3
    assert page.errors == []
