"""Review 59f: once a full disk is freed, the records that waited in memory meanwhile (a guard's
openings by hand, at most 1,000, README; the alarms and patrol taps with them) were written back to
back on the decision worker, each in its own transaction and disk flush, and the lanes had no turn
in between: the first resident to tap his card after the guard freed space waited at the door for
all of them (about 5 s on an SSD, tens of seconds on a Pi's SD card), and the worker, marked alive
only between jobs, was not alive for /api/health, and stuck for WorkerWatch past 25 s. They are
written a slice at a time (hand_opens.WRITE_SLICE_S), the decisions queued meanwhile in between,
still in order, at their own times, each once."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import partial
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime.hand_opens import MAX_UNRECORDED, LaneRecord, WaitingRecords
from tests.kept_record_helpers import KeptRecord
from tests.ui.conftest import (
    CARD,
    Site,
    fill_the_disk,
    free_the_disk,
    make_config,
    start_site,
    stored,
    wait_for,
)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data"))
    yield site
    site.gw.stop()


def test_a_card_after_the_disk_is_freed_is_decided_before_the_openings_kept_meanwhile_are_all_written(
    running: Site,
) -> None:
    site = running
    gw = site.gw
    fill_the_disk(site)
    # An evening on a full card: every resident refused storage_failed, the guard opening by hand
    # for each; their records wait in memory (as hand_lanes keeps one whose write fails).
    for i in range(MAX_UNRECORDED):
        gw.by_hand.keep(
            LaneRecord(gw.now(), "door", "open", "张师傅", f"住户 {i} 刷卡失败"), "the disk is full"
        )
    free_the_disk(site)
    wait_for(lambda: gw.by_hand.unrecorded_opens() < MAX_UNRECORDED, timeout=60)  # being written

    still_waiting: list[int] = []
    gw.subscribe(lambda ev: still_waiting.append(gw.by_hand.unrecorded_opens()))
    gw.present(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
    wait_for(lambda: bool(still_waiting), timeout=60)
    # Written one after another, a thousand took seconds: the card is decided after a slice of
    # them, most still to write; it once came after the last.
    assert still_waiting[0] > MAX_UNRECORDED // 2, (
        f"the card was decided only once {MAX_UNRECORDED - still_waiting[0]} kept records were written"
    )
    wait_for(lambda: gw.by_hand.unrecorded_opens() == 0, timeout=120)
    rows = stored(site, "SELECT detail, at FROM audit WHERE action = 'lane.open' ORDER BY id")
    assert [detail for detail, _ in rows] == [f"住户 {i} 刷卡失败" for i in range(MAX_UNRECORDED)]
    assert [at for _, at in rows] == sorted(at for _, at in rows)  # each at the time of its opening
    assert stored(site, "SELECT count(*) FROM outbox WHERE topic = 'lane_action'") == [(MAX_UNRECORDED,)]


_Record = partial(KeptRecord, flush_s=0.002)


def _now(conn: sqlite3.Connection) -> Callable[[Callable[[sqlite3.Connection], None]], Future[None]]:
    """A worker's submit that runs the task at once, as the worker does in its turn."""

    def submit(run: Callable[[sqlite3.Connection], None]) -> Future[None]:
        future: Future[None] = Future()
        run(conn)
        future.set_result(None)
        return future

    return submit


def test_records_that_waited_are_written_a_slice_at_a_time_in_order_each_once(tmp_path: Path) -> None:
    written: list[int] = []
    waiting = WaitingRecords(tmp_path)
    for n in range(200):
        waiting.keep(_Record(n, written), "the disk is full")
    conn = sqlite3.connect(":memory:")
    assert waiting.write_waiting(conn), "one slice wrote them all: 400 ms with the lanes waiting"
    assert 0 < len(written) < 200
    # An alarm raised meanwhile, in turn: behind those that waited, not before them.
    waiting.write_in_turn(_Record(200, written), _now(conn)).result()
    while waiting.write_waiting(conn):
        pass
    assert written == list(range(201))
    assert waiting.waiting() == 0


def test_the_stop_writes_every_record_that_waited(tmp_path: Path) -> None:
    written: list[int] = []
    waiting = WaitingRecords(tmp_path)
    for n in range(100):
        waiting.keep(_Record(n, written), "the disk is full")
    waiting.write_at_stop(sqlite3.connect(":memory:"))
    assert written == list(range(100))
