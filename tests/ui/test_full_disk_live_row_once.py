"""The live page's row of a lane opened by hand while the disk was full (review s43disk).

docs/guard-app.md (live page) and api/lanes.py: a lane action the page had already shown comes
again when it catches up (after a drop of the stream), and the page shows each action once. One
whose record waited for the disk had no audit id when it was pushed: it is known by its key (the
lane, the action and the record's own time), the same live and once written."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.ui.conftest import (
    Site,
    bearer,
    fill_the_disk,
    free_the_disk,
    make_config,
    served,
    stored,
    wait_for,
)
from tests.ui.test_guard_browser import (  # noqa: F401
    KEEP_STREAMS,
    LANDSCAPE,
    browser,
    page_at,
)
from tests.ui.test_guard_browser import (
    pytestmark as needs_chromium,
)
from tests.ui.test_live_lane_actions import _stream


@pytest.fixture
def disk_site(tmp_path) -> Iterator[tuple[Site, str]]:  # type: ignore[no-untyped-def]
    with served(make_config(tmp_path / "data")) as served_site:
        yield served_site


@needs_chromium
def test_an_opening_made_on_a_full_disk_is_listed_once_after_the_stream_drops(
    disk_site: tuple[Site, str],
    browser: Any,  # noqa: F811
) -> None:
    """02:00 the card is full; the guard opens the door by hand (开闸, its record waits in memory)
    and the door's list shows 手动操作 with his reason. At 08:00 space is freed and the record is
    written. Later the booth's Wi-Fi drops and the page reconnects: the door's list still shows
    that one opening once. It showed it twice (the live row had no audit id, the catch-up brought
    the same opening with its id), as if the door had been opened twice."""
    site, url = disk_site
    page = page_at(browser, url, LANDSCAPE, init_script=KEEP_STREAMS)
    page.wait_for_selector("#lane-door [data-status]")
    page.wait_for_timeout(1000)  # the stream is open
    fill_the_disk(site)
    r = httpx2.post(
        f"{url}/api/lanes/door/open", json={"reason": "磁盘满时开门"}, headers=bearer(site.guard_token)
    )
    assert r.status_code == 200 and r.json()["record_waits"] is True, r.text
    rows = page.locator("#lane-door [data-recent] li.manual").filter(has_text="磁盘满时开门")
    rows.first.wait_for()
    assert rows.count() == 1
    free_the_disk(site)
    wait_for(lambda: stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)], 10)
    drop = "() => { const s = window.__streams.at(-1); s.close(); s.dispatchEvent(new Event('error')); }"
    page.evaluate(drop)
    page.wait_for_selector("#reconnecting", state="visible")
    page.wait_for_selector("#reconnecting", state="hidden", timeout=10000)
    page.wait_for_timeout(2000)  # the replay and the catch-up have come
    assert rows.count() == 1, f"the one opening is listed {rows.count()} times"


def test_the_live_message_and_the_row_written_later_carry_one_key(disk_site: tuple[Site, str]) -> None:
    """The stream's `action` for an opening whose record waits has no audit id, and a key; once the
    record is written, the catch-up (`/api/live/recent?actions=true`) lists it with its audit id
    and that same key."""
    site, url = disk_site
    live: list[tuple[str, Any]] = []
    connected = threading.Event()
    listening = threading.Thread(
        target=lambda: live.extend(_stream(url, site, {}, "action", connected)), daemon=True
    )
    listening.start()
    assert connected.wait(5)
    fill_the_disk(site)
    r = httpx2.post(
        f"{url}/api/lanes/door/open", json={"reason": "磁盘满时开门"}, headers=bearer(site.guard_token)
    )
    assert r.status_code == 200 and r.json()["waits_for"] == "full", r.text
    listening.join(10)
    pushed = live[-1][1]
    assert pushed["audit_id"] is None and pushed["key"].startswith("door open "), pushed
    free_the_disk(site)
    wait_for(lambda: stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)], 10)
    shown = httpx2.get(
        f"{url}/api/live/recent?lane=door&actions=true", headers=bearer(site.guard_token)
    ).json()
    [opened] = [item for item in shown if "action" in item]
    assert opened["audit_id"] and opened["key"] == pushed["key"], (opened, pushed)
