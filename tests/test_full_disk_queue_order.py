"""A full SD card and a device that flaps (a loose USB cable): the records kept in memory
(hand_opens.WaitingRecords) are the guard's openings by hand and patrol taps first. A device's
changes that wait are folded into the first fault and the last return, and alarms are capped apart
from the lane records and taps, which an alarm never pushes out (README, the full-disk paragraph).

The full disk is the suite's (tests/ui/conftest.py, fill_the_disk)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import (
    Site,
    bearer,
    fill_the_disk,
    free_the_disk,
    make_config,
    start_site,
    stored,
    wait_for,
)

S = timedelta(seconds=1)
CLEAR_AFTER = timedelta(seconds=300)  # [alarms] clear_after_s: a device back clears its fault after
RELAY_ALARMS = (
    "SELECT raised_at, cleared_at FROM alarms WHERE kind = 'device_offline' AND source = 'door-lock'"
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data"))
    yield site
    site.gw.stop()


def test_a_flapping_device_does_not_push_out_the_guards_opening_record(running: Site) -> None:
    """The SD card is full. A guard opens the door by hand (开闸, the record waits in memory, as
    README promises: written with the time of the opening once the disk has room). Over the next
    hours the door's USB relay flaps (a loose cable: offline, online, ... 600 times). The guard
    frees space: the opening by hand should be on record (audit row lane.open and its upstream
    lane_action). It is gone: the device's alarms now share the guard records' queue of 1000 and
    the oldest record, the guard's opening, is dropped to make room for the flapping alarms."""
    site = running
    gw = site.gw
    relay = next(h for h in gw.devices.health if h.device == "door-lock")
    fill_the_disk(site)
    with TestClient(create_app(gw)) as client:
        r = client.post(
            "/api/lanes/door/open", json={"reason": "业主刷卡 系统故障"}, headers=bearer(site.guard_token)
        )
    assert r.status_code == 200 and r.json()["record_waits"] is True, r.text
    for _ in range(600):  # a loose USB cable over a few hours
        relay.set_offline("USB relay unplugged")
        relay.set_online()
    gw.on_worker(lambda c: None).result(30)
    free_the_disk(site)
    wait_for(lambda: gw.by_hand.unrecorded_opens() == 0, timeout=30)
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)], (
        "the guard's opening by hand was never recorded"
    )
    lane_actions = "SELECT count(*) FROM outbox WHERE topic = 'lane_action'"
    assert stored(site, lane_actions) == [(1,)]


def _flap(site: Site, times: int, end_offline: bool) -> tuple[datetime, datetime]:
    """The door relay flaps `times` times while the disk is full, a second apart on the gateway's
    clock; the time of its first fault and of its last change."""
    gw = site.gw
    relay = next(h for h in gw.devices.health if h.device == "door-lock")
    clock = {"now": gw.now()}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    fill_the_disk(site)
    first = clock["now"] + S
    for _ in range(times):
        clock["now"] += S
        relay.set_offline("USB relay unplugged")
        clock["now"] += S
        relay.set_online()
    if end_offline:
        clock["now"] += S
        relay.set_offline("USB relay unplugged")
    gw.on_worker(lambda c: None).result(30)
    assert gw.by_hand.unrecorded_opens() <= 2, "a device's changes that wait are folded"
    free_the_disk(site)
    wait_for(lambda: gw.by_hand.unrecorded_opens() == 0, timeout=30)
    return first, clock["now"]


def test_a_relay_that_flapped_and_came_back_while_the_disk_was_full_is_one_fault_repaired(
    running: Site,
) -> None:
    """Its alarm history shows the outage the centre must see, from the first fault to the last
    return (the repair deadline and the daily report's downtime count it), not 50 alarms."""
    first, last = _flap(running, 50, end_offline=False)
    assert running.gw.operations.returns(last + CLEAR_AFTER) == ["door-lock"]  # back for good
    rows = stored(running, RELAY_ALARMS)
    assert [(datetime.fromisoformat(r), datetime.fromisoformat(c)) for r, c in rows] == [(first, last)]


def test_a_relay_that_flapped_and_stayed_out_while_the_disk_was_full_is_alarmed_from_its_first_fault(
    running: Site,
) -> None:
    """One alarm, open, dated from its first fault: the repair deadline counts from it."""
    first, _ = _flap(running, 50, end_offline=True)
    rows = stored(running, RELAY_ALARMS)
    assert [(datetime.fromisoformat(r), c) for r, c in rows] == [(first, None)]
