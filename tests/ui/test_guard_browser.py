"""The guard pages in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Screenshots at both tablet sizes are kept in artifacts/ui/ for people to look at.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import expect

from gateway.core import Presented
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import (
    CARD,
    GUARD,
    Site,
    bearer,
    decided,
    fill_the_disk,
    make_config,
    served,
)

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
PORTRAIT = {"width": 800, "height": 1280}
LANDSCAPE = {"width": 1280, "height": 800}
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs the Debian chromium package (scripts/system-deps)"
)


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    with served(make_config(tmp_path_factory.mktemp("browser") / "data", TARIFF_TOML)) as served_site:
        yield served_site


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield b
        b.close()


def page_at(  # type: ignore[no-untyped-def]
    browser: object, url: str, size: dict[str, int], init_script: str = "", who: tuple[str, str] = GUARD
):
    context = browser.new_context(viewport=size, locale="zh-CN")  # type: ignore[attr-defined]
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(30000)  # a loaded CI machine (four test workers), not a speed check
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(f"{url}/")
    sign_in(page, who)
    page.wait_for_selector("#lanes")
    page.wait_for_load_state("load")  # the page's script wired up: a click before it does nothing
    return page


def following_the_stream(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the live page's stream is open and it has caught up (its first
    /api/live/recent has come back). A decision that could not be stored reaches the page only on
    the stream: shown before the stream opened (`load` does not wait for it, a loaded CI machine
    takes seconds), it never came, and the test waited 30 s for a row."""
    caught_up = "() => performance.getEntriesByType('resource').some((e) => e.name.includes('/live/recent'))"
    deadline = time.monotonic() + 30
    # Polled from here: the page's Content-Security-Policy forbids wait_for_function's eval.
    while not page.evaluate(caught_up):
        assert time.monotonic() < deadline, "the live page's stream did not open in 30 s"
        time.sleep(0.05)


def in_english(page) -> None:  # type: ignore[no-untyped-def]
    """Switch the signed-in guard's pages to English and wait for them to come back in it. The
    button's script is wired up at the page's load: a click before it does nothing (a loaded CI
    machine once waited 30 s for a reload that never came)."""
    page.wait_for_load_state("load")
    with page.expect_navigation():
        page.click("[data-lang=en]")
    page.wait_for_selector("#nav-live >> text=Live lanes")


def sign_in(page, who: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Fill the login form on `page` and send it."""
    page.fill("#username", who[0])
    page.fill("#password", who[1])
    page.click("#login-submit")


def open_page(page, key: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a navigation link and wait until the new page has loaded, its scripts included: a
    click on a button the page's script has not wired up yet would do nothing."""
    with page.expect_navigation(wait_until="load"):
        page.click(f"#nav-{key}")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(ARTIFACTS / f"{name}-{size['width']}x{size['height']}.png"), full_page=False)


