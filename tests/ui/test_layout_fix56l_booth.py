"""Review 56l: the guard pages in Chinese on the booth's 10" tablet (800x1280, 1280x800) and on a
7-inch one (600x1024), in a real headless Chromium: words, plates and buttons read whole, and the
fee button stays where the guard reaches for it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.alarm_texts import AlarmText
from gateway.core import Presented
from gateway.store.alarms import raise_alarm
from tests.ui.conftest import ADMIN, Site, fresh_site  # noqa: F401  (a fixture)
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    LANDSCAPE,
    browser,
    browser_site,
    open_page,
    page_at,
    pytestmark,
    shot,
)

SEVEN = {"width": 600, "height": 1024}

# The lines an element's text takes: the distinct tops of its text's line boxes.
LINES = """(el) => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set([...r.getClientRects()].filter((b) => b.width > 0).map((b) => Math.round(b.top))).size; }"""

# The chosen option's words against the room a <select> has for them (its content box less the arrow).
SELECT_FIT = """(el) => { const s = getComputedStyle(el);
  const c = document.createElement('canvas').getContext('2d');
  c.font = s.fontWeight + ' ' + s.fontSize + ' ' + s.fontFamily;
  const text = el.options[el.selectedIndex].text;
  const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
  return {text, need: Math.ceil(c.measureText(text).width), room: Math.floor(el.clientWidth - pad - 20)}; }"""


# Landscape: the form beside the current passes, 证件类型 beside 姓名 in the narrowest row; 7-inch:
# a row too narrow for both.
@pytest.mark.parametrize("size", [LANDSCAPE, SEVEN], ids=["landscape", "seven"])
def test_the_id_kind_picked_for_a_person_in_the_car_is_shown_whole(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
    size: dict[str, int],
) -> None:
    """The guard picks 回乡证（港澳居民来往内地通行证） for the driver under 车上人员: the select
    shows all sixteen characters, not 回乡证（港澳居民来往内地通 cut mid-word."""
    _, url = browser_site
    page = page_at(browser, url, size)
    open_page(page, "visitors")
    page.click("#occupant-add")
    kind = page.locator("#occupant-rows [data-occupant-row] [data-field=id_kind]").last
    kind.select_option("hk_macau_permit")
    kind.scroll_into_view_if_needed()
    shot(page, "fix56l-occupant-id-kind")
    fit = kind.evaluate(SELECT_FIT)
    assert fit["need"] <= fit["room"], (
        f"{fit['text']} needs {fit['need']} px, the select shows {fit['room']} px"
    )


def test_the_alarm_acknowledge_button_reads_on_one_line(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """A barrier forced up, on a 7-inch tablet: 确认 beside its long message is one word, not 确
    over 认 in a sliver of a cell."""
    site, url = browser_site
    text = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-barrier"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "car-in", text, site.gw.now())).result(10)
    page = page_at(browser, url, SEVEN)
    open_page(page, "alarms")
    shot(page, "fix56l-alarm-ack")
    lines = [b.evaluate(LINES) for b in page.locator("#alarm-list button[data-post]").all()]
    assert lines and max(lines) == 1, f"确认 buttons take {lines} lines"


def test_the_cars_inside_list_on_a_7_inch_tablet_keeps_headings_and_plates_whole(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """An admin's list (标记离场 too) on 600 px: it scrolls sideways in its card rather than put
    车型 a character a line or 苏 over E30001."""
    site, url = browser_site
    site.gw.present(Presented("car-in", "plate", "苏E30001", 0.99, site.gw.now() - timedelta(hours=1), "cam"))
    page = page_at(browser, url, SEVEN, who=ADMIN)
    open_page(page, "occupancy")
    page.wait_for_selector("#cars-list >> text=苏E30001")
    shot(page, "fix56l-cars-inside")
    heads = {h.inner_text(): h.evaluate(LINES) for h in page.locator("#cars-list th").all() if h.inner_text()}
    row = page.locator("#cars-list tr", has_text="苏E30001")
    plate = row.locator("td").first.evaluate(LINES)
    left = row.locator("button").first.evaluate(LINES)
    broken = {k: n for k, n in heads.items() if n > 1}
    assert (broken, plate, left) == ({}, 1, 1), (
        f"headings in lines {broken}; the plate in {plate} lines, 标记离场 in {left}"
    )
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SEVEN["width"], f"the page is {width} px wide: the list is to scroll in its card"


def test_the_plate_log_on_a_7_inch_tablet_keeps_plates_lanes_and_buttons_whole(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    site, url = browser_site
    site.gw.present(Presented("car-in", "plate", "苏E30002", 0.99, site.gw.now(), "cam"))
    page = page_at(browser, url, SEVEN)
    open_page(page, "plates")
    page.wait_for_selector("#plate-list >> text=苏E30002")
    shot(page, "fix56l-plate-log")
    row = page.locator("#plate-list tr", has_text="苏E30002").first
    cells = row.locator("td")
    plate = row.locator("td.plate-text").evaluate(LINES)
    lane = cells.nth(1).evaluate(LINES)
    fix = row.locator("button[data-correct]").evaluate(LINES)
    assert (plate, lane, fix) == (1, 1, 1), (
        f"the plate in {plate} lines, its lane in {lane}, 纠正车牌 in {fix}"
    )


def test_the_fee_button_stays_put_when_a_car_enters_at_the_lane_above(
    fresh_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """A 7-inch tablet stacks the lanes in one column. The guard reaches for car-out's 收费放行; a
    car comes in at car-in meanwhile and its row is added to car-in's list above: the button stays
    under his finger, not 36 px lower with 纠正车牌 there instead."""
    site, url = fresh_site
    site.gw.present(Presented("car-in", "plate", "苏E30003", 0.99, site.gw.now() - timedelta(hours=2), "cam"))
    page = page_at(browser, url, SEVEN)
    page.wait_for_selector("#lane-car-in [data-recent] >> text=苏E30003")
    site.gw.present(Presented("car-out", "plate", "苏E30003", 0.99, site.gw.now(), "cam"))
    pay = page.locator("#lane-car-out [data-latest] [data-pay]")
    pay.wait_for()
    pay.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # any scroll it made has been done
    before = pay.bounding_box()
    site.gw.present(Presented("car-in", "plate", "苏E39999", 0.99, site.gw.now(), "cam"))
    page.wait_for_selector("#lane-car-in [data-recent] >> text=苏E39999")
    page.wait_for_timeout(300)
    after = pay.bounding_box()
    shot(page, "fix56l-fee-button")
    assert before and after, "收费放行 is not on the page"
    assert round(after["y"]) == round(before["y"]), (
        f"收费放行 moved from y={before['y']:.0f} to y={after['y']:.0f}"
    )
