"""A resident's lost car card replaced on the admin page, in a real Chromium: the admin types the
car's plate in the card form, and the new card opens the car barrier while the lost one does not."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from tests.ui.conftest import ADMIN, PLATE, Site, bearer, script_errors, stored

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_admin_card_car import NEW, OLD, at_the_barrier  # noqa: E402
from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)


def issue_card(page: Any, url: str, resident_id: int, card: str, plate: str) -> Any:
    """Fill the admin page's card form (发卡) and send it; the form."""
    page.goto(f"{url}/admin")
    form = page.locator('form[data-api="/api/cards"]')
    form.get_by_label("业主编号").fill(str(resident_id))
    form.get_by_label("卡号").fill(card)
    form.get_by_label("车牌").fill(plate)
    form.get_by_role("button", name="添加").click()
    return form


def test_an_admin_replaces_a_lost_car_card_and_the_new_one_opens_the_car_barrier(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The guard blocks R1's lost car card; the admin issues a new one on the admin page, typing the
    car's plate (no database id to look up). At the car barrier the new card lets R1's car in, as
    the old one did, and the old one is refused."""
    site, url = browser_site
    admin = bearer(site.admin_token)
    body = {"card": OLD, "resident_id": site.resident_id, "vehicle_id": site.vehicle_id}
    assert httpx2.post(f"{url}/api/cards", json=body, headers=admin).status_code == 200
    lost = {"kind": "card", "value": OLD, "reason": "业主报失"}
    assert httpx2.post(f"{url}/api/credentials/block", json=lost, headers=admin).status_code == 200

    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    issue_card(page, url, site.resident_id, NEW, PLATE)
    page.wait_for_selector("#toast >> text=已保存")

    assert stored(site, "SELECT vehicle_id FROM credentials WHERE value = ?", NEW) == [(site.vehicle_id,)]
    assert at_the_barrier(site, "car-in", NEW) == (True, "resident")
    assert at_the_barrier(site, "car-in", OLD) == (False, "blocked")
    assert page.errors == []


def test_a_plate_not_the_residents_car_is_refused_on_the_admin_page(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """A mistyped plate is refused in the page's words and gives no card: a card for no car, or for
    someone else's, would not be the car card the resident came for."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, who=ADMIN)
    form = issue_card(page, url, site.resident_id, "0099887766", "皖A99999")
    page.wait_for_selector("#toast.bad >> text=该业主名下没有这个车牌的车辆")
    expect(form.get_by_label("车牌")).to_have_value("皖A99999")  # kept, to correct
    assert stored(site, "SELECT count(*) FROM credentials WHERE value = '0099887766'") == [(0,)]
    assert script_errors(page) == []
