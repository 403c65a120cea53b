"""A guard presses 开闸 / 常开 on a lane whose relay does not take it: the toast must say so in the
page's language and tell what to do, not show the API's English message."""

from __future__ import annotations

import re

import pytest

from tests.ui.conftest import Site
from tests.ui.test_guard_browser import PORTRAIT, browser, page_at, pytestmark  # noqa: F401


def _broken(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    relay = site.gw.devices.lanes["car-in"].relays[0]

    def fails(*_a: object, **_k: object) -> None:
        raise OSError("no answer on /dev/ttyUSB0")

    monkeypatch.setattr(relay, "pulse", fails)
    monkeypatch.setattr(relay, "hold", fails)


def _press(page, action: str) -> str:  # type: ignore[no-untyped-def]
    page.click(f"#lane-car-in [data-lane-action={action}]")
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", "救护车")
    page.click("#reason-ok")
    page.wait_for_selector("#toast.bad")
    return page.inner_text("#toast")


@pytest.mark.parametrize("action", ["open", "hold"])
def test_a_failed_relay_is_told_in_chinese(
    fresh_site: tuple[Site, str], browser: object, monkeypatch: pytest.MonkeyPatch, action: str  # noqa: F811
) -> None:
    site, url = fresh_site
    _broken(site, monkeypatch)
    page = page_at(browser, url, PORTRAIT)
    shown = _press(page, action)
    # The guard reads Chinese: no English sentence from the API, and words that point at the relay.
    assert not re.search(r"failed|relay|check the|did not take", shown), shown
    assert "道闸" in shown or "继电器" in shown, shown


def test_after_a_failed_opening_the_lane_history_does_not_read_as_opened(
    fresh_site: tuple[Site, str], browser: object, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The relay did not take the pulse (lane.open then lane.open_failed on record). Reloaded (the
    next shift, a dropped stream), the lane's list must not show a plain 手动操作: 开闸 as if the
    barrier opened: the failure has to be on it."""
    site, url = fresh_site
    _broken(site, monkeypatch)
    page = page_at(browser, url, PORTRAIT)
    _press(page, "open")
    page.reload()
    page.wait_for_selector("#lane-car-in [data-recent] li.manual")
    rows = page.locator("#lane-car-in [data-recent] li.manual").all_inner_texts()
    assert any("失败" in r or "未开" in r for r in rows), rows
