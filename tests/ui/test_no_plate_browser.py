"""A car with no plate (无牌车) at the car lanes, on the guard's live page in a real Chromium: the
entrance's 无牌车 button gives it a ticket, shown large; at the exit the same button lists the
tickets inside to pick from, and the fee is taken on the ticket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, script_errors, served, stored
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def _let_in_without_plate(site: Site, url: str, ago: timedelta, monkeypatch: pytest.MonkeyPatch) -> str:
    """A car with no plate let in `ago` (on another tablet): its ticket."""
    then = site.gw.now() - ago
    monkeypatch.setattr(site.gw, "now", lambda: then)
    try:
        came = httpx2.post(
            f"{url}/api/lanes/car-in/plate", json={"no_plate": True}, headers=bearer(site.guard_token)
        )
    finally:
        monkeypatch.undo()
    assert came.status_code == 200 and came.json()["admitted"], came.text
    return str(came.json()["plate"])


def test_no_plate_button_at_the_entrance_lets_the_car_in_on_a_ticket_shown_large(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = paying_site
    page = page_at(browser, url, LANDSCAPE)
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    page.wait_for_selector("#lane-car-in [data-latest].admitted >> text=无牌车 票号")
    [(ticket, billing)] = stored(site, "SELECT plate, billing FROM stays WHERE exited_at IS NULL")
    assert ticket.startswith("无牌-") and billing == "temporary"
    assert page.inner_text("#lane-car-in [data-latest] .plate") == ticket
    assert ticket in page.inner_text("#toast")
    # The 车位 page lists the car under its ticket, marked as a car with no plate.
    open_page(page, "occupancy")
    row = page.locator("#cars-list tbody tr", has_text=ticket)
    assert row.locator("[data-no-plate]").inner_text() == "无牌车"
    assert script_errors(page) == []


def test_no_plate_button_at_the_exit_lists_the_tickets_inside_and_the_fee_is_taken_on_one(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site, url = paying_site
    first = _let_in_without_plate(site, url, timedelta(hours=2), monkeypatch)
    second = _let_in_without_plate(site, url, timedelta(hours=1), monkeypatch)
    page = page_at(browser, url, LANDSCAPE)

    # A ticket nobody inside holds: refused, and the guard is told which are inside.
    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.fill("#plate-input", "无牌-0101-99")
    page.click("#plate-ok")
    page.wait_for_selector("#toast.bad")
    told = page.inner_text("#toast")
    assert "场内没有该票号的无牌车" in told and first in told and second in told, told

    page.click("#lane-car-out [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    page.click("#plate-none")
    page.wait_for_selector("#plate-tickets [data-ticket]")
    assert page.locator("#plate-tickets [data-ticket]").all_inner_texts() == [second, first]  # newest first
    page.click(f"#plate-tickets [data-ticket='{first}']")
    assert page.input_value("#plate-input") == first
    page.click("#plate-ok")
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={first}")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    fee = page.inner_text("#pay-summary")
    assert fee.startswith(f"{first} · ") and fee.endswith("元"), fee
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=已收费")
    assert stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL") == [(second,)]
    [(paid, plate)] = stored(site, "SELECT amount_fen, plate FROM payments")
    assert paid > 0 and plate == first
    assert script_errors(page) == []
