"""Review 66 I1, on the pages: at a site with an EM4100 reader set to hex, 10 digits typed into
立即禁用 are read both ways; where they are one card's printed number and another card's hex id,
nothing is blocked and the guard's page says so, and where to block it instead
(err.card_ambiguous.two_readings), not "type the 10 digits printed on the card", which he did. An
admin giving a card of 10 digits only where every EM4100 reader gives hex is told on the admin page
what the readers will make of it, not only 已保存."""

from __future__ import annotations

from pathlib import Path

from gateway.store.registry import add_card
from tests.ui.conftest import ADMIN, block_on_lookup, make_config, script_errors, served
from tests.ui.test_admin_card_car_browser import issue_card
from tests.ui.test_guard_browser import LANDSCAPE, PORTRAIT, browser, page_at, pytestmark  # noqa: F401

HEX_READER = """
[[devices]]
id = "door-card-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/ttyUSB-no-such-reader"
format = "em4100"
"""


def test_ten_digits_of_two_cards_are_worded_for_the_guard(tmp_path: Path, browser: object) -> None:  # noqa: F811
    with served(make_config(tmp_path / "data", HEX_READER)) as (site, url):
        rid = site.resident_id
        for card in ("0016363D4E", "0372653390"):  # printed 0372653390; the hex id 0372653390
            site.gw.on_worker(
                lambda c, card=card: add_card(
                    c, site.gw.now(), "admin", card, rid, None, None, None, "", ten_digits="hex"
                )
            ).result(timeout=10)
        page = page_at(browser, url, PORTRAIT)
        shown = block_on_lookup(page, "card", "0372653390", "业主报失")
        assert script_errors(page) == []
    assert "卡上印的卡号" in shown and "十六进制" in shown and "业主页面禁用" in shown, (
        f"the guard reads: {shown}"
    )
    assert "请输入卡上印的10位卡号" not in shown, f"the guard reads: {shown}"


def test_the_admin_page_says_what_hex_readers_make_of_a_printed_number(
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    with served(make_config(tmp_path / "data", HEX_READER)) as (site, url):
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        issue_card(page, url, site.resident_id, "0372653390", "")
        page.wait_for_selector("#toast.bad")
        shown = str(page.inner_text("#toast"))
        assert script_errors(page) == []
    assert "已保存" in shown and 'em4100_number = "decimal"' in shown, f"the admin reads: {shown}"
