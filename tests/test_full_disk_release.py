"""A lane held open on a full SD card is let down (恢复, release): the safe direction goes ahead
without its record, as a single opening does, its record (and the hold's end on record) waiting in
memory until the disk has room (review s43disk, the fourth rule).

It was answered 503 (the release needed its record stored first): a lane held again at start on a
full disk (a power cut during a convoy) stayed up all night, whoever pressed 恢复. The full disk is
the suite's (tests/ui/conftest.py: SQLITE_FULL on each insert into the audit and outbox tables)."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory

from drivers.simulated import SimulatedRelay
from gateway.api.app import create_app
from gateway.runtime import hand_opens
from gateway.runtime.hand_opens import LaneRecord
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    mock_pins,
    no_leaked_threads,
    start_gateway,
    wait_for,
)
from tests.test_full_disk_start_held_lane import GPIO_IO, held_by_a_guard, holds
from tests.test_full_disk_start_held_lane import fill_the_disk as fill_before_start
from tests.test_full_disk_start_held_lane import free_the_disk as free_after_start
from tests.ui.conftest import (
    CARD,
    Site,
    bearer,
    decided,
    fill_the_disk,
    free_the_disk,
    make_config,
    start_site,
    stored,
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data"))
    yield site
    site.gw.stop()


def test_a_guard_lets_a_held_lane_down_on_a_full_disk(running: Site) -> None:
    """The lane is held open for a convoy; the card fills; the convoy has passed and the guard
    presses 恢复: the barrier comes down at once, the page shows the lane no longer held, and the
    answer says the record waits (the disk is full). Once space is freed the release is on record,
    and the hold is off record: a restart would not raise the barrier again."""
    site = running
    relay = site.gw.devices.lanes["car-in"].relays[0]
    assert isinstance(relay, SimulatedRelay)
    guard = bearer(site.guard_token)
    with TestClient(create_app(site.gw)) as client:
        assert (
            client.post("/api/lanes/car-in/hold", json={"reason": "车队"}, headers=guard).status_code == 200
        )
        assert relay.held
        fill_the_disk(site)
        r = client.post("/api/lanes/car-in/release", json={"reason": "车队已过"}, headers=guard)
        assert r.status_code == 200, r.text
        assert (r.json()["record_waits"], r.json()["waits_for"]) == (True, "full")
        assert not relay.held and "car-in" not in site.gw.by_hand.held
        assert stored(site, "SELECT count(*) FROM lane_modes WHERE lane = 'car-in'") == [(1,)]
    free_the_disk(site)
    wait_for(
        lambda: stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.release'") == [(1,)],
        "the release on record",
    )
    assert stored(site, "SELECT count(*) FROM lane_modes WHERE lane = 'car-in'") == [(0,)]


def test_a_lane_held_again_at_start_on_a_full_disk_can_be_let_down(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
) -> None:
    """A power cut during a convoy while the card was full: the box starts, holds the barrier up
    again (its record waiting), and at 23:00 the guard releases it. The barrier comes down then,
    not after someone frees space; once space is freed the release is on record after the hold
    again, and the next start holds nothing."""
    held_by_a_guard(tmp_path, mock_pins)
    again = start_gateway(tmp_path, GPIO_IO)
    fill_before_start(again)
    mock_pins.pin(6).drive_low()  # the arm is still up
    try:
        again.start()
        assert mock_pins.pin(17).state is True and again.by_hand.held == {"car-in": "保安 王"}
        again.by_hand.release_lane("car-in", "保安 王", "车队已过")  # was: 503, held all night
        assert mock_pins.pin(17).state is False and again.by_hand.held == {}
        free_after_start(again)
        wait_for(lambda: len(holds(again)) == 2, "the hold again on record")
        wait_for(
            lambda: (
                again.on_worker(
                    lambda c: c.execute("SELECT count(*) FROM audit WHERE action = 'lane.release'").fetchone()
                ).result(10)
                == (1,)
            ),
            "the release on record",
        )
        assert again.on_worker(lambda c: c.execute("SELECT * FROM lane_modes").fetchall()).result(10) == []
    finally:
        again.stop()


def test_a_release_lost_at_a_stop_on_a_full_disk_says_the_lane_is_held_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Stopped while the disk is still full, the release's record is lost with the process: the hold
    is still on record, and the next start raises the barrier again. The journal's line, its only
    record, says so and what to do."""
    monkeypatch.setattr(hand_opens, "UNRECORDED_RETRY_S", 3600.0)
    site = start_site(make_config(tmp_path / "data"))
    try:
        site.gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        fill_the_disk(site)
        site.gw.by_hand.release_lane("car-in", "保安 王", "车队已过")
    finally:
        with caplog.at_level(logging.ERROR, logger="gateway.runtime.hand_opens"):
            site.gw.stop()
    lost = [r.getMessage() for r in caplog.records if "never recorded" in r.getMessage()]
    assert len(lost) == 1 and "lane release by hand" in lost[0], caplog.text
    assert "held again at the next start" in lost[0], lost[0]


@dataclass(frozen=True, slots=True)
class _Faulty:
    """A waiting record whose write raises what no storage does (a bug in a record's own code)."""

    at: datetime
    what: str = "faulty record"

    def details(self) -> str:
        return "lane=door"

    def write(self, conn: sqlite3.Connection) -> None:
        raise KeyError("kind")


def test_a_waiting_record_that_raises_a_bug_is_logged_and_the_lanes_go_on(
    running: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """A record waiting for storage whose write raised anything but sqlite3.Error ended the decision
    worker (it was tried outside any guard): every lane then stopped deciding. It is dropped, its
    journal line (ERROR, naming what it was) its only record, and the records behind it are
    written; the next card is decided."""
    site = running
    at = site.gw.now()
    with caplog.at_level(logging.ERROR, logger="gateway.runtime.hand_opens"):
        site.gw.by_hand.keep(_Faulty(at), "those before it still wait")
        site.gw.by_hand.keep(
            LaneRecord(at, "door", "open", "保安 王", "救护车"), "those before it still wait"
        )
        wait_for(lambda: site.gw.by_hand.unrecorded_opens() == 0, "the records that waited tried")
    lost = [r.getMessage() for r in caplog.records if "never recorded" in r.getMessage()]
    assert len(lost) == 1 and "faulty record" in lost[0] and "KeyError('kind')" in lost[0], caplog.text
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(1,)]
    assert decided(site, "door-reader", "card", CARD)["admitted"]  # the worker still decides
