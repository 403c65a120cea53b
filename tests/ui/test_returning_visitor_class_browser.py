"""On the visitor form, "Find returning visitor" fills the plate and its vehicle class together."""

from __future__ import annotations

import httpx2
import pytest

from tests.ui.conftest import Site, bearer

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    open_page,
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def test_a_returning_motorcyclist_is_filled_in_as_a_motorcycle(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The guard finds a visitor who came on a motorcycle: the form shows the plate and 摩托车, not
    the default 汽车, so the motorcycle is not registered as a car."""
    site, url = browser_site
    earlier = {
        "name": "孙八",
        "phone": "13900002222",
        "host_building": "3栋",  # where the site's resident lives
        "host_unit": "2单元",
        "plate": "苏E66666",
        "vehicle_class": "motorcycle",
    }
    r = httpx2.post(f"{url}/api/visitors", json=earlier, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    assert page.input_value("#f-vehicle-class") == "car"
    page.fill("#f-phone", "13900002222")
    page.click("[data-find=phone]")
    expect(page.locator("#f-plate")).to_have_value("苏E66666")
    assert page.input_value("#f-vehicle-class") == "motorcycle"
    assert page.errors == []
