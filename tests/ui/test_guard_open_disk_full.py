"""A full disk, or a database another process holds locked: decisions cannot be stored, so the gates
stay shut (reason storage_failed), and the guard can still open by hand. The barrier opens at once;
the open's audit row and upstream record wait in memory and are written, with the time of the
opening, as soon as the disk has room again (the lock is let go)."""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import gateway.runtime.hand_opens as hand_opens
from drivers.simulated import SimulatedRelay
from gateway.api.app import create_app
from gateway.core import Presented
from tests.ui.conftest import (
    CARD,
    Site,
    bearer,
    fill_the_disk,
    free_the_disk,
    make_config,
    start_site,
    stored,
    wait_for,
)


def test_guard_can_still_open_by_hand_when_the_disk_is_full(client: TestClient, site: Site) -> None:
    door = site.gw.devices.lanes["door"].relays[0]
    assert isinstance(door, SimulatedRelay)
    fill_the_disk(site)
    gw = site.gw
    ev = gw.on_worker(
        lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
    ).result(10)
    assert ev.reason == "storage_failed" and door.pulses == []  # the resident's card opens nothing
    r = client.post(
        "/api/lanes/door/open", json={"reason": "业主刷卡 系统故障"}, headers=bearer(site.guard_token)
    )
    assert r.status_code == 200, r.json()
    assert r.json()["record_waits"] is True  # the page can say the record waits for disk space
    assert len(door.pulses) == 1
    assert gw.by_hand.unrecorded_opens() == 1
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(0,)]


@pytest.mark.parametrize("card_first", [False, True], ids=["worker-idle", "worker-stuck-on-a-card"])
def test_the_guard_can_open_by_hand_while_another_process_holds_the_database(
    client: TestClient, site: Site, card_first: bool
) -> None:
    """A `gateway import` suspended with Ctrl-Z in a step holds the write lock: 开闸 still opens the
    door within seconds, and its record is written once, when the lock is let go."""
    door = site.gw.devices.lanes["door"].relays[0]
    assert isinstance(door, SimulatedRelay)
    # The worker's writes wait for the lock up to 60 s (10 s on a real box): an open answered
    # "slow" was answered while the worker still waited, after HAND_OPEN_WAIT_S, not once its
    # write failed ("locked"). Checked so, not by timing the answer; 60 s only bounds a hang.
    site.gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout = 60000")).result(10)
    other = sqlite3.connect(site.gw.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        if card_first:  # a resident's card, waiting on the lock, holds the worker
            site.gw.present(Presented("door", "card", CARD, 1.0, site.gw.now(), "door-reader"))
        r = client.post(
            "/api/lanes/door/open", json={"reason": "业主刷卡 系统故障"}, headers=bearer(site.guard_token)
        )
        assert (r.status_code, len(door.pulses)) == (200, 1), r.text
        assert (r.json()["record_waits"], r.json()["waits_for"]) == (True, "slow"), r.json()
    finally:
        other.execute("ROLLBACK")
        other.close()
    opens = "SELECT count(*) FROM audit WHERE action = 'lane.open'"
    wait_for(lambda: stored(site, opens) == [(1,)], timeout=15)
    site.gw.on_worker(lambda c: None).result(timeout=15)  # whatever the worker had queued has run
    wait_for(lambda: site.gw.by_hand.unrecorded_opens() == 0)
    assert stored(site, opens) == [(1,)]
    assert stored(site, "SELECT count(*) FROM outbox WHERE topic = 'lane_action'") == [(1,)]


def test_the_open_is_recorded_once_the_disk_has_room_again(client: TestClient, site: Site) -> None:
    fill_the_disk(site)
    before = site.gw.now()
    r = client.post("/api/lanes/door/open", json={"reason": "救护车"}, headers=bearer(site.guard_token))
    assert r.status_code == 200
    free_the_disk(site)
    wait_for(
        lambda: stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)], timeout=10
    )
    ((actor, target, detail, at),) = stored(
        site, "SELECT actor, target, detail, at FROM audit WHERE action = 'lane.open'"
    )
    assert (actor, target, detail) == ("token:guard-bot", "door", "救护车")
    ((payload,),) = stored(site, "SELECT payload FROM outbox WHERE topic = 'lane_action'")
    upstream = json.loads(payload)
    assert (upstream["action"], upstream["actor"], upstream["reason"]) == (
        "open",
        "token:guard-bot",
        "救护车",
    )
    assert before <= datetime.fromisoformat(upstream["at"]) < site.gw.now()
    assert site.gw.by_hand.unrecorded_opens() == 0


