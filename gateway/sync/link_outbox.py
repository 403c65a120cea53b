"""The link's outbox side: rows published in the window the broker allows, their acknowledgements
written as sent (in batches) or quarantined, rows put back in line sent again in their turn, the
quota alarm, and the pruning of sent rows.

It runs on the link's thread, reading the outbox on the link's own read-only connection; its writes
go through the gateway's worker, whose answers come back to the link as events (Settled,
Unwritten). One write of sent marks at a time is handed to the worker: acknowledgements that come
meanwhile wait and go in the next, so that a lane's decision waits for one at most (a backlog's
marks queued every 256 acknowledgements held the lanes seconds on a slow SD card, review 67 F1),
and the uplink sends no further ahead than the marks (Uplink.room). Marks that could not be
written (a full disk) are tried again after _REWRITE_AFTER.
A row the broker delivered to nobody (0x10) writes nothing: it is simply still pending.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from gateway.alarm_texts import AlarmText, Param
from gateway.fault_log import FaultLog
from gateway.runtime.gateway import Gateway
from gateway.runtime.outbox_stream import HIGH_WATER_NAME, HighWater, high_water_fix, write_high_water
from gateway.runtime.worker import Unwaited
from gateway.store.alarms import clear_alarm, raise_alarm, write_alarm
from gateway.store.database import open_read_only, storage_cause, storage_fix, transaction
from gateway.store.outbox import (
    backlog,
    enqueue,
    first_pending_not_held,
    highest_seq,
    mark_sent,
    pending,
    pending_of,
    prune_sent,
    quarantine,
    streams,
)
from gateway.store.set_aside import send_again
from gateway.sync.client import Connection
from gateway.sync.errors import LinkError
from gateway.sync.nonces import forget_used_ids
from gateway.sync.topics import Topics
from gateway.sync.uplink import CUT_OFF, Done, NoSubscriber, Quarantine, Row, Uplink, stream_of
from gateway.timefmt import later

log = logging.getLogger(__name__)

_MARK_BATCH = 256  # acknowledged rows written as sent in one transaction
MARK_DELAY = 0.05  # seconds an acknowledgement may wait for others before it is written
_REWRITE_AFTER = 5.0  # seconds before marks that could not be written (a full disk) are tried again


@dataclass(frozen=True, slots=True)
class Settled:
    """Sent or quarantined marks committed for these rows."""

    seqs: list[int]
    marks: bool = False  # the write of sent marks: the next may go to the worker


@dataclass(frozen=True, slots=True)
class Unwritten:
    """Sent or quarantined marks whose write failed: `again` writes them once more."""

    again: Callable[[], None]
    marks: bool = False  # the write of sent marks: the next may go to the worker


class LinkOutbox:
    def __init__(self, gw: Gateway, topics: Topics, events: queue.Queue[Any]):
        self.gw = gw
        self.cfg = gw.site.config.mqtt
        self.uplink = Uplink(
            topics,
            self._fetch,
            self.cfg.inflight,
            self.cfg.max_message_bytes,
            self._stream_of,
            self._fetch_held,
        )
        # (first_seq, stream) of the outbox's streams, read again with each fetch; and the highest
        # seq the high-water file vouches for (gateway/runtime/outbox_stream.py).
        self._streams: list[tuple[int, str]] = []
        self._high_written = 0
        self._high_warned = False
        # Marks that could not be written (a full disk) are logged once, until they are again.
        self._marks_fault = FaultLog(log)
        self._events = events  # the link's: the worker's answers go back to its thread
        self.reader: sqlite3.Connection | None = None  # the link thread's, while it runs
        self._marks: list[Done] = []
        self._marks_since = 0.0
        self._marking = 0  # writes of sent marks handed to the worker and not yet answered
        self._rewrites: list[tuple[float, Callable[[], None]]] = []  # (when, write again)
        # What /api/health shows; plain attributes, read from other threads.
        self.sent = 0
        self.backlog: dict[str, Any] = {}
        # What to show while topics are held for want of a subscriber, and when last shown
        # (time.time()); None once none is.
        self.no_subscriber: str | None = None
        self.no_subscriber_at = 0.0
        self._warned: set[str] = set()  # held topics already logged at WARNING

    def marks_waiting(self) -> bool:
        return bool(self._marks)

    def publish_window(self, conn: Connection) -> None:
        room = self.uplink.room()
        if room <= 0:
            return
        messages, bad = self.uplink.take(room, time.monotonic())
        for q in bad:
            self.quarantine(q)
        if messages:
            self._vouch(max(m.seq for m in messages))
        for m in messages:
            try:
                mid = conn.publish(m.topic, m.body)
            except LinkError:
                self.uplink.sent(CUT_OFF, m)  # perhaps written, and what the broker closed it over
                return  # going down: Lost follows, and the row is still pending
            self.uplink.sent(mid, m)

    def acked(self, mid: int, code: int) -> str | None:
        """Settle a row's acknowledgement; returns what to show on /api/health when the broker
        delivered it to nobody."""
        shown = None
        held = self.uplink.held_topics()
        outcome = self.uplink.acked(mid, code, time.monotonic())
        if isinstance(outcome, Done):
            if not self._marks:
                self._marks_since = time.monotonic()
            self._marks.append(outcome)
        elif isinstance(outcome, Quarantine):
            self.quarantine(outcome)
        elif isinstance(outcome, NoSubscriber):
            shown = self._nobody(outcome)
        for topic in held - self.uplink.held_topics():
            self._warned.discard(topic)
            log.info("mqtt %s has a subscriber again: the records kept for it go up", topic)
        if self.no_subscriber is not None and not self.uplink.held_topics():
            self.no_subscriber = None
        return shown

    def _nobody(self, n: NoSubscriber) -> str:
        # Every topic held so, not the last answered alone: after a broker restart that lost its
        # sessions several are (the records', a directory request's), and each needs subscribing.
        held = sorted(self.uplink.held_topics() | {n.topic})
        text = (
            f"no subscriber for {', '.join(held)}: the centre is not subscribed to "
            f"{'it' if len(held) == 1 else 'them'}; check its subscriptions (the records are kept "
            "and tried again)"
        )
        self.no_subscriber, self.no_subscriber_at = text, time.time()
        # Logged once at WARNING while the topic stays held (it is tried again every minute).
        if n.topic not in self._warned:
            self._warned.add(n.topic)
            log.warning(
                "%s seq=%d fix=start the central consumer, or subscribe it to %s "
                "(docs/mqtt.md, Running the central side)",
                text,
                n.seq,
                n.topic,
            )
        else:
            log.debug("no subscriber for %s yet (seq=%d): tried again in %.0f s", n.topic, n.seq, n.retry_in)
        return text

    def write_again_later(self, again: Callable[[], None]) -> None:
        self._rewrites.append((time.monotonic() + _REWRITE_AFTER, again))

    def write_again_due(self, now: float) -> None:
        due = [again for at, again in self._rewrites if at <= now]
        if due:
            self._rewrites = [(at, again) for at, again in self._rewrites if at > now]
            for again in due:
                again()

    def look_behind(self, connected: bool) -> None:
        """Rows put back in line behind the cursor (`gateway outbox --send-again`, from any process)
        are sent in their turn, without waiting for a reconnect. Not while offline: rows in flight
        when the connection went are pending behind the cursor too, and a reconnect starts from the
        first pending row anyway."""
        if self.reader is None or not connected:
            return
        back = first_pending_not_held(self.reader, *self.uplink.behind(), self.uplink.held_spans())
        if back is not None:
            log.info("outbox records put back in line from seq=%d: sending them again", back)
            self.uplink.rewind(back)

    def _fetch(self, after: int, limit: int) -> list[tuple[int, str, str, str]]:
        assert self.reader is not None
        self._streams = streams(self.reader)
        return pending(self.reader, after, limit)

    def _fetch_held(self, types: Sequence[str], first: int, last: int, limit: int) -> list[Row]:
        assert self.reader is not None
        self._streams = streams(self.reader)
        return pending_of(self.reader, types, first, last, limit)

    def _stream_of(self, seq: int) -> str | None:
        return stream_of(self._streams, seq)

    def _vouch(self, seq: int) -> None:
        """Before a seq goes up, the high-water file names it (or a higher one): put back on an
        older copy of gateway.db, the box then knows it handed out seqs the copy has not, and starts
        a new stream above them rather than send them again. Written once for the whole backlog
        (the database's highest seq), then about once per new record: no more often than the
        records themselves are committed."""
        if seq <= self._high_written or not self._streams or self.reader is None:
            return
        high = max(seq, highest_seq(self.reader))
        try:
            write_high_water(self.gw.data_dir, HighWater(self._streams[-1][1], high))
        except OSError as exc:
            # The records go up all the same: the lanes' records matter more than the check.
            log.log(
                logging.DEBUG if self._high_warned else logging.ERROR,
                "%s cannot be written: %s; a database put back from an older copy may then send "
                "seqs the centre has (fix: %s)",
                HIGH_WATER_NAME,
                exc,
                high_water_fix(exc, self.gw.data_dir),
            )
            self._high_warned = True
        self._high_written = high

    # -- writes, through the gateway's worker ----------------------------------------------------

    def flush_marks(self, force: bool = False) -> None:
        """Hand the acknowledgements waiting to the worker as one write of sent marks, once a batch
        is full or the first has waited MARK_DELAY, and no write of marks is on the worker already.
        `force` (the connection's end) writes them whatever is on the worker."""
        if not self._marks:
            return
        if not force:
            if self._marking:
                return  # they go in the next write, once this one is answered (settled)
            if len(self._marks) < _MARK_BATCH and time.monotonic() - self._marks_since < MARK_DELAY:
                return
        done, self._marks = self._marks, []
        self._write_marks([(d.seq, d.attempts) for d in done])

    def settled(self, ev: Settled) -> None:
        """The worker wrote these marks: the next write of marks may go."""
        self.uplink.settled(ev.seqs)
        if ev.marks:
            self._marking = max(0, self._marking - 1)
            self.flush_marks()

    def unwritten(self, ev: Unwritten) -> None:
        """The worker could not write them (a full disk): written again after _REWRITE_AFTER."""
        if ev.marks:
            self._marking = max(0, self._marking - 1)
        self.write_again_later(ev.again)

    def _write_marks(self, rows: list[tuple[int, int]]) -> None:
        at = self.gw.now()

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                mark_sent(conn, rows, at)
            self.sent += len(rows)

        self._marking += 1
        seqs = [seq for seq, _ in rows]
        self._after(self.gw.on_worker(write), seqs, lambda: self._marks_again(rows), marks=True)

    def _marks_again(self, rows: list[tuple[int, int]]) -> None:
        """Marks whose write failed go in front of those waiting, into the next write (at once
        if none is on the worker: they have waited _REWRITE_AFTER)."""
        self._marks[:0] = [Done(seq, attempts) for seq, attempts in rows]
        self._marks_since = time.monotonic() - MARK_DELAY
        self.flush_marks()

    def quarantine(self, q: Quarantine) -> None:
        log.error(
            "outbox record quarantined seq=%d reason=%s fix=look at the broker's ACL and "
            "limits; the record is kept in the outbox with its reason, and once the cause is fixed "
            "`gateway outbox -c CONFIG --send-again SEQ` sends it again",
            q.seq,
            q.reason,
        )
        self._write_quarantine(q)

    def put_back(self, seqs: list[int]) -> None:
        """Rows set aside for drops that were the connection's, not theirs (a second box with the
        client id, a flapping network), back in line: sent in their turn, no --send-again needed.
        Audited as `outbox.send_again` by the gateway, after their quarantine (the worker's writes
        run in turn)."""
        at = self.gw.now()
        again = partial(send_again, seqs=seqs, at=at, actor="gateway")
        self.gw.on_worker(Unwaited("the outbox records set aside for the connection's drops put back", again))

    def _write_quarantine(self, q: Quarantine) -> None:
        at = self.gw.now()
        stream = self._stream_of(q.seq)

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                row = quarantine(conn, q.seq, q.reason, at)
                if row is not None:
                    event_id, record_type = row
                    if record_type != "outbox_quarantined":
                        # The central side learns why this seq will never arrive.
                        enqueue(
                            conn,
                            "outbox_quarantined",
                            {
                                "at": at.isoformat(),
                                "quarantined_seq": q.seq,
                                "quarantined_stream": stream,
                                "quarantined_event_id": event_id,
                                "record_type": record_type,
                                "reason": q.reason,
                            },
                            at,
                        )
                    words: dict[str, Param] = {
                        "record_type": str(record_type),
                        "seq": q.seq,
                        "reason": q.reason,
                    }
                    write_alarm(
                        conn, "outbox_quarantine", record_type, AlarmText("outbox_quarantine", words), at
                    )

        self._after(self.gw.on_worker(write), [q.seq], lambda: self._write_quarantine(q))

    def _after(
        self, future: Future[Any], seqs: list[int], again: Callable[[], None], marks: bool = False
    ) -> None:
        def done(f: Future[Any]) -> None:
            error = f.exception()
            if error is None:
                self._marks_written(len(seqs))
                self._events.put(Settled(seqs, marks))
            else:  # the rows stay settling (not sent again) until their marks are written
                self._marks_failed(len(seqs), error)
                self._events.put(Unwritten(again, marks))

        future.add_done_callback(done)

    def _marks_failed(self, rows: int, error: BaseException) -> None:
        """Logged once at ERROR, with the fix by the cause (only a full disk is told to free
        space), while marks fail (tried again every _REWRITE_AFTER for as long as the disk is
        full), again when the error changes (the database held locked, then the disk full); the
        retries at DEBUG."""
        self._marks_fault.failed(
            str(error),
            "outbox marks not written for %d row(s): %s; trying again every %g s, the rows are "
            "not sent again meanwhile (fix: %s)",
            rows,
            error,
            _REWRITE_AFTER,
            storage_fix(storage_cause(error, self.gw.data_dir), self.gw.data_dir),
        )

    def _marks_written(self, rows: int) -> None:
        self._marks_fault.ended("outbox marks written again (%d row(s)): storage takes writes", rows)

    def check_quota(self) -> dict[str, Any]:
        """Raise the outbox alarm well before the quota; clear it once the backlog has drained."""
        # Closed here, not left to the collector: a connection is in a reference cycle (Python 3.11's
        # sqlite3 statement cache), and one left open kept its page cache, 2 MB read full by the
        # backlog's sums, until a full collection, every 30 s (review 63f).
        with closing(open_read_only(self.gw.db_path, 10)) as conn:
            self.backlog = backlog(conn)
        used_mb = self.backlog["pending_bytes"] / 2**20
        quota = self.cfg.outbox_quota_mb
        at = self.gw.now()
        if used_mb >= quota * self.cfg.outbox_alarm_percent / 100:
            params = {"pending": self.backlog["pending"], "used_mb": used_mb, "quota_mb": quota}
            text = AlarmText("outbox_quota", {**params, "percent": 100 * used_mb / quota})
            raise_it = partial(raise_alarm, kind="outbox_quota", source="outbox", text=text, at=at)
            self.gw.on_worker(Unwaited("the outbox_quota alarm", raise_it))
        elif used_mb < quota * self.cfg.outbox_alarm_percent / 200:
            clear_it = partial(clear_alarm, kind="outbox_quota", source="outbox", at=at)
            self.gw.on_worker(Unwaited("the outbox_quota alarm's clearing", clear_it))
        return self.backlog

    def prune(self) -> None:
        now = self.gw.now()
        before = now - timedelta(days=self.cfg.keep_sent_days)
        expired = later(now, -timedelta(seconds=self.cfg.clock_skew_s))

        def run(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                n = prune_sent(conn, before)
                forget_used_ids(conn, expired)
            return n

        self.gw.on_worker(Unwaited("the pruning of sent outbox records", run))
