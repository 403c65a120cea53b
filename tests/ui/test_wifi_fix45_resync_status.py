"""The live page on a slow Wi-Fi link falls behind its stream: the gateway drops what it had queued
for it and sends `resync`. What the page shows about each lane afterwards."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from gateway.api.hub import QUEUE_SIZE, sse
from tests.ui.conftest import LiveServer, Site
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    LANDSCAPE,
    browser,
    following_the_stream,
    page_at,
    pytestmark,
)


@pytest.fixture
def live(site: Site, app: FastAPI) -> Iterator[tuple[Site, FastAPI, str]]:
    with LiveServer(app) as url:
        yield site, app, url


def test_a_lane_closed_while_the_page_fell_behind_is_shown_closed_after_the_resync(
    live: tuple[Site, FastAPI, str],
    browser: Any,  # noqa: F811
) -> None:
    """A tablet on a weak Wi-Fi link falls 256 messages behind just after the exit was closed (by
    the centre or another tablet): the gateway drops its queue, status included, and sends
    `resync`. The page reloads the recent events but keeps saying 设备在线 with 关闭通道 offered
    for a lane that refuses everyone; it should say 通道已关闭 as the other tablets do."""
    site, app, url = live
    page = page_at(browser, url, LANDSCAPE)
    page.wait_for_selector("#lane-car-out [data-status] >> text=设备在线")
    following_the_stream(page)  # the stream is open and the page has caught up (was a fixed 1.5 s)
    hub = app.state.guard.hub
    deadline = time.monotonic() + 30
    while hub.clients != 1:
        assert hub.clients == 0 and time.monotonic() < deadline, f"{hub.clients} streams open, not 1"
        time.sleep(0.05)

    async def closed_while_behind() -> None:
        # One turn of the event loop: the lane is closed and its status queued for the page, which
        # then falls a queue's length behind (a busy site, a slow link): the hub drops the queue.
        site.gw.by_hand.set_closed("car-out", True, "central", "封闭管理")
        status = hub.status_now()
        hub._last_status = status  # as publish_status keeps it
        hub._fan_out(sse("status", status))
        for _ in range(QUEUE_SIZE):
            hub._fan_out(sse("ping", {}))

    asyncio.run_coroutine_threadsafe(closed_while_behind(), hub._loop).result(10)
    assert hub.resyncs == 1
    # The page caught up: the closing is in the lane's list (from its audit row)...
    page.wait_for_selector("#lane-car-out [data-recent] li.manual >> text=封闭管理")
    # ...and its status, polled: on a loaded box the page may take a while to show it.
    deadline = time.monotonic() + 20
    while (status := page.inner_text("#lane-car-out [data-status]")) != "通道已关闭":
        assert time.monotonic() < deadline, f"after the resync the closed exit still reads {status!r}"
        time.sleep(0.1)
    time.sleep(3)  # the hub's once-a-second status check has run since, several times
    status = page.inner_text("#lane-car-out [data-status]")
    assert status == "通道已关闭", f"after the resync the closed exit reads {status!r} again"