def test_holding_a_lane_open_still_needs_its_record_stored(client: TestClient, site: Site) -> None:
    """Only a single opening goes ahead unrecorded: a lane held open must be on record first."""
    barrier = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(barrier, SimulatedRelay)
    fill_the_disk(site)
    r = client.post("/api/lanes/car-in/hold", json={"reason": "消防车"}, headers=bearer(site.guard_token))
    assert r.status_code == 503 and r.json()["error"]["code"] == "storage_failed"
    assert not barrier.held


def _opened_on_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reason: str = "救护车") -> Site:
    """A site whose guard opened the door by hand on a full disk; the worker's retries (once a
    second) are put off, as if the service were stopped between two of them."""
    monkeypatch.setattr(hand_opens, "UNRECORDED_RETRY_S", 3600.0)
    site = start_site(make_config(tmp_path / "data"))
    try:
        with TestClient(create_app(site.gw)) as client:
            fill_the_disk(site)
            r = client.post("/api/lanes/door/open", json={"reason": reason}, headers=bearer(site.guard_token))
        assert r.status_code == 200 and r.json()["record_waits"] is True
        site.gw.on_worker(lambda c: None).result(timeout=60)  # the worker has tried once meanwhile
        assert site.gw.by_hand.unrecorded_opens() == 1
    except BaseException:
        site.gw.stop()
        raise
    return site


def test_a_waiting_open_is_recorded_when_the_gateway_stops_after_the_disk_has_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installer frees space and restarts the service (an upgrade, the watchdog) before the
    worker's next retry: the guard's opening is on record all the same."""
    site = _opened_on_a_full_disk(tmp_path, monkeypatch)
    free_the_disk(site)
    site.gw.stop()
    with sqlite3.connect(site.gw.db_path) as conn:
        opens = conn.execute("SELECT actor, target, detail FROM audit WHERE action = 'lane.open'").fetchall()
    assert opens == [("token:guard-bot", "door", "救护车")]


def test_an_open_still_waiting_at_a_stop_on_a_full_disk_is_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopped while the disk is still full: the record cannot be written, so the journal has it
    (lane, guard, reason and the time of the opening) at ERROR."""
    site = _opened_on_a_full_disk(tmp_path, monkeypatch)
    with caplog.at_level(logging.ERROR, logger="gateway.runtime.hand_opens"):
        site.gw.stop()
    lost = [r.getMessage() for r in caplog.records if "never recorded" in r.getMessage()]
    assert len(lost) == 1, caplog.text
    assert all(
        part in lost[0] for part in ("lane=door", "actor='token:guard-bot'", "reason='救护车'", "at=")
    ), lost


FORGED = (
    "救护车\n"
    "ERROR gateway.runtime.hand_opens: lane open by hand never recorded (the gateway stopped while "
    "storage took no writes) lane=car-in actor=token:admin-bot reason=消防车 at=2026-01-01T03:00:00+08:00"
)


def test_a_reason_with_a_line_break_writes_one_journal_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On a full disk the journal's ERROR line is the opening's only record. A reason with a line
    break in it wrote a second line, which journald keeps as an entry of its own: an opening by
    another guard at another lane that never happened. The line break is a space (not refused:
    the barrier opens as the guard asked), and the journal quotes the reason."""
    with caplog.at_level(logging.ERROR, logger="gateway.runtime.hand_opens"):
        site = _opened_on_a_full_disk(tmp_path, monkeypatch, FORGED)
        site.gw.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.runtime.hand_opens"]
    assert len(lines) == 2 and all(len(line.splitlines()) == 1 for line in lines), lines
    assert not [line for line in lines if "lane=car-in" in line.split("reason=")[0]], lines
    assert "reason='救护车 ERROR gateway" in lines[1]


def test_a_lane_record_in_the_journal_is_one_line_whoever_sent_it(caplog: pytest.LogCaptureFixture) -> None:
    """The records that wait for storage also come from the central server's commands, not only
    from the guard page: their reason and actor are quoted in the journal, a line break as \\n."""
    waiting = hand_opens.WaitingRecords(Path("/srv/data"))
    record = hand_opens.LaneRecord(datetime(2026, 1, 1), "door", "open", "remote:ops\nERROR x", FORGED)
    with caplog.at_level(logging.WARNING, logger="gateway.runtime.hand_opens"):
        waiting.keep(record, "database or disk is full")
        waiting.write_at_stop(None)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and all(len(line.splitlines()) == 1 for line in lines), lines
    assert "actor='remote:ops\\nERROR x'" in lines[1]
