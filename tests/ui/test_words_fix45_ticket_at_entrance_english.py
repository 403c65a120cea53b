"""输入车牌 at an entrance with a paper ticket's number typed (ticket_at_entrance), in English."""

from __future__ import annotations

from typing import Any

from tests.ui.conftest import Site
from tests.ui.test_guard_browser import LANDSCAPE, browser, in_english, page_at, pytestmark  # noqa: F401
from tests.ui.words_helpers import bad_toast, own_site  # noqa: F401


def test_the_english_page_names_the_no_plate_button_as_it_reads(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """On the English page the dialog's button reads "No plate", but a ticket typed at an entrance
    is answered "Tickets are given at the entrance by 无牌车", a word the page shows nowhere. It
    should name the button the guard sees (No plate)."""
    _, url = own_site
    page = page_at(browser, url, LANDSCAPE)
    in_english(page)
    page.click("#lane-car-in [data-type-plate]")
    page.wait_for_selector("#plate-dialog[open]")
    button = page.inner_text("#plate-none")
    assert button == "No plate"
    page.fill("#plate-input", "0303-01")
    page.click("#plate-ok")
    told = bad_toast(page)
    assert told.startswith("Failed:"), told
    assert button in told, f"the toast does not name the {button!r} button: {told}"
