"""Lanes by hand: their record, and the records that wait for storage.

A guard opens a lane once by hand even when the disk takes no writes, or another process holds the
database locked, or the decision worker does not get to the record within HAND_OPEN_WAIT_S
(residents must not be locked out): the record of that opening waits here, in memory, and the
decision worker writes it, with the time of the opening, as soon as storage takes writes again, or
at the latest when the gateway stops.
So does the record of a relay that failed to open, hold or release by hand (`<action>_failed`): the
relay has already been driven, so its failure is kept rather than lost with the request; and the car
an opening of a vehicle exit let out, on record once a relay took the opening (hand_lanes._LetOut).
The other records that say what happened, and that the disk filling must not lose, wait here too
and in turn (write_in_turn, kept_records.py): a device's alarm, a barrier's alarm, a guard's patrol
tap. A record that still cannot be written at the stop is only in the journal (logged at ERROR).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gateway.runtime.worker import StillRunning, wait_or_call_off
from gateway.store.audit import audit, transaction
from gateway.store.outbox import enqueue

log = logging.getLogger(__name__)

# Lane records that wait for storage (a full disk): at most this many, tried this often.
MAX_UNRECORDED = 1000
UNRECORDED_RETRY_S = 1.0
# How long a guard's single opening waits for its record to be written before the barrier opens
# all the same: the worker takes a record in milliseconds, unless it waits on the database (10 s
# busy timeout, for each decision queued before it), and a guard at the gate should not.
HAND_OPEN_WAIT_S = 2.0
# SQLite's primary result codes of a disk that takes no writes (full, failing, read-only, gone),
# and of a database another process holds locked past the busy timeout (an import suspended in a step).
_STORAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_BUSY,
    }
)

# A waiting record that fails for a reason other than storage's fails for good.
_NOT_STORAGE_FIX = "report this line: a fault of the gateway, not of the disk"

Submit = Callable[[Callable[[sqlite3.Connection], str]], Future[str]]
SubmitNone = Callable[[Callable[[sqlite3.Connection], None]], Future[None]]


class Kept(Protocol):
    """A record that waits for storage (WaitingRecords): a lane's (LaneRecord), the car an opening
    let out (hand_lanes._LetOut), an alarm or a patrol tap (kept_records.py). Written on the
    decision worker, at `at` (when what it says happened); the log lines that say it waits, was
    written, or was lost, name it by `what` and `details()` (one line: values quoted with %r)."""

    @property
    def at(self) -> datetime: ...
    @property
    def what(self) -> str: ...
    def details(self) -> str: ...
    def write(self, conn: sqlite3.Connection) -> object: ...


@dataclass(frozen=True, slots=True)
class LaneRecord:
    """A lane by hand: the audit row and the upstream `lane_action` record, written together. A
    relay's failure (`<action>_failed`) keeps the guard's reason in the audit row, as its attempt
    does: the lane's list on the guard pages shows it (gateway/api/lanes.py); the relay's error, in
    the installer's English with its device, goes upstream (`error`) and to the journal."""

    at: datetime
    lane: str
    action: str
    actor: str
    reason: str
    error: str = ""

    @property
    def what(self) -> str:
        return f"lane {self.action} by hand"

    def details(self) -> str:
        return lane_details(self.lane, self.actor, self.reason)

    def write(
        self, conn: sqlite3.Connection, with_it: Callable[[sqlite3.Connection], None] | None = None
    ) -> int:
        """The audit row and the upstream record, and `with_it` (a lane's mode), in one transaction."""
        record = {
            "at": self.at.isoformat(),
            "lane": self.lane,
            "action": self.action,
            "actor": self.actor,
            "reason": self.reason,
        }
        if self.error:
            record["error"] = self.error
        with transaction(conn):
            audit_id = audit(conn, self.at, self.actor, f"lane.{self.action}", self.lane, self.reason)
            enqueue(conn, "lane_action", record, self.at)
            if with_it is not None:
                with_it(conn)
        return audit_id


def lane_details(lane: str, actor: str, reason: str) -> str:
    """A lane record in the journal: the guard and the reason quoted, so that a line break in
    either cannot start a journal line of its own (a forged opening)."""
    return f"lane={lane} actor={actor!r} reason={reason!r}"


class _Handover:
    """A record on its way to the worker while the lane waits to move: if the worker's write fails
    after the lane went ahead without it, the record is kept, whatever the error (the opening
    happened); before, an error that is no storage failure refuses the opening."""

    def __init__(self, record: Kept, waiting: WaitingRecords, gone_ahead: bool = False):
        self._record = record
        self._waiting = waiting
        self._lock = threading.Lock()
        self._gone_ahead = gone_ahead
        self._refused = False

    @property
    def unrecorded(self) -> str:
        return f"unrecorded:{self._record.at.isoformat()}"

    def write(self, conn: sqlite3.Connection) -> str:
        try:
            return f"audit:{self._record.write(conn)}"
        except sqlite3.Error as exc:
            with self._lock:
                self._refused = not (self._gone_ahead or storage_failure(exc))
            if self._refused:
                raise
            self._waiting.keep(self._record, exc)
            return self.unrecorded

    def go_ahead(self, future: Future[str]) -> str:
        """The wait is over and the write under way: the lane moves now, unless the write has just
        refused it (then its error is raised here too)."""
        with self._lock:
            self._gone_ahead = not self._refused
        if self._gone_ahead and not future.done():
            return self.unrecorded
        return future.result()


