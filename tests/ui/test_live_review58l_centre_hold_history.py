"""Review 58l: a lane the centre holds is named 常开中 · 监控中心（zhang.wei） on its pill (Held open ·
Monitoring centre (zhang.wei) in English: Review 58i2), but the lane's own history row for that
hold (the live page's list under the lane, loaded from the audit row by
/api/live/recent?actions=true) read 常开 · central:zhang.wei, the raw actor, in Chinese and English.
The row now names the centre as the pill does (tests/ui/test_alarms_review58i_centre_in_english.py),
in the page's words, in real Chromium."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import ADMIN, Site
from tests.ui.test_guard_browser import (  # noqa: F401
    PORTRAIT,
    browser,
    in_english,
    page_at,
    pytestmark,
)

CENTRE = "central:zhang.wei"  # a command's actor: its operator's name, as the centre signed it
ROW = "#lane-car-in li.manual"


def test_the_lane_history_names_the_centre_as_the_pill_does(
    fresh_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    site, url = fresh_site
    site.gw.by_hand.hold_lane("car-in", CENTRE, "车队")  # as the centre's set_lane_mode open does
    chinese = page_at(browser, url, PORTRAIT, who=ADMIN)
    english = page_at(browser, url, PORTRAIT)
    in_english(english)
    chinese.wait_for_selector(ROW)
    english.wait_for_selector(ROW)
    zh, en = chinese.inner_text(ROW), english.inner_text(ROW)
    assert "central:" not in zh and "监控中心（zhang.wei）" in zh, zh
    assert "central:" not in en and "Monitoring centre (zhang.wei)" in en, en
