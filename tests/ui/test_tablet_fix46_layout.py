"""Seven layout faults of the guard pages on the booth's 10" tablet (docs/guard-app.md: 800x1280
portrait, 1280x800 landscape; buttons and fields at least 48 px high), in a real headless Chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from gateway.core import Presented
from gateway.store.audit import audit, transaction
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import ADMIN, CARD, Site, make_config, served, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    LANDSCAPE,
    PORTRAIT,
    browser,
    browser_site,
    in_english,
    open_page,
    page_at,
    pytestmark,
)

HEIGHTS = "(els) => els.map((e) => [e.textContent.trim(), Math.round(e.getBoundingClientRect().height)])"

# An estate with two gates: the north one of the test site, and a south one like it.
SOUTH_GATE = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "s-in"
gate = "south"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "s-out"
gate = "south"
direction = "exit"
type = "vehicle"
zone = "main"

[[lanes]]
id = "s-door"
gate = "south"
direction = "entrance"
type = "pedestrian"
"""

# A car entrance as docs/hardware.md and config/example-estate.toml equip one: camera, barrier,
# LED display and voice.
LANE_DISPLAYS = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"

[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


@pytest.fixture
def two_gates(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML + SOUTH_GATE)) as served_site:
        yield served_site


@pytest.fixture
def equipped_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data", TARIFF_TOML + LANE_DISPLAYS)) as served_site:
        yield served_site


@pytest.fixture
def plate_log_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    """More than a page of plate readings (50) and of audit rows (300)."""
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as (site, url):
        start = site.gw.now() - timedelta(hours=3)
        for i in range(55):
            at = start + timedelta(seconds=i)
            site.gw.present(Presented("car-in", "plate", f"苏E{10000 + i}", 0.99, at, "cam"))

        def changes(conn):  # type: ignore[no-untyped-def]
            with transaction(conn):
                for i in range(310):
                    audit(conn, start + timedelta(seconds=i), "guard1", "gate.open", "car-in", "test")

        site.gw.on_worker(changes).result(10)
        stored(site, "SELECT 1")
        yield site, url


COVERED = """(sel) => {
  const el = document.querySelector(sel);
  const r = el.getBoundingClientRect();
  const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {top: Math.round(r.top), bottom: Math.round(r.bottom),
          bar: Math.round(document.querySelector('header.top').getBoundingClientRect().bottom),
          seen: !!at && (at === el || el.contains(at)),
          by: at ? at.tagName + ' ' + at.textContent.trim().slice(0, 20) : null};
}"""


@pytest.mark.parametrize(
    ("size", "language"),
    [(LANDSCAPE, "zh"), (PORTRAIT, "en")],  # the bar one row high; three (English nav in portrait)
    ids=["landscape", "portrait-english"],
)
def test_the_empty_name_the_browser_points_to_is_not_under_the_top_bar(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
    size: dict[str, int],
    language: str,
) -> None:
    """On a 10" tablet the guard registers a van (the people in it under 车上人员), scrolls down the
    visitor form and taps 登记 with the name left empty: the page scrolls back to 姓名 and says
    请填写此字段; the field is to show below the sticky top bar, whatever its height, not under it
    with the bubble pointing at the menu."""
    _, url = browser_site
    page = page_at(browser, url, size)
    if language == "en":
        in_english(page)
    try:
        name_under_the_bar(page)
    finally:
        if language == "en":  # the guard's language is his account's: back for the tests after
            page.click("[data-lang=zh]")
            page.wait_for_selector("#nav-live >> text=实时通道")


def name_under_the_bar(page) -> None:  # type: ignore[no-untyped-def]
    open_page(page, "visitors")
    page.fill("#f-phone", "13800138000")
    for _ in range(4):  # a form longer than the screen in portrait too
        page.click("#occupant-add")
    expect(page.locator("#occupant-rows [data-occupant-row]")).to_have_count(4)
    page.locator("#visitor-submit").scroll_into_view_if_needed()
    page.click("#visitor-submit")
    # The browser's own check sends the guard to the first field left empty: it has the focus.
    expect(page.locator("#f-name")).to_be_focused()
    page.wait_for_timeout(300)  # any scroll the focus makes has been done
    where = page.evaluate(COVERED, "#f-name")
    assert where["seen"] and where["top"] >= where["bar"], (
        f"the name field the browser points to is under the top bar: field {where['top']}-"
        f"{where['bottom']} px, bar ends at {where['bar']} px, its centre shows {where['by']!r}"
    )


