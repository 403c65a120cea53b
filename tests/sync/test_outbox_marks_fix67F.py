"""A day's backlog uploads after an outage on a card whose commits are slow (review 67 F1).

The broker acknowledged records faster than the SD card marked them sent: a write of marks was
queued on the decision worker every 256 acknowledgements, whether or not the last had finished,
and the lanes' decisions waited behind dozens of them (1-3 s on a 60 ms commit). Now one write of
marks at a time is on the worker, the acknowledgements meanwhile go into the next, and the upload
goes no faster than the card marks it: a card presented meanwhile waits for one write at most.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.config import SiteConfig
from gateway.core import Presented
from gateway.runtime.worker import _Task
from gateway.store.outbox import enqueue
from gateway.sync import link_outbox
from gateway.sync.topics import Topics
from gateway.sync.uplink import UNMARKED_FREE, Done, Uplink

BACKLOG = 3000
SLOW_COMMIT_S = 0.06  # a batch of marks commits this much slower, as on an SD card


def _marks_queued(gw: Any) -> int:
    """Writes of sent marks waiting on the decision worker."""
    jobs = gw.worker._jobs
    with jobs.mutex:
        waiting = list(jobs.queue)
    return sum(
        1 for j in waiting if isinstance(j, _Task) and "_write_marks" in getattr(j.run, "__qualname__", "")
    )


def test_a_backlog_on_a_slow_card_keeps_one_write_of_marks_before_the_lanes(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = link_outbox.mark_sent

    def slow(conn: sqlite3.Connection, rows: Any, at: Any) -> None:
        plain(conn, rows, at)
        time.sleep(SLOW_COMMIT_S)

    monkeypatch.setattr(link_outbox, "mark_sent", slow)
    sub = Subscriber(broker, [f"estate/{SITE}/events/#"])
    seen: list[int] = []  # mark writes queued on the worker, sampled through the upload
    ahead: list[int] = []  # ... as each card was presented
    stop = threading.Event()
    with running(sync_cfg(broker.port)) as (gw, service):

        def sample() -> None:
            while not stop.is_set():
                seen.append(_marks_queued(gw))
                time.sleep(0.002)

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            for i in range(BACKLOG):
                enqueue(conn, "test", {"n": i}, gw.now())
            conn.execute("COMMIT")

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        gw.on_worker(write).result(timeout=30)  # the day's records, at once, as after an outage
        while not stop.is_set():
            ahead.append(_marks_queued(gw))
            card = Presented("door", "card", f"C{len(ahead):04d}", 1.0, gw.now(), "door-reader")
            gw.on_worker(lambda c, card=card: gw.handle(card)).result(timeout=30)
            sent = len(sub.payloads("/test"))
            if sent >= BACKLOG or len(ahead) > 2000:
                stop.set()
            time.sleep(0.01)
        sampler.join()
        wait_for("every row marked sent", lambda: service.link.outbox.sent >= BACKLOG, 30)
    sub.close()
    assert len({p["event_id"] for p in sub.payloads("/test")}) == BACKLOG, "a record was lost"
    assert max(seen) <= 1, f"{max(seen)} writes of marks queued on the decision worker at once"
    # Each write is 60 ms slower here: a card behind one waits that long, behind the 5 to 13 seen
    # before, seconds. Timed waits on a shared CI box say little; the queue says it.
    assert max(ahead) <= 1, f"a card queued behind {max(ahead)} writes of marks"


def test_rows_acknowledged_and_not_yet_marked_count_against_the_window() -> None:
    """Beyond two writes of marks (UNMARKED_FREE), each row acknowledged whose sent mark is not
    yet committed takes a place in the window, so the upload waits for the card."""
    n = UNMARKED_FREE + 40
    rows = [(seq, f"e{seq}", "access", '{"v": 1, "type": "access"}') for seq in range(1, n + 1)]
    up = Uplink(
        Topics("estate", "site-1"), lambda after, limit: [r for r in rows if r[0] > after][:limit], 20, 10_000
    )
    up.start_session(20, None)
    mid = 0
    while up.room() > 0:
        messages, _ = up.take(up.room())
        if not messages:
            break
        for m in messages:
            mid += 1
            up.sent(mid, m)
            assert isinstance(up.acked(mid, 0), Done)  # acknowledged; its mark not yet written
    assert len(up.settling) == UNMARKED_FREE + 20 and up.room() == 0
    up.settled(sorted(up.settling)[:30])  # a write of marks committed
    assert up.room() == 20
