"""The live panel's words for a decision that could not be stored, by why: only a full disk sends
the guard to free disk space (docs/guard-app.md), as the toast of an opening whose record waits
does. In a real Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.web.i18n import js_texts
from tests.conftest import locked_by_another_process
from tests.sdcard import sd_card
from tests.ui.conftest import CARD, make_config, served
from tests.ui.test_guard_browser import PORTRAIT, browser, following_the_stream, page_at, pytestmark  # noqa: F401

FULL_DISK_WORDS = ("磁盘已满", "清理数据目录的磁盘空间")


def test_a_resident_refused_on_a_failed_card_is_not_told_as_a_full_disk(
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    """The card went read-only: a resident's card is refused storage_failed. The guard's panel
    read 未能记录（磁盘已满？）：可点开闸手动放行，请清理数据目录的磁盘空间: he had files deleted for
    nothing. The hand-open toast on the same card says 数据盘无法写入（只读或故障？）; the decision's
    panel says so too, and still that 开闸 lets the resident in."""
    with sd_card(tmp_path / "data") as card, served(make_config(card.mount)) as (site, url):
        page = page_at(browser, url, PORTRAIT)
        following_the_stream(page)
        card.fail()
        site.traffic.show("door-reader", "card", CARD)
        page.wait_for_selector("#lane-door [data-latest].refused")
        shown = page.inner_text("#lane-door [data-latest]")
        page.close()
    assert "开闸" in shown and "数据盘无法写入" in shown, shown
    assert not any(words in shown for words in FULL_DISK_WORDS), shown
    assert "storage:" not in shown and "[" not in shown, shown  # the cause is said once, in words


def test_a_resident_refused_while_an_import_holds_the_database_is_not_told_as_a_full_disk(
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    """A `gateway import` suspended with Ctrl-Z holds the database past the busy timeout: the
    resident is refused storage_failed, and the panel said the disk was full. It says another
    program holds the database, and that 开闸 still lets the resident in."""
    with served(make_config(tmp_path / "data")) as (site, url):
        site.gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout=300")).result(60)  # not 10 s
        page = page_at(browser, url, PORTRAIT)
        following_the_stream(page)
        with locked_by_another_process(site.gw.db_path):
            site.traffic.show("door-reader", "card", CARD)
            page.wait_for_selector("#lane-door [data-latest].refused")
        shown = page.inner_text("#lane-door [data-latest]")
        page.close()
    assert "开闸" in shown and "gateway import" in shown, shown
    assert not any(words in shown for words in FULL_DISK_WORDS), shown


@pytest.mark.parametrize("language", ["zh", "en"])
def test_each_cause_of_a_decision_not_stored_has_its_words(language: str) -> None:
    """Each cause the refused event carries is worded for the guard, and sends him to 开闸 (Open);
    only a full disk's words say to free disk space."""
    texts = js_texts(language)
    opened = "开闸" if language == "zh" else "Open"
    for cause in ("full", "unwritable", "locked", "damaged"):
        words = texts[f"why.storage_failed.{cause}"]
        assert opened in words, (cause, words)
        assert ("磁盘空间" in words or "free disk space" in words) == (cause == "full"), (cause, words)
