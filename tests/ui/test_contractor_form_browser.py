"""The admin issues a crew's pass on the 施工人员 page, and a card on the admin page, in a real
Chromium: the last day typed is the whole day (docs/guard-app.md: "A bare date that ends a period
(valid_to, monthly_until; a visitor's or contractor's pass too) includes that whole day, as in an
import: it is stored, and shown, as the next day's 00:00"), and hours are taken as the API and an
import take them (review s38_i)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest

from tests.ui.conftest import ADMIN, Site, stored

pytest.importorskip("playwright.sync_api")

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def _issue_on_page(url: str, chromium: Any, name: str, hours: str, last: date) -> Any:
    """Fill the 施工人员 page's form and send it; the page."""
    page = page_at(chromium, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/contractors")
    form = page.locator("#contractor-form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=company]").fill("好家装饰")
    form.locator("input[name=hours]").fill(hours)
    form.locator("input[name=valid_to]").fill(last.isoformat())
    form.locator("button[type=submit]").click()
    return page


def test_the_contractor_page_stores_a_last_day_as_the_whole_day(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A crew given the pass to the 30th can still come in at 23:59:30 on the 30th, and the pass
    reads "to the 31st 00:00", as the API and an import store that last day."""
    site, url = browser_site
    last = (site.gw.now() + timedelta(days=30)).date()
    page = _issue_on_page(url, browser, "赵装修", "08:00-18:00", last)
    page.wait_for_url("**/passes/*")
    end = stored(site, "SELECT valid_to FROM passes WHERE name = '赵装修'")[0][0]
    whole = datetime.combine(last + timedelta(days=1), time(0), site.gw.site.tz)
    assert datetime.fromisoformat(end) == whole, (
        f"the crew's pass typed to end on {last} was stored ending {end} "
        f"(the API and the import store that last day as {whole})"
    )
    assert page.errors == []


@pytest.mark.parametrize(
    ("name", "typed", "kept"),  # a name each: the site is the module's
    [
        ("钱工", "08:00 - 18:00", "08:00 - 18:00"),
        ("孙工", "08:00-12:00;14:00-18:00", "08:00-12:00,14:00-18:00"),
        ("李工", "08:00-12:00， 14:00-18:00", "08:00-12:00,14:00-18:00"),
    ],
)
def test_the_contractor_page_takes_hours_as_the_api_and_an_import_take_them(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    name: str,
    typed: str,
    kept: str,
) -> None:
    """Daily hours typed with spaces round the dash, or two windows separated by ';' as README
    writes them for an import: the API and `gateway import` take both, and so does the page
    (it used to split at every space and answer 操作失败 …每日时段)."""
    site, url = browser_site
    last = (site.gw.now() + timedelta(days=30)).date()
    page = _issue_on_page(url, browser, name, typed, last)
    page.wait_for_url("**/passes/*")
    assert stored(site, "SELECT hours FROM passes WHERE name = ?", name) == [(kept,)]
    assert page.errors == []


def test_the_admin_card_form_takes_two_windows_with_spaces(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    page.goto(f"{url}/admin")
    form = page.locator('form[data-api="/api/cards"]')
    form.locator("input[name=resident_id]").fill(str(site.resident_id))
    form.locator("input[name=card]").fill("0055500555")
    form.locator("input[name=hours]").fill("06:00 - 12:00; 13:00 - 23:00")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#toast >> text=已保存")
    assert stored(site, "SELECT hours FROM credentials WHERE value = '0055500555'") == [
        ("06:00 - 12:00,13:00 - 23:00",)
    ]
    assert page.errors == []
