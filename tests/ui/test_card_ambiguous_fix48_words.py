"""The booth's 立即禁用 for a Wiegand 26 number two registered cards end in: the page says the number
names several cards, and what to type (err.card_ambiguous)."""

from __future__ import annotations

from gateway.store.registry import add_card
from tests.ui.conftest import Site, block_on_lookup, script_errors
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at, pytestmark  # noqa: F401

PRINTED = "0372653390"  # id 0x0016363D4E, Wiegand 26 054:15694
OTHER = f"{0x01363D4E:010d}"  # same low 24 bits: 054:15694 too
W26 = "054:15694"


def test_two_cards_named_by_a_typed_wiegand_number_are_worded_for_the_guard(
    fresh_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """A guard types the lost card's Wiegand number 054:15694 into 立即禁用; two registered cards
    end in it, so nothing is blocked. The Chinese page told him 与已有记录冲突（同一车牌、卡号或号码
    已登记）, which is false and does not say what to do; he should be told the number names two
    cards and to type the 10 digits printed on the card (or block it on its resident's page)."""
    site, url = fresh_site
    rid = site.resident_id
    for card in (PRINTED, OTHER):
        site.gw.on_worker(
            lambda c, card=card: add_card(c, site.gw.now(), "admin", card, rid, None, None, None, "")
        ).result(timeout=10)
    page = page_at(browser, url, PORTRAIT)
    shown = block_on_lookup(page, "card", W26, "业主报失")
    assert script_errors(page) == []
    assert "同一车牌、卡号或号码已登记" not in shown, f"the guard reads: {shown}"
    assert "对应 2 张已登记的卡" in shown and "卡上印的10位卡号" in shown, f"the guard reads: {shown}"
