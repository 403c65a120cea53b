"""A guard's close and the centre's reopen within the status ticker's second (review s38_m): every
tablet ends up showing the lane open, as it is; it kept 通道已关闭 and hid 关闭通道."""

from __future__ import annotations

import time

import httpx2
import pytest
from playwright.sync_api import expect

from tests.conftest import TARIFF_TOML
from tests.ui.conftest import bearer, make_config, script_errors, served
from tests.ui.test_guard_browser import LANDSCAPE, browser, page_at, pytestmark  # noqa: F401


@pytest.fixture
def lane_site(tmp_path):  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as s:
        yield s


def test_centre_reopens_right_after_a_guard_closes(lane_site, browser) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Another tablet closes car-in; the centre reopens it 0.2 s later. The page must end up
    showing the lane open (关闭通道, not 通道已关闭): the lane lets cars in again."""
    site, url = lane_site
    page = page_at(browser, url, LANDSCAPE)
    expect(page.locator("#lane-car-in [data-status]")).to_have_text("设备在线")
    time.sleep(1.5)  # the ticker has sent the open status and sleeps
    r = httpx2.post(
        f"{url}/api/lanes/car-in/close", headers=bearer(site.guard_token), json={"reason": "误操作"}
    )
    assert r.status_code == 200, r.text
    site.gw.by_hand.set_lane_mode("car-in", "normal", "centre", "恢复")
    assert site.gw.by_hand.lane_modes == {}
    time.sleep(3)
    assert page.inner_text("#lane-car-in [data-status]") != "通道已关闭", (
        "the page still shows the reopened lane closed"
    )
    assert page.is_visible("#lane-car-in [data-lane-mode=close]")
    assert script_errors(page) == []
