"""One guard account logged in on two booth tablets (api/lanes.py knows such a shared account), in a
real Chromium (review 57m, on 57a). Tablet A acknowledges a 强行开门 alarm and gets its answer; the
guard at tablet B, whose alarms page was drawn before, taps 确认 for the first time and was told
您已于 … 办好（只是当时没有收到网关的回应）: that he did it and lost its answer, though he sent nothing
before. The gateway knows only that the same account did it; the page alone knows whether its own
tap went unanswered. He is told this account did it, and when (docs/guard-app.md, *API and tokens*)."""

from __future__ import annotations

from typing import Any

import httpx2

from tests.ui.conftest import GUARD, Site, script_errors, stored
from tests.ui.test_already_done_fix57a_lost_answer import _forced_open
from tests.ui.test_guard_browser import LANDSCAPE, browser, open_page, page_at, pytestmark  # noqa: F401


def test_a_first_tap_on_a_second_tablet_is_not_told_his_answer_was_lost(
    fresh_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    site, url = fresh_site
    _forced_open(site)
    tablet_b = page_at(browser, url, LANDSCAPE)  # guard1, on the second tablet
    open_page(tablet_b, "alarms")
    sent: list[str] = []
    tablet_b.on("request", lambda r: sent.append(r.url) if "/acknowledge" in r.url else None)

    with httpx2.Client(base_url=url) as tablet_a:  # the same login, in a session of its own
        r = tablet_a.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
        assert r.status_code == 200, r.text
        ack = tablet_a.post("/api/alarms/1/acknowledge", json={}, headers={"X-CSRF-Token": r.json()["csrf"]})
        assert ack.status_code == 200, ack.text

    with tablet_b.expect_navigation(wait_until="load"):
        tablet_b.locator("#alarm-list tr button").first.click()
    tablet_b.wait_for_selector("#toast:not([hidden])")
    shown = str(tablet_b.inner_text("#toast"))
    assert len(sent) == 1  # tablet B's one and only tap
    assert stored(site, "SELECT acknowledged_by FROM alarms") == [("guard1",)]
    assert "没有收到网关的回应" not in shown and "您已于" not in shown, (
        f"a first tap told its answer was lost: {shown}"
    )
    assert "已由本账号" in shown and "无需再操作" in shown, shown
    assert "另一台平板" not in shown, shown
    assert script_errors(tablet_b) == []
    tablet_b.context.close()
