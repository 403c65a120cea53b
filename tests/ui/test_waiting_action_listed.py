"""A lane worked by hand whose record waits for the disk, on a page that catches up (review
s43r2disk, the fourth rule): the catch-up lists it, by the same key as the stream's `action`."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, fill_the_disk, free_the_disk, stored, wait_for


def test_a_tablet_cut_off_while_the_door_was_opened_on_a_full_disk_lists_the_opening(
    client: TestClient, site: Site
) -> None:
    """03:00, the card is full. The booth's second tablet is reloaded (or its Wi-Fi drops) while the
    first guard opens the door by hand (开闸 goes ahead, its record waiting in memory). docs/guard-app.md:
    "Each time its stream opens the live page fetches them: a tablet reloaded, or cut off while a
    lane was opened by hand, lists the opening in the lane's list as the others did" - and the
    stream's `action` carries a key so that one whose record waits can be matched once written.
    The catch-up (`/api/live/recent?actions=true`, what the page fetches) did not list it at all
    until the disk had room (hours later): the second tablet's list showed no opening at 03:00,
    the first tablet's did."""
    guard = bearer(site.guard_token)
    fill_the_disk(site)
    r = client.post("/api/lanes/door/open", json={"reason": "磁盘满时开门"}, headers=guard)
    assert r.status_code == 200 and r.json()["record_waits"] is True, r.text
    shown = client.get("/api/live/recent?lane=door&actions=true", headers=guard).json()
    opened = [item for item in shown if item.get("action") == "open"]
    assert len(opened) == 1 and opened[0]["reason"] == "磁盘满时开门", (
        f"the opening is not in the list a reloaded tablet gets: {shown}"
    )
    assert opened[0]["audit_id"] is None
    # Once written, the same action by the same key, now with its audit id: listed once.
    free_the_disk(site)
    wait_for(lambda: stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)])
    again = client.get("/api/live/recent?lane=door&actions=true", headers=guard).json()
    written = [item for item in again if item.get("action") == "open"]
    assert len(written) == 1 and written[0]["key"] == opened[0]["key"], again
    assert written[0]["audit_id"] is not None