WHERE_HELD = """() => ({
  y: Math.round(scrollY),
  plate: Math.round(document.querySelector('#lane-s-out [data-latest] .plate').getBoundingClientRect().top),
  bar: Math.round(document.querySelector('header.top').getBoundingClientRect().bottom),
})"""


def test_the_car_held_at_the_south_exit_stays_put_while_cars_enter_at_the_north_gate(
    two_gates: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """Portrait, two gates: the guard has scrolled down to the south exit, where a car waits to
    pay, the foot of the north entrance's list above it. A car entering at the north gate puts a
    row at the top of that list; the browser's scroll anchoring is not to move the held car's
    plate and 收费放行 from under his finger."""
    site, url = two_gates
    gw = site.gw
    now = gw.now()
    for i in range(9):  # every list already full, as on a tablet reloaded during the day
        at = now - timedelta(minutes=50 - i)
        gw.present(Presented("car-in", "plate", f"苏E{20000 + i}", 0.99, at, "cam"))
        gw.present(Presented("car-out", "plate", f"苏E{20000 + i}", 0.99, at + timedelta(minutes=5), "cam"))
        gw.present(Presented("door", "card", CARD, 1.0, at, "door-reader"))
    gw.present(Presented("s-in", "plate", "粤BD12345", 0.99, now - timedelta(hours=3), "cam"))
    gw.present(Presented("s-out", "plate", "粤BD12345", 0.99, now, "cam"))
    stored(site, "SELECT 1")
    page = page_at(browser, url, PORTRAIT)
    page.wait_for_selector("#lane-s-out [data-latest].refused [data-pay]")
    page.wait_for_selector("#lane-car-in [data-recent] li:nth-child(8)")
    # Scrolled down to the south exit: the last rows of the north entrance's list still show.
    page.evaluate(
        "() => { const list = document.querySelector('#lane-car-in [data-recent]').getBoundingClientRect();"
        " const bar = document.querySelector('header.top').getBoundingClientRect().bottom;"
        " window.scrollBy(0, list.bottom - bar - 60); }"
    )
    page.wait_for_timeout(300)
    before = page.evaluate(WHERE_HELD)
    assert before["plate"] > before["bar"], before  # the guard sees the plate
    for i in range(4):
        plate = f"苏E{30000 + i}"
        gw.present(Presented("car-in", "plate", plate, 0.99, gw.now(), "cam"))
        page.wait_for_selector(f"#lane-car-in [data-latest] >> text={plate}")
        page.wait_for_selector(f"#lane-car-in [data-recent] li:first-child >> text={plate}")
        page.wait_for_timeout(300)  # the frame after it is drawn, when the browser moves the page
    after = page.evaluate(WHERE_HELD)
    assert abs(after["plate"] - before["plate"]) < 5, (
        f"4 cars entering at the north gate scrolled the page by {after['y'] - before['y']} px: the "
        f"south exit's plate went from y={before['plate']} to y={after['plate']} (top bar ends at "
        f"{after['bar']})"
    )


WHERE_STATUS = """() => {
  const pill = document.querySelector('#lane-car-in [data-status]');
  const p = pill.getBoundingClientRect();
  const lane = document.querySelector('#lane-car-in').getBoundingClientRect();
  const x = Math.min(p.right, innerWidth) - 6, y = p.top + p.height / 2;
  const at = document.elementFromPoint(x, y);
  return {pill: Math.round(p.right), lane: Math.round(lane.right), x: Math.round(x),
          seen: !!at && (at === pill || pill.contains(at)),
          by: at ? at.tagName + '.' + at.className : null, text: pill.textContent};
}"""


def test_every_offline_device_of_a_lane_can_be_read(
    equipped_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """The car entrance loses power: its four devices go offline. The lane's status says 设备离线
    with their names; they are to stay inside the lane, not run on one line under the exit lane's
    panel."""
    site, url = equipped_site
    for health in site.gw.devices.health:
        if health.device.startswith("car-in"):
            health.set_offline("no answer")
    page = page_at(browser, url, PORTRAIT)
    status = page.locator("#lane-car-in [data-status]")
    expect(status).to_contain_text("car-in-voice")
    where = page.evaluate(WHERE_STATUS)
    assert where["seen"] and where["pill"] <= where["lane"], (
        f"the lane's status {where['text']!r} runs to x={where['pill']}, past its lane (ends at "
        f"x={where['lane']}); at x={where['x']} the screen shows {where['by']}"
    )


ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_an_occupants_id_number_is_shown_whole(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
    size: dict[str, int],
) -> None:
    """Landscape (the form beside the current passes) or portrait: the guard adds the driver under
    车上人员 and types the 18-character ID number off the card; the field is to show all of it, so
    he can check it against the card."""
    _, url = browser_site
    page = page_at(browser, url, size)
    open_page(page, "visitors")
    page.click("#occupant-add")
    row = page.locator("#occupant-rows [data-occupant-row]").first
    row.locator("[data-field=name]").fill("欧阳娜娜")
    row.locator("[data-field=id_number]").fill(ID_NUMBER)
    row.locator("[data-field=phone]").click()  # on to the next field, as the guard does
    field = row.locator("[data-field=id_number]")
    width = field.evaluate("(i) => ({text: i.scrollWidth, box: i.clientWidth})")
    assert width["text"] <= width["box"], (
        f"the ID number {ID_NUMBER} needs {width['text']} px, its field shows {width['box']} px of it"
    )


def test_the_older_buttons_of_the_plate_log_and_the_audit_are_48_px_high(
    plate_log_site: tuple[Site, str],
    browser: object,  # noqa: F811
) -> None:
    """More than a page of rows: 更早 on the plate log (and the audit page's older link) is an
    `a.button`; it is to be a 48 px button like every other, not a line of text high."""
    _, url = plate_log_site
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "plates")
    older = page.wait_for_selector("#plates-older")
    height = older.evaluate("(a) => a.getBoundingClientRect().height")
    assert height >= 48, f"the 更早 button is {height:.0f} px high, under the promised 48 px"
    admin = page_at(browser, url, PORTRAIT, who=ADMIN)
    admin.goto(f"{url}/audit")
    older = admin.wait_for_selector("#audit-older")
    height = older.evaluate("(a) => a.getBoundingClientRect().height")
    assert height >= 48, f"the audit page's older link is {height:.0f} px high, under the promised 48 px"


def test_the_reason_dialogs_quick_reasons_are_48_px_high(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The guard opens the barrier by hand (开闸) and taps a quick reason (业主未带卡...): the
    quick-reason chips and the plate dialog's 无牌车 are to be 48 px high, as docs/guard-app.md
    promises every button."""
    _, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    page.click("#lane-door [data-lane-action=open]")
    page.wait_for_selector("#reason-dialog[open]")
    quick = page.eval_on_selector_all("#reason-dialog [data-quick]", HEIGHTS)
    page.click("#reason-cancel")
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    none = page.eval_on_selector_all("#plate-none", HEIGHTS)
    small = [(words, h) for words, h in quick + none if h < 48]
    assert quick and none and not small, f"buttons under the promised 48 px: {small}"


def test_the_language_switch_and_logout_are_48_px_high(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: object,  # noqa: F811
) -> None:
    """The top bar's English switch and 退出 (and an admin's 删除, `button.link`) are to get the
    same 48 px target as every other button."""
    _, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    heights = page.eval_on_selector_all("header.top button", HEIGHTS)
    small = [(words, h) for words, h in heights if h < 48]
    assert heights and not small, f"top-bar buttons under the promised 48 px: {small}"
