"""The centre's `open_lane` on a full SD card (review s43disk).

README (the store): "the guard can still open by hand: a single opening (开闸, `open_lane`) waits at
most 2 s for its audit row and upstream record, then goes ahead without them; they wait in memory".
docs/mqtt.md: the `open_lane` command does "as a guard's open by hand". REQUIREMENTS 7: the
monitoring centre is staffed 24 hours and handles every abnormal event.

The full disk is the suite's (tests/ui/conftest.py, fill_the_disk: SQLITE_FULL on each insert into
the audit and outbox tables); the sync inbox is a file of its own, which that leaves writable."""

from __future__ import annotations

import json
import time

from sync_helpers import wait_for
from test_sync_commands import command, pulses, site  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site

from tests.ui.conftest import fill_the_disk, free_the_disk


def _pulsed(running: Site, count: int, within_s: float = 30.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and len(pulses(running)) < count:
        time.sleep(0.05)
    return len(pulses(running)) >= count


def test_the_centres_open_lane_on_a_full_disk_opens_the_barrier(site: Site) -> None:  # noqa: F811
    """03:00, the SD card is full: a resident's card is refused storage_failed and the monitoring
    centre presses 开闸 for the car-in lane. A guard's 开闸 on the tablet opens the barrier at once
    (its record waits in memory); the centre's open_lane should do the same. It did nothing: the
    command's acceptance row could not be written, the command was left in the inbox "tried again at
    the next start" (by then expired), the barrier never pulsed and the centre got no answer."""
    fill_the_disk(site)  # type: ignore[arg-type]  # needs only .gw
    body = command("open_lane", {"lane": "car-in", "reason": "业主刷卡 系统故障"})
    site.central.publish("cmd", json.dumps(body).encode())
    assert _pulsed(site, 1), "the centre's open_lane on a full disk never opened the barrier"


def test_on_a_full_disk_a_replay_is_refused_and_the_reply_goes_up_once_there_is_room(
    site: Site,  # noqa: F811
) -> None:
    """The command's id is kept in memory while its acceptance waits for the disk: the same signed
    command published again (captured on the broker) does not open the barrier a second time. Once
    space is freed, the acceptance, the opening and the answer are on record in that order, and the
    centre gets its reply."""
    fill_the_disk(site)  # type: ignore[arg-type]
    body = command("open_lane", {"lane": "car-in", "reason": "业主刷卡 系统故障"})
    site.central.publish("cmd", json.dumps(body).encode())
    assert _pulsed(site, 1)
    site.central.publish("cmd", json.dumps(body).encode())  # replayed while its records wait
    assert not _pulsed(site, 2, within_s=3.0), "a replayed command opened the barrier again"
    assert site.rows("SELECT count(*) FROM audit WHERE action LIKE 'command%'") == [(0,)]
    free_the_disk(site)  # type: ignore[arg-type]
    reply = wait_for(
        "the reply to the command",
        lambda: next((r for r in site.upstream("/cmd/reply") if r.get("id") == body["id"]), None),
    )
    assert reply["ok"] is True and reply["result"] == {"lane": "car-in"}
    actions = site.rows(
        "SELECT action FROM audit WHERE action IN ('command_accepted', 'lane.open', 'command_done') "
        "ORDER BY id"
    )
    assert actions == [("command_accepted",), ("lane.open",), ("command_done",)], actions
    assert site.rows(f"SELECT count(*) FROM command_nonces WHERE id = '{body['id']}'") == [(1,)]
    assert len(pulses(site)) == 1
