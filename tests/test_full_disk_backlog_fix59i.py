"""Review 59i: once a full disk was freed, 895d461 (review 59f) wrote the records kept meanwhile a
slice at a time (hand_opens.WRITE_SLICE_S, 50 ms), meant to take the jobs queued meanwhile before
the next slice; but the decision worker wrote a slice after every job, and a record written in turn
(a device's or barrier's alarm, a patrol tap) one more inside its own task. A resident's card queued
behind 20 quick tasks waited 1 s at the door, behind the 20 alarms of devices back after a power
blip 2 s: as long as a guard's 开闸 waits (HAND_OPEN_WAIT_S) before it goes ahead as slow, its record
kept at the backlog's end with an ERROR line on a healthy disk. The jobs queued by the end of a
slice now go before the next one, and a record in turn is queued behind the backlog, not written
with a slice of it. Counted in slices, not seconds: the card must come before the next slice."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime.hand_opens import WaitingRecords
from gateway.runtime.worker import DecisionWorker, Job
from tests.kept_record_helpers import KeptRecord

BACKLOG = 300


_Record = KeptRecord


class _Slices(WaitingRecords):
    """WaitingRecords that counts the slices written (write_waiting, wherever it is called)."""

    def __init__(self, data_dir: Path):
        super().__init__(data_dir)
        self.slices = 0

    def write_waiting(self, conn: sqlite3.Connection, now: bool = False) -> bool:
        self.slices += 1
        return super().write_waiting(conn, now)


@dataclass
class _Site:
    worker: DecisionWorker
    waiting: _Slices
    written: list[int]
    go: threading.Event
    card_after: list[tuple[int, int]]  # slices written, and records waiting, when the card was decided

    def card(self) -> None:
        self.worker.put(
            Job(Presented("door", "card", "0012345678", 1.0, datetime.now()), time.perf_counter())
        )

    def decided(self) -> int:
        """Slices written after the one the worker was in when the jobs were queued, before the card."""
        queued = self.waiting.slices
        self.go.set()
        deadline = time.monotonic() + 10
        while not self.card_after and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.card_after, "the card was never decided"
        slices, still_waiting = self.card_after[0]
        assert slices > queued or still_waiting > 0, "the backlog was over before the card: proves nothing"
        return slices - queued


@pytest.fixture
def site(tmp_path: Path) -> Iterator[_Site]:
    """A worker writing a full disk's backlog once freed, held inside its first slice."""
    written: list[int] = []
    go = threading.Event()
    waiting = _Slices(tmp_path)
    for n in range(BACKLOG):
        waiting.keep(_Record(n, written, go if n == 0 else None), "the disk is full")
    card_after: list[tuple[int, int]] = []
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    worker = DecisionWorker(
        conn, lambda batch: card_after.append((waiting.slices, waiting.waiting())), waiting
    )
    worker.start()
    deadline = time.monotonic() + 10
    while waiting.slices == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    yield _Site(worker, waiting, written, go, card_after)
    go.set()
    worker.stop()


def test_a_card_behind_quick_tasks_is_decided_before_the_next_slice(site: _Site) -> None:
    for _ in range(20):  # quick writes queued meanwhile (a guard page's, the link's marks)
        site.worker.submit(lambda conn: None)
    site.card()
    assert site.decided() == 0, "the card waited a slice (50 ms) for each task queued before it"


def test_a_card_behind_records_written_in_turn_is_decided_before_the_next_slice(site: _Site) -> None:
    alarms = [_Record(5000 + n, site.written) for n in range(20)]  # 20 devices back after a blip
    futures = [site.waiting.write_in_turn(alarm, site.worker.submit) for alarm in alarms]
    site.card()
    assert site.decided() == 0, "the card waited two slices for each alarm written in turn before it"
    for future in futures:
        future.result(timeout=10)
    site.worker.stop()
    # Still in order, each once: the alarms behind the records that waited before them.
    assert site.written == list(range(BACKLOG)) + [alarm.n for alarm in alarms]


def test_jobs_queued_after_a_slice_wait_for_the_next_one(site: _Site) -> None:
    """A worker never idle (a task that queues the next, as a long sync does) still writes the
    backlog: only the jobs queued by the end of a slice go before the next."""
    seen: list[int] = []

    def chain(left: int) -> Callable[[sqlite3.Connection], None]:
        def run(conn: sqlite3.Connection) -> None:
            seen.append(site.waiting.slices)
            if left:
                site.worker.submit(chain(left - 1))

        return run

    site.worker.submit(chain(10))
    site.go.set()
    deadline = time.monotonic() + 60  # a bound on a hang (a loaded machine's worker is late)
    while len(seen) < 11 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert seen[-1] - seen[0] >= 5, f"slices written while the chain ran: {seen}"
