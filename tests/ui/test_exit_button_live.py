"""The guards' live page shows someone let out by a door's exit button (出门按钮) for what it is:
the button and its device, let out, and no holder: nobody is known, and 未登记 (not registered) would
send the guard after a stranger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ui.conftest import Site, make_config, served
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at  # noqa: F401
from tests.ui.test_guard_browser import pytestmark as needs_chromium


@pytest.fixture
def door_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


@needs_chromium
def test_a_press_of_the_exit_button_is_listed_as_such(door_site: tuple[Site, str], browser: object) -> None:  # noqa: F811
    site, url = door_site
    page = page_at(browser, url, PORTRAIT)
    page.wait_for_selector("#lane-door [data-status]")
    page.wait_for_timeout(1000)  # the stream is open
    assert site.gw.exit_button("door", "door-io")  # as the door's module reports the press
    page.wait_for_selector("#lane-door [data-latest].admitted >> text=出门按钮 door-io")
    latest = page.inner_text("#lane-door [data-latest]")
    assert "放行 · 出门按钮" in latest and "未登记" not in latest, latest
    row = page.inner_text("#lane-door [data-recent] li:first-child")
    assert "出门按钮 door-io" in row and "未登记" not in row, row
    assert page.errors == []
