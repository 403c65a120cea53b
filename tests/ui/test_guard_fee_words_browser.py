"""What the guard reads when taking the fee at an exit lane goes wrong, in a real Chromium."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, in_english, page_at, pytestmark  # noqa: F401


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


def _held_to_pay(site: Site, url: str, chromium: object, plate: str, language: str = "zh"):  # type: ignore[no-untyped-def]
    """The live page, and a car two hours in held at its exit to pay 7元."""
    page = page_at(chromium, url, LANDSCAPE)
    if language == "en":
        in_english(page)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", plate, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", plate, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={plate}")
    return page


def _paid(site: Site) -> int:
    with sqlite3.connect(site.gw.db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM payments").fetchone()[0])


def test_a_fee_another_tablet_took_meanwhile_is_not_told_to_try_again(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Guard A has the fee dialog open; guard B takes the fee on the other tablet and the car goes.
    A's 现金已收 must say it was paid already, not 请重试 (which would take it twice)."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B12345")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-summary") == "鲁B12345 · 7元"
    other = httpx2.post(
        f"{url}/api/parking/lanes/car-out/pay",
        json={"plate": "鲁B12345", "amount_fen": 700, "method": "qr"},
        headers=bearer(site.guard_token),
    )
    assert other.status_code == 200 and other.json()["admitted"], other.text
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "请勿再收" in shown and "重试" not in shown and "already_paid" not in shown, shown
    assert _paid(site) == 1
    assert script_errors(page) == []


@pytest.mark.parametrize(("language", "why"), [("zh", "通道已关闭"), ("en", "lane closed")])
def test_a_fee_refused_at_a_closed_exit_says_why_it_was_not_taken(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
    language: str,
    why: str,
) -> None:
    """The exit is closed (a centre command) while the car waits to pay: the fee is undone, as the
    barrier stays shut, and the guard is told so and what to do, not only 不允许此操作."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B54321", language)
    site.gw.by_hand.set_lane_mode("car-out", "closed", "centre", "incident at the exit")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert why in shown, shown
    assert _paid(site) == 0  # rolled back: no money for a barrier that stays shut
    assert script_errors(page) == []


def test_a_fee_sent_with_no_answer_back_is_not_called_unsaved(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The tablet's Wi-Fi drops after 现金已收 went out: the gateway took the fee and let the car
    out, but no answer came back. The page must not say 未保存 (the guard would take it again)."""
    site, url = paying_site
    page = _held_to_pay(site, url, browser, "鲁B67890")

    def lost_answer(route) -> None:  # type: ignore[no-untyped-def]
        route.fetch()  # the request reaches the gateway...
        route.abort()  # ...and its answer never reaches the page

    page.route("**/api/parking/lanes/car-out/pay", lost_answer)
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    assert "不确定是否已收费" in shown and "未保存" not in shown, shown
    assert _paid(site) == 1
    assert script_errors(page) == []
