"""Review 58i: the monitoring centre is named in the page's language. store.audit.shown_actor's
centre was a fixed Chinese word, so a guard reading English saw "Acknowledged · 监控中心（zhang.wei）"
on the alarm list, "Done already by 监控中心（zhang.wei） at …" on tapping Acknowledge on an alarm
the centre took meanwhile, and "Held open · 监控中心（zhang.wei）" on a lane the centre holds.
docs/guard-app.md (Alarms): each alarm "named and worded in the guard's language". The Chinese
pages keep 监控中心（zhang.wei）, in real Chromium."""

from __future__ import annotations

from typing import Any

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import acknowledge_alarm, raise_alarm
from tests.ui.conftest import ADMIN, Site, script_errors
from tests.ui.test_guard_browser import (  # noqa: F401
    LANDSCAPE,
    PORTRAIT,
    browser,
    browser_site,
    in_english,
    page_at,
    pytestmark,
)

FORCED = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})
HELD = AlarmText("held_open", {"lane": "car-in", "device": "car-in-io", "seconds": 120})
CENTRE = "central:zhang.wei"  # a command's actor: its operator's name, as the centre signed it


def _raised(site: Site, kind: str, text: AlarmText) -> int:
    at = site.gw.now()

    def raise_it(conn):  # type: ignore[no-untyped-def]
        raise_alarm(conn, kind, "car-in", text, at)
        return int(conn.execute("SELECT max(id) FROM alarms").fetchone()[0])

    return int(site.gw.on_worker(raise_it).result(10))


def _centre_acknowledges(site: Site, alarm_id: int) -> None:
    at = site.gw.now()
    site.gw.on_worker(lambda c: acknowledge_alarm(c, alarm_id, at, CENTRE)).result(10)


def test_an_english_guard_reads_the_centres_acknowledgement_in_english(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, url = browser_site
    seen = _raised(site, "forced_open", FORCED)
    _centre_acknowledges(site, seen)
    taken = _raised(site, "held_open", HELD)
    chinese = page_at(browser, url, LANDSCAPE, who=ADMIN)
    chinese.goto(f"{url}/alarms?all=true")
    row_zh = chinese.locator(f"#alarm-list tr[data-alarm='{seen}']").inner_text()
    assert "监控中心（zhang.wei）" in row_zh, row_zh  # as before
    page = page_at(browser, url, LANDSCAPE)
    in_english(page)
    page.goto(f"{url}/alarms?all=true")
    row = page.locator(f"#alarm-list tr[data-alarm='{seen}']").inner_text()
    assert "Acknowledged" in row and "Monitoring centre (zhang.wei)" in row, row
    # The centre acknowledges while this page is shown; the guard taps Acknowledge too.
    page.goto(f"{url}/alarms")
    page.wait_for_load_state("load")
    _centre_acknowledges(site, taken)
    page.click(f"#alarm-list tr[data-alarm='{taken}'] button")
    page.wait_for_selector("#toast:not([hidden])")
    toast = page.inner_text("#toast")
    assert "Done already by Monitoring centre (zhang.wei) at" in toast, toast
    assert script_errors(page) == [] and script_errors(chinese) == []
    assert "监控中心" not in row and "监控中心" not in toast, (
        f"the English page names the centre in Chinese: {row!r} / {toast!r}"
    )


def test_a_lane_the_centre_holds_is_named_in_each_pages_language(
    fresh_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    """The status goes to every page alike: the English page's pill reads Held open · Monitoring
    centre (zhang.wei), the Chinese one's 常开中 · 监控中心（zhang.wei） as before."""
    site, url = fresh_site
    english = page_at(browser, url, PORTRAIT)
    in_english(english)
    chinese = page_at(browser, url, PORTRAIT, who=ADMIN)
    site.gw.by_hand.hold_lane("car-in", CENTRE, "车队")  # as the centre's set_lane_mode open does
    pill = "#lane-car-in [data-status]"
    english.wait_for_selector(f"{pill}:has-text('Held open')")  # the status is pushed every second
    chinese.wait_for_selector(f"{pill}:has-text('常开中')")
    assert english.inner_text(pill) == "Held open · Monitoring centre (zhang.wei)"
    assert chinese.inner_text(pill) == "常开中 · 监控中心（zhang.wei）"
    assert script_errors(english) == [] and script_errors(chinese) == []
