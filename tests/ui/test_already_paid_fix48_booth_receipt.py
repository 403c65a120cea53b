"""already_paid for a car paid at the booth while the exit tablet's fee dialog was open
(paid_while_held), as the guard's page words it, in a real Chromium: the booth's receipt and when,
not another tablet (docs/guard-app.md)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import httpx2
import pytest

from gateway.timefmt import from_db
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import browser, pytestmark  # noqa: F401
from tests.ui.test_guard_fee_words_browser import _held_to_pay

PLATE = "鲁B12345"


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def _paid_at_the_booth_meanwhile(site: Site, url: str, chromium: object, language: str):  # type: ignore[no-untyped-def]
    """The exit tablet's fee dialog open for the car held there, and its 7元 paid at the booth."""
    page = _held_to_pay(site, url, chromium, PLATE, language)
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    booth = httpx2.post(
        f"{url}/api/parking/prepay",
        json={"plate": PLATE, "amount_fen": 700, "method": "cash", "receipt": "B-778"},
        headers=bearer(site.guard_token),
    )
    assert booth.status_code == 200, booth.text
    return page


def _booth_paid_at(site: Site) -> str:
    """The booth payment's time as the page says it, the site's clock (2025-03-10 07:00)."""
    with sqlite3.connect(site.gw.db_path) as conn:
        [(at,)] = conn.execute("SELECT at FROM payments").fetchall()  # one: nothing taken twice
    stored = from_db(at)
    assert stored is not None
    return f"{stored.astimezone(site.gw.now().tzinfo):%Y-%m-%d %H:%M}"


def test_a_fee_paid_at_the_booth_meanwhile_names_the_booth_receipt_not_another_tablet(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The exit guard has 收费放行's dialog open; the driver walks to the booth and pays 7元 there
    (receipt B-778). The guard's 现金已收 was told 该车已缴费（另一台平板已收，或已提交过）, naming a tablet
    that took nothing and a tap he never made, and no receipt or time to show the driver."""
    site, url = paying_site
    page = _paid_at_the_booth_meanwhile(site, url, browser, "zh")
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "请勿再收" in shown, shown
    assert "另一台平板" not in shown and "B-778" in shown and _booth_paid_at(site) in shown, shown
    assert "{" not in shown and "already_paid" not in shown, shown
    assert script_errors(page) == []


def test_in_english_too_the_booth_receipt_and_its_time_are_named(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = paying_site
    page = _paid_at_the_booth_meanwhile(site, url, browser, "en")
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "take nothing again" in shown and "tablet" not in shown, shown
    assert "B-778" in shown and _booth_paid_at(site) in shown and "{" not in shown, shown
    assert script_errors(page) == []


def test_the_answer_carries_the_receipt_amount_and_time_in_the_sites_clock(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The API's 409 already_paid holds the payment (beside its code, as error_body puts data) for
    any page to word: receipt, amount, and when
    it went through in the site's time (as left_since's left_at)."""
    site, url = paying_site
    _paid_at_the_booth_meanwhile(site, url, browser, "zh")
    lane = httpx2.post(
        f"{url}/api/parking/lanes/car-out/pay",
        json={"plate": PLATE, "amount_fen": 700, "method": "cash"},
        headers=bearer(site.guard_token),
    )
    error = lane.json()["error"]
    assert (lane.status_code, error["code"]) == (409, "already_paid"), lane.text
    assert (error["receipt"], error["amount_fen"]) == ("B-778", 700), error
    assert error["paid_at"].replace("T", " ").startswith(_booth_paid_at(site)), error
    offset = site.gw.now().isoformat(timespec="seconds")[-6:]
    assert error["paid_at"].endswith(offset), error  # the site's clock, not UTC's


def test_a_fee_taken_with_no_receipt_to_name_is_said_paid_with_no_blank_showing(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The car was let out paid meanwhile (let_out_already: its answer names no receipt): the page
    says it paid, in words with no receipt and no {receipt} blank left in them."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, PLATE)
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    other = httpx2.post(
        f"{url}/api/parking/lanes/car-out/pay",
        json={"plate": PLATE, "amount_fen": 700, "method": "qr"},
        headers=bearer(site.guard_token),
    )
    assert other.status_code == 200 and other.json()["admitted"], other.text
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "该车已缴费，请勿再收" in shown and "{" not in shown and "收据号" not in shown, shown
    assert script_errors(page) == []