def storage_failure(exc: sqlite3.Error) -> bool:
    """The disk takes no writes (or another process holds the database locked), as opposed to a
    fault of the request or the schema."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _STORAGE_CODES


def _write(record: Kept, conn: sqlite3.Connection) -> None:
    """The record on the worker's connection, never left in a transaction: a COMMIT the disk refused
    may leave it open, and every later write (the decisions too) would then fail to begin."""
    try:
        record.write(conn)
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class WaitingRecords:
    """The records kept in memory, oldest first: lane records by hand (single opens, relay
    failures), and alarms and patrol taps (write_in_turn). Kept by any thread (the HTTP server's,
    the MQTT link's, a device's); written by the decision worker, which owns the connection
    (write_waiting)."""

    def __init__(self, data_dir: Path, monotonic: Callable[[], float] = time.monotonic):
        self._data_dir = data_dir  # named in the log line that says what to free
        self._monotonic = monotonic
        self._records: deque[Kept] = deque()
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def waiting(self) -> int:
        """Records whose rows (and upstream records) still wait for storage."""
        return len(self._records)

    def write_or_keep(self, record: Kept, submit: Submit, wait_s: float = HAND_OPEN_WAIT_S) -> str:
        """Write the record on the decision worker (`submit`), or keep it when the disk takes no
        writes or the worker has not written it within `wait_s`; returns the reference a relay
        pulse carries: `audit:<id>`, or `unrecorded:<time of the record>`. Either way it is written
        once: a task not started by then is cancelled, and one under way keeps it if it fails."""
        handover = _Handover(record, self)
        future = submit(handover.write)
        try:
            return wait_or_call_off(future, wait_s)
        except StillRunning:
            return handover.go_ahead(future)
        except FutureTimeout:  # called off
            self.keep(record, f"the decision worker did not get to it in {wait_s:.0f} s")
            return handover.unrecorded

    def write_later(self, record: Kept, submit: Submit) -> None:
        """Write the record on the decision worker when it gets to it, without waiting for it (what
        it records has happened: kept, whatever the error, if it cannot be written then)."""
        submit(_Handover(record, self, gone_ahead=True).write)

    def write_in_turn(self, record: Kept, submit: SubmitNone) -> None:
        """Write the record on the decision worker when it gets to it, after those that wait, or
        keep it behind them while storage takes no writes: written before a raise that waits, an
        alarm's clearing would leave the alarm open for good. A failure that is not storage's (a
        fault of the record) is the worker's to log, and not kept: it would fail again, and hold
        up those behind it."""
        submit(lambda conn: self._in_turn(record, conn))

    def _in_turn(self, record: Kept, conn: sqlite3.Connection) -> None:
        self.write_waiting(conn)
        if self._records:
            self.keep(record, "those before it still wait")
            return
        try:
            _write(record, conn)
        except sqlite3.Error as exc:
            if not storage_failure(exc):
                raise
            self.keep(record, exc)

    def keep(self, record: Kept, why: object) -> None:
        with self._lock:
            lost = self._records.popleft() if len(self._records) >= MAX_UNRECORDED else None
            self._records.append(record)
        if lost is not None:
            log.error(
                "%s lost (too many records waiting) %s at=%s", lost.what, lost.details(), lost.at.isoformat()
            )
        log.error(
            "%s not recorded %s error=%s: the record waits in memory until storage takes writes "
            "again fix=free disk space in %s or check its permissions; if the database is locked, "
            "end what holds it (a `gateway import` stopped with Ctrl-Z: fg)",
            record.what,
            record.details(),
            why,
            self._data_dir,
        )

    def write_waiting(self, conn: sqlite3.Connection) -> None:
        """On the worker: the records that waited, written in order once storage takes writes again
        (tried at most every UNRECORDED_RETRY_S while it does not). One that fails for another
        reason is dropped, its journal line its only record: it would fail again, for good, and
        hold up every record behind it."""
        if not self._records or self._monotonic() < self._retry_at:
            return
        while True:
            with self._lock:
                if not self._records:
                    return
                record = self._records[0]
            try:
                _write(record, conn)
            except sqlite3.Error as exc:
                if storage_failure(exc):
                    self._retry_at = self._monotonic() + UNRECORDED_RETRY_S
                    log.debug("records still waiting for storage: %s", exc)
                    return
                self._take(record)
                self._never(record, f"it cannot be written: {exc}", _NOT_STORAGE_FIX)
                continue
            self._take(record)
            log.warning(
                "%s recorded now that storage is back %s at=%s",
                record.what,
                record.details(),
                record.at.isoformat(),
            )

    def _take(self, record: Kept) -> None:
        with self._lock:
            if self._records and self._records[0] is record:
                self._records.popleft()

    def write_at_stop(self, conn: sqlite3.Connection | None) -> None:
        """The gateway stops: the records that waited are written now, whatever the retry time (the
        disk may have room since the last try), on `conn` (the worker's; None: no worker can write).
        Those still waiting are lost with the process: the journal keeps them, at ERROR."""
        if conn is not None:
            self._retry_at = 0.0
            self.write_waiting(conn)
        with self._lock:
            lost, self._records = self._records, deque()
        for record in lost:
            self._never(
                record,
                "the gateway stopped while storage took no writes",
                f"free disk space in {self._data_dir} before the gateway is stopped",
            )

    def _never(self, record: Kept, why: str, fix: str) -> None:
        log.error(
            "%s never recorded (%s) %s at=%s: this line is its only record fix=%s",
            record.what,
            why,
            record.details(),
            record.at.isoformat(),
            fix,
        )
