"""Review 66 fix R3: an admin lifting a block by 10 digits that are one card's printed number and
another card's hex id (a site with an EM4100 reader set to hex) was told, on the lookup page,
这10位数字既是…未禁用：请在业主页面禁用: to block the card. The page now words an ambiguous number by
what was asked (the error's data.action): 未解除禁用：请在业主页面解除禁用. Where exactly one of the
cards it names is blocked, lifting the block is not ambiguous: that card's block is lifted, on
record as that card."""

from __future__ import annotations

from pathlib import Path

from gateway.store.registry import add_card
from tests.ui.conftest import ADMIN, make_config, script_errors, served
from tests.ui.test_card_two_readings_words_fix66I import HEX_READER
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401

CARDS = ("0016363D4E", "0372653390")  # printed 0372653390; the hex id 0372653390


def _unblock_on_lookup(
    tmp_path: Path,
    browser: object,  # noqa: F811
    blocked: tuple[str, ...],
    cards: tuple[str, ...] = CARDS,
    typed: str = "0372653390",
    devices: str = HEX_READER,
) -> tuple[str, list]:
    with served(make_config(tmp_path / "data", devices)) as (site, url):
        rid = site.resident_id
        for card in cards:
            site.gw.on_worker(
                lambda c, card=card: add_card(
                    c, site.gw.now(), "admin", card, rid, None, None, None, "", ten_digits="hex"
                )
            ).result(timeout=10)
        for card in blocked:
            site.gw.on_worker(
                lambda c, card=card: c.execute("UPDATE credentials SET blocked = 1 WHERE value = ?", (card,))
            ).result(timeout=10)
        page = page_at(browser, url, LANDSCAPE, who=ADMIN)
        with page.expect_navigation(wait_until="load"):
            page.click("#nav-lookup")
        page.select_option("#unblock-form select[name=kind]", "card")
        page.fill("#unblock-form input[name=value]", typed)
        page.fill("#unblock-form input[name=reason]", "找到了")
        shown = ""
        if len(blocked) == 1:  # lifted: the page reloads, as on any block lifted
            with page.expect_navigation(wait_until="load"):
                page.click("#unblock-form button[type=submit]")
        else:
            page.click("#unblock-form button[type=submit]")
            page.wait_for_selector("#toast.bad")
            shown = str(page.inner_text("#toast"))
        assert script_errors(page) == []
        rows = site.gw.on_worker(
            lambda c: c.execute(
                "SELECT (SELECT group_concat(value) FROM credentials WHERE blocked = 1), "
                "(SELECT group_concat(target) FROM audit WHERE action = 'credential.unblock')"
            ).fetchall()
        ).result(timeout=10)
    return shown, rows


def test_both_blocked_the_admin_is_told_to_lift_the_block(tmp_path: Path, browser: object) -> None:  # noqa: F811
    shown, rows = _unblock_on_lookup(tmp_path, browser, CARDS)
    assert "请在业主页面禁用" not in shown, f"an admin lifting a block reads: {shown}"
    assert "解除禁用" in shown and "十六进制" in shown, f"the admin reads: {shown}"
    (still_blocked, lifted) = rows[0]
    assert set(still_blocked.split(",")) == set(CARDS) and lifted is None, rows


def test_one_blocked_its_block_is_lifted(tmp_path: Path, browser: object) -> None:  # noqa: F811
    _, rows = _unblock_on_lookup(tmp_path, browser, ("0372653390",))
    assert rows == [(None, "card:******3390")], rows


def test_a_wiegand_number_of_two_blocked_cards_is_worded_for_lifting(
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    two = ("0372653390", f"{0x01363D4E:010d}")  # both end in the Wiegand 26 number 054:15694
    shown, rows = _unblock_on_lookup(tmp_path, browser, two, two, "054:15694", "")
    assert "请在业主页面禁用" not in shown and "未解除禁用" in shown, f"the admin reads: {shown}"
    assert rows[0][1] is None, rows
