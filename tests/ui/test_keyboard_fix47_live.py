"""The live page worked with a keyboard alone (a booth PC with no mouse)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.ui.conftest import decided
from tests.ui.test_guard_browser import LANDSCAPE, browser, browser_site, page_at  # noqa: F401


def test_enter_after_picking_a_quick_reason_confirms_the_opening(browser_site, browser) -> None:  # noqa: F811
    """A guard with a keyboard opens the door, picks the quick reason 业主未带卡 with Enter and presses
    Enter again to confirm: nothing happens (focus stays on the chip, which is picked again), and the
    door stays shut. Picking a reason should put the focus back in the field, as a province key does."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    page.focus("#lane-door [data-lane-action=open]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#reason-dialog[open]")
    # From the reason field, Shift+Tab back onto the quick reasons: the last is 救护车/消防车... pick one.
    page.keyboard.press("Shift+Tab")
    picked = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    assert page.input_value("#reason-input") == picked
    page.keyboard.press("Enter")  # confirm
    expect(page.locator("#reason-dialog")).to_be_hidden(timeout=3000)


def test_an_earlier_reading_in_the_recent_list_can_be_corrected_by_keyboard(browser_site, browser) -> None:  # noqa: F811
    """On the live page a plate reading in a lane's recent list is corrected by tapping its row (an <li>
    with a click handler): with a keyboard the row can never be focused, so a misread two cars ago
    cannot be corrected there. Each correctable row should be reachable by Tab and work with Enter."""
    site, url = browser_site
    page = page_at(browser, url, LANDSCAPE)
    first = decided(site, "car-in-camera", "plate", "苏A11111")
    decided(site, "car-in-camera", "plate", "苏A22222")
    row = page.locator(f'#lane-car-in [data-recent] li[data-event="{first["event_id"]}"]')
    expect(row).to_be_visible()
    page.focus("#nav-live")
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.dataset.correct || ''"))
    assert first["event_id"] in reached, "the earlier reading's correction is never reached by Tab"
