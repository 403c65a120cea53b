"""What the guard is told when a lane's record waits (review s43disk): why it waits, as the error
it was kept with says, never a full disk that is not full (README, the store: "another process
holding the database locked past the 10 s busy timeout, such as a `gateway import` suspended with
Ctrl-Z" - the disk is not full)."""

from __future__ import annotations

import shutil
from typing import Any, get_args

from fastapi.testclient import TestClient
from playwright.sync_api import expect

from gateway.runtime.hand_opens import WaitsFor
from gateway.web.i18n import TEXTS, js_texts
from tests.conftest import locked_by_another_process
from tests.ui.conftest import Site, bearer, fill_the_disk
from tests.ui.test_guard_browser import (  # noqa: F401
    LANDSCAPE,
    browser,
    browser_site,
    page_at,
)
from tests.ui.test_guard_browser import (
    pytestmark as needs_chromium,
)


@needs_chromium
def test_an_opening_held_up_by_an_import_does_not_say_the_disk_is_full(
    browser_site: Any,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """The office runs `gateway import` and suspends it with Ctrl-Z (its write lock held). The guard
    presses 开闸 for the door: it opens after 2 s, its record waits. The toast told him
    已开闸，但磁盘已满…请尽快清理数据目录的磁盘空间: the disk has gigabytes free, so he called the
    installer to delete files for nothing, while the real cause (the import holding the database)
    went unsaid. It says the database is busy, perhaps held by another program such as an import."""
    site, url = browser_site
    free = shutil.disk_usage(site.gw.data_dir).free
    assert free > 100 << 20  # plenty of room: the disk is not full
    page = page_at(browser, url, LANDSCAPE)
    expect(page.locator("#lane-door [data-status]")).to_have_text("设备在线")
    with locked_by_another_process(site.gw.db_path):
        page.click('#lane-door [data-lane-action="open"]')
        page.fill("#reason-input", "导入时开门")
        page.click("#reason-ok")
        expect(page.locator("#toast")).to_be_visible(timeout=10000)
        said = page.inner_text("#toast")
    assert "磁盘已满" not in said, f"the guard is told: {said!r}"
    assert said == TEXTS["action.waits.slow"][0], said


def test_the_reply_says_why_the_record_waits(client: TestClient, site: Site) -> None:
    """The answer to 开闸 names the cause the record was kept with: a full disk (SQLITE_FULL) is
    `full`; one held by another process past the 2 s the opening waits is `slow` (the write still
    under way: the page hedges); a record that was written waits for nothing."""
    guard = bearer(site.guard_token)
    r = client.post("/api/lanes/door/open", json={"reason": "业主未带卡"}, headers=guard)
    assert (r.json()["record_waits"], r.json()["waits_for"]) == (False, None)
    with locked_by_another_process(site.gw.db_path):
        r = client.post("/api/lanes/door/open", json={"reason": "导入时开门"}, headers=guard)
    assert (r.json()["record_waits"], r.json()["waits_for"]) == (True, "slow")
    fill_the_disk(site)
    r = client.post("/api/lanes/door/open", json={"reason": "磁盘满时开门"}, headers=guard)
    assert (r.json()["record_waits"], r.json()["waits_for"]) == (True, "full")


def test_each_cause_has_its_words_in_both_languages() -> None:
    """Each cause a reply can give (LaneActionDone.waits_for) has its toast, in Chinese and English,
    sent to the page; only a full disk tells the guard to free disk space."""
    for cause in get_args(WaitsFor):
        zh, en = TEXTS[f"action.waits.{cause}"]
        assert ("磁盘已满" in zh) == ("disk is full" in en) == (cause == "full"), (cause, zh, en)
        assert js_texts("zh")[f"action.waits.{cause}"] == zh and js_texts("en")[f"action.waits.{cause}"] == en
