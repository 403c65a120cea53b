"""Guard A at the booth has the fee dialog open for the car held at the exit; guard B at the exit
lets it out by hand (开闸: the host confirmed the visit), so no fee is taken. A then presses
现金已收. In a real Chromium."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401

EXIT_RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML + EXIT_RELAY)) as served_site:
        yield served_site


def test_a_car_the_other_tablet_let_out_by_hand_is_not_told_paid(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """What A reads: 该车已缴费（另一台平板已收，或已提交过），请勿再收 — the car has paid. It has
    not: B let it out by hand and its 7元 was let go (no payment on record, none in the day's
    report). A, told it paid, books 7元 in the shift's cash that nobody took. A should be told the
    car was let out by hand on another tablet without a fee, not that it paid."""
    site, url = paying_site
    plate = "鲁B12345"
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", plate, 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", plate, 0.99, now, "cam"))
    page.wait_for_selector(f"#lane-car-out [data-latest].refused >> text={plate}")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-summary") == f"{plate} · 7元"
    other = httpx2.post(
        f"{url}/api/lanes/car-out/open", json={"reason": "业主确认访客"}, headers=bearer(site.guard_token)
    )
    assert other.status_code == 200, other.text
    page.click("#pay-cash")
    page.wait_for_selector("#toast.bad")
    shown = page.inner_text("#toast")
    with sqlite3.connect(site.gw.db_path) as conn:
        paid = conn.execute("SELECT count(*) FROM payments").fetchone()[0]
        by_hand = conn.execute("SELECT closed_by FROM stays").fetchall()
    assert (paid, by_hand) == (0, [("hand",)])  # let out by hand, nothing taken
    assert "已缴费" not in shown and "已收" not in shown, shown
    assert script_errors(page) == []
