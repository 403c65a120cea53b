"""The live page when decisions cannot be stored (a full disk), in a real Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.conftest import CARD, Site, fill_the_disk, make_config, served
from tests.ui.test_guard_browser import PORTRAIT, browser, following_the_stream, page_at, pytestmark  # noqa: F401


@pytest.fixture
def disk_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


def test_a_resident_refused_because_the_disk_is_full_tells_the_guard_what_to_do(
    disk_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The disk is full: a resident's card is refused storage_failed. The guard's panel says the
    disk may be full, that 开闸 still lets the resident in, and to free space; not the lane
    display's 系统故障 请联系保安 ("call the guard"), said to the guard himself; and whose card it
    is, so the guard knows it is a resident to let in."""
    site, url = disk_site
    page = page_at(browser, url, PORTRAIT)
    following_the_stream(page)
    fill_the_disk(site)
    site.traffic.show("door-reader", "card", CARD)
    page.wait_for_selector("#lane-door [data-latest].refused")
    shown = page.inner_text("#lane-door [data-latest]")
    assert "请联系保安" not in shown, shown
    assert "磁盘已满" in shown and "开闸" in shown and "清理数据目录" in shown, shown
    assert "业主" in shown, f"the guard is not shown whose card it is, to open by hand: {shown}"
