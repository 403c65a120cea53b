"""A resident's card that names no car, tapped at a car exit after its car came in on it as a
temporary car (policy no_slot = "temporary"), is held to pay: the guard's 收费放行 on the tablet
names the resident, takes the fee and lets the car out, in a real Chromium. The tablet said "no car
is waiting to pay" though the API could take it (e6a8a24)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import CARD, DRIVEN, Site, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401


@pytest.fixture
def paying_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    text = site_toml(tmp_path / "data", no_slot="temporary") + DRIVEN + TARIFF_TOML
    with served(parse_config(text, "site.toml")) as served_site:
        yield served_site


def test_a_resident_held_on_a_card_naming_no_car_pays_from_the_tablet(
    paying_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    site, url = paying_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()

    def decide(p: Presented):  # type: ignore[no-untyped-def]
        return site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10)

    came_in = decide(Presented("car-in", "card", CARD, 1.0, now - timedelta(hours=2), "reader"))
    assert came_in.admitted, came_in
    held = decide(Presented("car-out", "card", CARD, 1.0, now, "reader"))
    assert (held.reason, held.fee_fen) == ("payment_due", 700), held
    page.wait_for_selector("#lane-car-out [data-latest].refused")
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    summary = page.inner_text("#pay-summary")
    assert summary.startswith("业主 张**") and "3栋2单元 · 7元" in summary, summary
    assert CARD[-4:] not in summary, summary
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=已收费 7元")
    with sqlite3.connect(site.gw.db_path) as conn:
        paid = conn.execute("SELECT amount_fen FROM payments").fetchall()
        inside = conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert paid == [(700,)] and inside == 0
    assert script_errors(page) == []