def clipped_buttons(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The lane buttons whose words do not fit them, or that stick out of their lane."""
    return page.evaluate(
        "[...document.querySelectorAll('.actions .action')].filter((b) => b.scrollWidth > b.clientWidth"
        " || b.getBoundingClientRect().right > b.closest('.lane').getBoundingClientRect().right)"
        ".map((b) => b.textContent)"
    )


def test_a_card_on_a_simulated_reader_is_on_the_live_page(
    browser_site: tuple[Site, str], browser: object
) -> None:
    # How fast it gets there is gateway bench ui's figure (docs/guard-app.md), not a timed assert.
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    # Locator assertions, not wait_for_function: polling a string predicate is an eval, which the
    # pages' Content Security Policy refuses whenever the first check is not yet true.
    expect(page.locator("#lane-door [data-status]")).not_to_have_text("")
    site.traffic.show("door-reader", "card", CARD)
    page.wait_for_selector("#lane-door [data-latest].admitted >> text=张**")
    latest = page.inner_text("#lane-door [data-latest]")
    assert "3D4E" in latest and "3栋2单元" in latest and "业主" in latest and CARD not in latest
    # A refused card stands out: the panel turns red and the row is marked.
    site.traffic.show("door-reader", "card", "C0FFEE01")
    page.wait_for_selector("#lane-door [data-latest].refused >> text=未登记")
    assert "refused" in page.get_attribute("#lane-door [data-recent] li:first-child", "class")
    shot(page, "live")
    assert clipped_buttons(page) == []
    page.set_viewport_size(LANDSCAPE)
    assert clipped_buttons(page) == []
    shot(page, "live")
    assert page.errors == []


def test_register_a_visitor_and_see_the_plate_admitted(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-name", "李四")
    page.fill("#f-phone", "13800138000")
    page.fill("#f-id", "11010519491231002X")
    page.fill("#f-building", "3栋")
    page.fill("#f-unit", "2单元")
    page.fill("#f-reason", "探亲")
    page.fill("#f-passengers", "2")
    page.fill("#f-plate", "苏E88888")
    shot(page, "visitors")
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    assert page.inner_text("#pass-plate") == "苏E88888"
    assert page.locator("#pass-qr svg").count() == 1
    assert "138" not in page.inner_text("#pass")  # no phone on the printed pass
    shot(page, "pass")
    open_page(page, "live")
    page.wait_for_selector("#lanes")
    site.traffic.show("car-in-camera", "plate", "苏E88888")
    page.wait_for_selector("#lane-car-in [data-latest].admitted >> text=苏E88888", timeout=3000)
    assert "访客" in page.inner_text("#lane-car-in [data-latest]")
    page.set_viewport_size(PORTRAIT)
    open_page(page, "visitors")
    shot(page, "visitors")
    assert page.errors == []


def test_a_guard_finds_a_returning_visitor_and_types_the_name(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    # A unit where the site's resident lives: a visit to a unit nobody lives in is refused.
    earlier = {"name": "欧阳娜娜", "phone": "13900001111", "host_building": "3栋", "host_unit": "2单元"}
    r = httpx2.post(f"{url}/api/visitors", json=earlier, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("#f-phone", "13900001111")
    page.click("[data-find=phone]")
    expect(page.locator("#f-building")).to_have_value("3栋")
    assert page.input_value("#f-unit") == "2单元"
    # Guards see names masked: the masked name is a hint, never filled in as the visitor's name.
    assert page.input_value("#f-name") == "" and page.get_attribute("#f-name", "placeholder") == "欧***"
    page.fill("#f-name", "欧阳娜娜")
    page.click("#visitor-submit")
    page.wait_for_url(re.compile(r"/passes/\d+$"))
    assert "欧***" in page.inner_text("#pass")
    assert page.errors == []


def test_open_by_hand_with_a_reason_appears_in_the_audit(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    page.click("#lane-door [data-lane-action=open]")
    page.wait_for_selector("#reason-dialog[open]")
    shot(page, "open-dialog")
    page.click("#reason-ok")  # no reason yet: the dialog stays open
    assert page.is_visible("#reason-dialog")
    page.fill("#reason-input", "业主未带卡 3栋")
    page.click("#reason-ok")
    page.wait_for_selector("#toast >> text=已执行")
    page.wait_for_selector("#lane-door [data-recent] li.manual >> text=业主未带卡 3栋")
    open_page(page, "audit")
    row = page.locator("#audit-list tr", has_text="lane.open").first
    assert "guard1" in row.inner_text() and "业主未带卡 3栋" in row.inner_text()
    shot(page, "audit")
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT actor FROM audit WHERE action = 'lane.open'").fetchone()[0] == GUARD[0]
    assert page.errors == []


def test_the_pages_switch_to_english_and_block_a_card(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    in_english(page)
    assert clipped_buttons(page) == []  # four lane buttons in English on a narrow lane
    page.set_viewport_size(PORTRAIT)
    assert clipped_buttons(page) == []
    shot(page, "live-en")
    page.set_viewport_size(LANDSCAPE)
    open_page(page, "lookup")
    page.fill("#lookup-q", "张三")
    page.press("#lookup-q", "Enter")
    page.wait_for_selector("[data-resident]")
    shot(page, "lookup")
    page.click("[data-resident] tr:has-text('Card') button.danger")
    page.fill("#reason-input", "reported lost")
    page.click("#reason-ok")
    page.wait_for_selector("[data-resident] tr.refused:has-text('Card')")
    page.click("[data-lang=zh]")
    page.wait_for_selector("#nav-live >> text=实时通道")
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT blocked FROM credentials WHERE value = ?", (CARD,)).fetchone()[0]
    assert page.errors == []


def test_a_guard_corrects_a_misread_plate_on_the_live_page(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    site.traffic.show("car-in-camera", "plate", "渝A12345")  # the resident's 皖A12345, province misread
    page.wait_for_selector("#lane-car-in [data-latest] >> text=渝A12345")
    assert "临时车" in page.inner_text("#lane-car-in [data-latest]")  # let in as a stranger
    page.click("#lane-car-in [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.input_value("#plate-input") == "渝A12345"  # the reading, to change what is wrong
    page.locator("#plate-dialog [data-province]", has_text="皖").click()  # the province keyboard
    assert page.input_value("#plate-input") == "皖A12345"
    shot(page, "correct-plate")
    page.click("#plate-ok")
    page.wait_for_selector("#toast >> text=已纠正")
    latest = page.inner_text("#lane-car-in [data-latest]")
    assert "皖A12345" in latest and "识别为 渝A12345" in latest and "业主 张** 3栋2单元" in latest
    row = page.inner_text("#lane-car-in [data-recent] li:first-child")
    assert "皖A12345 (识别为 渝A12345)" in row
    shot(page, "corrected")
    page.reload()  # the correction is stored, not only drawn
    page.wait_for_selector("#lane-car-in [data-latest] >> text=识别为 渝A12345")
    assert "业主 张**" in page.inner_text("#lane-car-in [data-latest]")
    # Another car comes; an earlier reading is corrected from its row in the list.
    site.traffic.show("car-in-camera", "plate", "浙B7Z123")
    page.wait_for_selector("#lane-car-in [data-latest] >> text=浙B7Z123")
    page.click("#lane-car-in [data-recent] li:nth-child(2)")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.input_value("#plate-input") == "皖A12345"  # the plate as corrected so far
    page.fill("#plate-input", "皖A12845")
    page.click("#plate-ok")
    page.wait_for_selector("#lane-car-in [data-recent] li:nth-child(2) >> text=皖A12845 (识别为 渝A12345)")
    assert "浙B7Z123" in page.inner_text("#lane-car-in [data-latest]")  # the newest car stays shown
    with sqlite3.connect(site.gw.db_path) as conn:
        stored = conn.execute("SELECT plate, actor FROM plate_corrections ORDER BY id").fetchall()
    assert stored == [("皖A12345", GUARD[0]), ("皖A12845", GUARD[0])]
    assert page.errors == []


def test_a_tablet_whose_stream_dropped_gets_the_corrections_made_meanwhile(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE, init_script=KEEP_STREAMS)
    misread = decided(site, "car-in-camera", "plate", "渝A54321")
    page.wait_for_selector("#lane-car-in [data-latest] >> text=渝A54321")
    # The stream drops (the booth's Wi-Fi, a proxy's timeout): the page shows it and reconnects.
    drop = "() => { const s = window.__streams.at(-1); s.close(); s.dispatchEvent(new Event('error')); }"
    page.evaluate(drop)
    page.wait_for_selector("#reconnecting", state="visible")
    # Meanwhile a guard on another tablet corrects the plate; this page is not connected to hear it.
    fixed = httpx2.post(
        f"{url}/api/events/{misread['event_id']}/plate",
        json={"plate": "豫A54321"},
        headers=bearer(site.guard_token),
    )
    assert fixed.status_code == 200
    page.wait_for_selector("#reconnecting", state="hidden", timeout=10000)
    page.wait_for_selector("#lane-car-in [data-latest] >> text=识别为 渝A54321")
    assert "豫A54321" in page.inner_text("#lane-car-in [data-latest]")
    assert page.evaluate("window.__streams.length") == 2
    assert page.errors == []


# Keeps the page's event streams where the test can reach them (the page's own script hides them).
KEEP_STREAMS = """
window.__streams = [];
const PageEventSource = window.EventSource;
window.EventSource = class extends PageEventSource {
  constructor(...args) { super(...args); window.__streams.push(this); }
};
"""


def test_a_guard_types_a_plate_the_camera_missed_and_corrects_a_refused_exit(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    # A car whose plate the camera could not read: the guard types it at the entrance.
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.is_hidden("#plate-read-line") and page.is_hidden("#plate-decide")
    assert page.input_value("#plate-class") == "car"  # the lane's class, until the guard says otherwise
    page.locator("#plate-dialog [data-province]", has_text="苏").click()
    page.type("#plate-input", "E5B123")
    assert page.input_value("#plate-input") == "苏E5B123"
    page.select_option("#plate-class", "motorcycle")  # it is a motorcycle: counted and billed as one
    page.click("#plate-ok")
    page.wait_for_selector("#toast >> text=苏E5B123 · 放行")
    page.wait_for_selector("#lane-car-in [data-latest] >> text=苏E5B123")
    # On its way out the camera reads 渝 for 苏: no entry on record, so the barrier stays shut.
    site.gw.present(Presented("car-out", "plate", "渝E5B123", 0.99, site.gw.now(), "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=渝E5B123")
    page.click("#lane-car-out [data-latest] [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.is_visible("#plate-decide")  # refused: the corrected plate can be decided again
    assert page.is_hidden("#plate-class-line")  # a correction: the vehicle is the one the lane saw
    page.locator("#plate-dialog [data-province]", has_text="苏").click()
    shot(page, "correct-and-decide")
    page.click("#plate-decide")
    page.wait_for_selector("#lane-car-out [data-latest].admitted >> text=苏E5B123")
    with sqlite3.connect(site.gw.db_path) as conn:
        stays = conn.execute(
            "SELECT class, exited_at IS NOT NULL FROM stays WHERE plate = '苏E5B123'"
        ).fetchall()
        typed = conn.execute("SELECT detail FROM audit WHERE action = 'lane.plate' ORDER BY id").fetchall()
    assert stays == [("motorcycle", 1)]
    assert typed == [("typed 苏E5B123 (motorcycle)",), ("typed 苏E5B123",)]
    assert page.errors == []


def test_a_car_held_at_the_exit_pays_the_fee_shown_and_goes(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    now = site.gw.now()
    site.gw.present(Presented("car-in", "plate", "鲁B12345", 0.99, now - timedelta(hours=2), "cam"))
    site.gw.present(Presented("car-out", "plate", "鲁B12345", 0.99, now, "cam"))
    page.wait_for_selector("#lane-car-out [data-latest].refused >> text=鲁B12345")
    due = httpx2.get(f"{url}/api/parking/lanes/car-out/quote", headers=bearer(site.guard_token)).json()
    assert due["plate"] == "鲁B12345" and due["due_fen"] == 700  # 2 h: 5元 + 2元, the first 30 min free
    page.click("#lane-car-out [data-latest] [data-pay]")
    page.wait_for_selector("#pay-dialog[open]")
    assert page.inner_text("#pay-summary") == "鲁B12345 · 7元"
    shot(page, "pay")
    page.click("#pay-cash")
    page.wait_for_selector("#toast >> text=已收费 7元")
    page.wait_for_selector("#lane-car-out [data-latest].admitted >> text=鲁B12345")
    with sqlite3.connect(site.gw.db_path) as conn:
        paid = conn.execute("SELECT plate, amount_fen, method, actor FROM payments").fetchall()
        inside = conn.execute("SELECT count(*) FROM stays WHERE plate = '鲁B12345' AND exited_at IS NULL")
        assert inside.fetchone()[0] == 0
    assert paid == [("鲁B12345", 700, "cash", GUARD[0])]
    assert page.errors == []


def test_a_reading_nobody_noticed_is_corrected_later_on_the_plate_log(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    misread = decided(site, "car-in-camera", "plate", "琼D7A080")  # a 豫 plate let in as 琼, unnoticed
    page = page_at(browser, url, PORTRAIT)
    open_page(page, "plates")
    row = f"#plate-list tr[data-event='{misread['event_id']}']"
    page.wait_for_selector(row)
    page.click(f"{row} [data-correct]")
    page.wait_for_selector("#plate-dialog[open]")
    assert page.input_value("#plate-input") == "琼D7A080" and page.is_hidden("#plate-decide")
    page.locator("#plate-dialog [data-province]", has_text="豫").click()
    page.click("#plate-ok")
    page.wait_for_selector(f"{row} >> text=豫D7A080 (识别为 琼D7A080 · 纠正人 guard1)")
    shot(page, "plate-log")
    assert clipped_buttons(page) == []
    with sqlite3.connect(site.gw.db_path) as conn:
        stored = conn.execute(
            "SELECT plate FROM plate_corrections WHERE event_id = ?", (misread["event_id"],)
        ).fetchall()
    assert stored == [("豫D7A080",)]
    assert page.errors == []


def test_a_guard_records_materials_leaving_on_the_pass_page(
    browser_site: tuple[Site, str], browser: object
) -> None:
    site, url = browser_site
    visitor = {"name": "欧阳娜娜", "phone": "13900001111", "host_building": "3栋", "host_unit": "2单元"}
    r = httpx2.post(f"{url}/api/visitors", json=visitor, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    page = page_at(browser, url, PORTRAIT)
    page.goto(f"{url}/passes/{r.json()['id']}", wait_until="load")
    page.click("#materials-submit")  # nothing typed: the browser asks for the items first
    assert page.locator("#materials-list").count() == 0
    page.fill("#m-items", "旧电视 1 台")
    page.click("#materials-submit")
    page.wait_for_selector("#materials-list li >> text=旧电视 1 台")
    shot(page, "materials")
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT host_unit, actor FROM materials_out").fetchall() == [("2单元", GUARD[0])]
    assert page.errors == []


def test_open_by_hand_on_a_full_disk_says_its_record_waits(
    browser_site: tuple[Site, str], browser: object
) -> None:
    """开闸 on a full disk still opens; the guard is told the record waits and to free disk space."""
    site, url = browser_site
    page = page_at(browser, url, PORTRAIT)
    fill_the_disk(site)
    page.click("#lane-door [data-lane-action=open]")
    page.wait_for_selector("#reason-dialog[open]")
    page.fill("#reason-input", "业主刷卡 系统故障")
    page.click("#reason-ok")
    page.wait_for_selector("#toast.bad >> text=磁盘已满")
    assert "清理数据目录的磁盘空间" in page.inner_text("#toast")
    assert site.gw.by_hand.unrecorded_opens() == 1
