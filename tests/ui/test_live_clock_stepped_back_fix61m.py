"""Live page after the gateway's clock is set back (a clock that ran ahead, put right by NTP: the
case docs/parking.md "A running clock stepped" covers): the lane's recent list (最近记录) keeps
taking the new decisions on top, live, on a reload and when a page catches up. Placed by their
time, each was dated before the rows of the fast clock: left out of a full list until the clock
caught up with them (an hour), or listed under them."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI

from tests.ui.conftest import CARD, LiveServer, Site, app, decided, site  # noqa: F401
from tests.ui.test_guard_browser import (  # noqa: F401
    GUARD,
    LANDSCAPE,
    browser,
    following_the_stream,
    page_at,
    pytestmark,
    sign_in,
)

ROWS = "#lane-door [data-recent] li"


@pytest.fixture
def live(site: Site, app: FastAPI) -> Iterator[tuple[Site, str]]:
    with LiveServer(app) as url:
        yield site, url


def _on_a_fast_clock(site: Site) -> list[str]:
    """A full list of swipes at the door dated an hour ahead; the clock then put right."""
    gw = site.gw
    real_now = gw.now
    gw.now = lambda: real_now() + timedelta(hours=1)  # type: ignore[method-assign]
    ids = [str(decided(site, "door-reader", "card", CARD)["event_id"]) for _ in range(8)]
    gw.now = real_now  # type: ignore[method-assign]  # NTP sets the clock an hour back
    return ids


def _listed(page: Any) -> list[str]:
    return [row.get_attribute("data-event") or "" for row in page.locator(ROWS).all()]


def test_a_decision_after_the_clock_is_set_back_goes_on_top_live(
    live: tuple[Site, str], browser: Any
) -> None:
    site, url = live
    page = page_at(browser, url, LANDSCAPE)
    following_the_stream(page)
    fast = _on_a_fast_clock(site)
    page.wait_for_selector(f'{ROWS}[data-event="{fast[-1]}"]')
    new = str(decided(site, "door-reader", "card", CARD)["event_id"])
    page.wait_for_selector(f'#lane-door [data-latest][data-event="{new}"]')
    page.wait_for_selector(f'{ROWS}[data-event="{new}"]', timeout=10000)
    assert _listed(page) == [new, *reversed(fast[1:])]


def test_reloaded_the_newest_decision_is_on_top(live: tuple[Site, str], browser: Any) -> None:
    site, url = live
    fast = _on_a_fast_clock(site)
    new = str(decided(site, "door-reader", "card", CARD)["event_id"])
    page = page_at(browser, url, LANDSCAPE)
    following_the_stream(page)
    page.wait_for_selector(f'#lane-door [data-latest][data-event="{new}"]')
    assert _listed(page) == [new, *reversed(fast[1:])]


def test_a_decision_the_catch_up_brings_goes_on_top(live: tuple[Site, str], browser: Any) -> None:
    site, url = live
    fast = _on_a_fast_clock(site)
    # The page's stream held back as it loads: a decision taken meanwhile comes to it only in the
    # catch-up that follows the stream's opening (/api/live/recent), after the fast clock's rows.
    held: list[Any] = []
    context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
    context.route("**/api/live/stream", lambda route: held.append(route))
    page = context.new_page()
    page.set_default_timeout(30000)
    page.goto(f"{url}/")
    sign_in(page, GUARD)
    page.wait_for_selector(f'{ROWS}[data-event="{fast[-1]}"]')
    new = str(decided(site, "door-reader", "card", CARD)["event_id"])
    deadline = time.monotonic() + 30
    while not held:
        assert time.monotonic() < deadline, "the page never opened its stream"
        page.wait_for_timeout(100)
    held[0].continue_()
    following_the_stream(page)
    page.wait_for_selector(f'{ROWS}[data-event="{new}"]', timeout=10000)
    assert _listed(page) == [new, *reversed(fast[1:])]
