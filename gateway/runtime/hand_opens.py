"""Lanes by hand: their record, and the records that wait for storage.

A guard opens a lane once by hand even when the disk takes no writes, or another process holds the
database locked, or the decision worker does not get to the record within HAND_OPEN_WAIT_S
(residents must not be locked out): the record of that opening waits here, in memory, and the
decision worker writes it, with the time of the opening, as soon as storage takes writes again, or
at the latest when the gateway stops.
So does the record of a relay that failed to open, hold or release by hand (`<action>_failed`): the
relay has already been driven, so its failure is kept rather than lost with the request; and the car
an opening of a vehicle exit let out, on record once a relay took the opening
(hand_lane_records.LetOutByHand), in turn behind that opening's record while it waits (write_in_turn).
The other records that say what happened, and that the disk filling must not lose, wait here too
and in turn (write_in_turn, kept_records.py): a device's alarm, a barrier's alarm, a guard's patrol
tap; and a login or logout (kept_sessions.py). A record that still cannot be written at the stop
is only in the journal (logged at ERROR), with what is left to put right by hand, if anything
(OwnFix: the stay of a car let out, left open).
Once storage takes writes again they are written a slice at a time (WRITE_SLICE_S), the lanes'
decisions in between: each is a transaction and a disk flush of its own, and a card at a door once
waited for a thousand of them (review 59f).
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
from typing import Literal, Protocol, TypeGuard, runtime_checkable

from gateway.runtime.storage_state import StorageState
from gateway.runtime.worker import StillRunning, wait_or_call_off
from gateway.store.audit import audit, transaction
from gateway.store.database import StorageCause, storage_cause, storage_fix
from gateway.store.outbox import enqueue

log = logging.getLogger(__name__)

# Lane records and patrol taps that wait for storage (a full disk): at most this many, tried this
# often. Alarms wait within a bound of their own (MAX_ALARMS_WAITING): a relay on a loose cable,
# offline and online all night, must never push a guard's opening or tap out of memory.
MAX_UNRECORDED = 1000
UNRECORDED_RETRY_S = 1.0
# Once storage takes writes again, the records that waited are written for about this long at a
# time (one at least), and the decisions queued meanwhile go next: a thousand, each with its own
# disk flush, took 5 s on an SSD (tens on a Pi's SD card), a card at the door waiting for them all,
# the worker marked not alive (/api/health) and, past 25 s, stuck (WorkerWatch).
WRITE_SLICE_S = 0.05
# Alarms that wait: each alarm's changes are folded (WaitingRecords._fold), at most three per alarm
# (a device or a lane), so this bound is only reached by a site with hundreds of them all changing.
MAX_ALARMS_WAITING = 1000
# Logins and logouts that wait (kept_sessions.py), within a bound of their own: a shift's logins and
# logouts on a card that failed for days neither push a guard's opening out of memory, nor they a
# login's record (its session, kept in memory, then lived on nowhere else: Review 67 H3).
MAX_LOGINS_WAITING = 1000
# How long a guard's single opening waits for its record to be written before the barrier opens
# all the same: the worker takes a record in milliseconds, unless it waits on the database (10 s
# busy timeout, for each decision queued before it), and a guard at the gate should not.
HAND_OPEN_WAIT_S = 2.0
# SQLite's primary result codes of a disk that takes no writes (full, failing, read-only, gone),
# of a database another process holds locked past the busy timeout (an import suspended in a step),
# and of a database damaged on a failing card: decisions then fail storage_failed, and the guard's
# opening by hand must go ahead all the same.
_STORAGE_CODES = frozenset(
    {
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_NOTADB,
    }
)

# A stop that took the records still waiting while the worker wrote them (cut short): how long it
# waits for the one under way, which holds its place and is not said lost if it gets through.
HELD_AT_STOP_S = 2.0
_CUT_SHORT = "the gateway stopped before the decision worker got to it: storage took writes again"
_CUT_SHORT_FIX = (
    "once disk space is freed, let the records that waited be written (the journal's lines "
    "'recorded now that storage is back' stop) before the gateway is stopped"
)
# A waiting record that fails for a reason other than storage's fails for good.
_NOT_STORAGE_FIX = "report this line: a fault of the gateway, not of the disk"

# Why a record waits, as the guard is told it (gateway/api/lanes.py, the page's toast): a full disk
# (SQLITE_FULL); a disk that takes no writes otherwise (read-only, failing, gone; a database damaged
# on it too, the journal's line saying to restore it); the database held by another process past
# the busy timeout (SQLITE_BUSY); or slow: not written within the wait, its cause not known yet
# (another process's lock, most often, or a worker behind). Told "the disk is full" whatever the
# cause, a guard had files deleted while an import suspended with Ctrl-Z held the database.
WaitsFor = Literal["full", "unwritable", "locked", "slow"]

Submit = Callable[[Callable[[sqlite3.Connection], str]], Future[str]]
SubmitNone = Callable[[Callable[[sqlite3.Connection], None]], Future[None]]


class Kept(Protocol):
    """A record that waits for storage (WaitingRecords): a lane's (LaneRecord), the car an opening
    let out (hand_lane_records.LetOutByHand), an alarm or a patrol tap (kept_records.py). Written on the
    decision worker, at `at` (when what it says happened); the log lines that say it waits, was
    written, or was lost, name it by `what` and `details()` (one line: values quoted with %r)."""

    @property
    def at(self) -> datetime: ...
    @property
    def what(self) -> str: ...
    def details(self) -> str: ...
    def write(self, conn: sqlite3.Connection) -> object: ...


@dataclass(frozen=True, slots=True)
class Switch:
    """What a kept alarm record does: raise (`raised`) or clear the alarm `kind` of `source`."""

    kind: str
    source: str
    raised: bool


@runtime_checkable
class KeptAlarm(Protocol):
    """A kept record that raises or clears alarms (kept_records.py): it waits apart from the lane
    records and patrol taps (MAX_ALARMS_WAITING), and folds with the changes of its alarm that
    wait (`switch`; None: folds with none, the start's settling of every device)."""

    @property
    def switch(self) -> Switch | None: ...


@runtime_checkable
class KeptLogin(Protocol):
    """A login's or logout's record (kept_sessions.LoggedIn, LoggedOut): it waits apart from the
    others (MAX_LOGINS_WAITING), and is told when it is lost at that bound (`lost`): a login's
    session, kept in memory, ends with its record."""

    def lost(self) -> None: ...


@runtime_checkable
class FoldsIn(Protocol):
    """A kept raise that takes in what a later raise of its alarm folded into it carried (the clips
    a lane's cameras cut for it, event_clips.ClippedAlarm): the later forcing's clip is tied to
    the one alarm that stands for both."""

    def fold_in(self, later: Kept) -> Kept: ...


@runtime_checkable
class OwnFix(Protocol):
    """A kept record whose loss leaves something to put right by hand
    (hand_lane_records.LetOutByHand: the stay of the car let out, left open): its journal line,
    then its only record, says what."""

    def if_never(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Recorded:
    """A record written or kept (WaitingRecords.write_or_keep): `ref`, what a relay pulse carries
    (`audit:<id>`, or `unrecorded:<time of the record>` while it waits); `at`, the record's own
    time (with its lane and action, what the live pages know it by, live and once written); and
    why it waits (None: written)."""

    ref: str
    at: datetime
    waits: WaitsFor | None = None

    @property
    def audit_id(self) -> int | None:
        """The audit row's id (None while the record waits)."""
        return int(self.ref.removeprefix("audit:")) if self.ref.startswith("audit:") else None


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

    def __init__(self, record: Kept, waiting: WaitingRecords):
        self._record = record
        self._waiting = waiting
        self._lock = threading.Lock()
        self._gone_ahead = False
        self._refused = False
        self.waits: WaitsFor | None = None  # why it was kept, once it was (on the worker)

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
            self.waits = waits_for(exc, self._waiting.data_dir)
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

    def outcome(self, ref: str) -> Recorded:
        if ref.startswith("audit:"):
            return Recorded(ref, self._record.at)
        # Kept with its error (the worker's write failed in time), or still under way: slow.
        return Recorded(ref, self._record.at, self.waits or "slow")


# The bound a kept record waits within, by its class: "alarm" (a KeptAlarm), "login" (a KeptLogin)
# or "lane" (the others: lane records by hand, patrol taps). isinstance on a runtime-checkable
# Protocol looks the members up each time (tens of microseconds), and every record kept scanned up
# to three thousand that wait under the lock a lane's decision takes (a full disk's backlog: 90 ms a
# record on a PC, several times that on a Pi).
WaitsWithin = Literal["alarm", "login", "lane"]
_KINDS: dict[type, WaitsWithin] = {}


def _kind(record: Kept) -> WaitsWithin:
    kind = type(record)
    known = _KINDS.get(kind)
    if known is None:
        if isinstance(record, KeptAlarm):
            known = "alarm"
        else:
            known = "login" if isinstance(record, KeptLogin) else "lane"
        _KINDS[kind] = known
    return known


def _is_alarm(record: Kept) -> TypeGuard[KeptAlarm]:
    return _kind(record) == "alarm"


def _bound(kind: WaitsWithin) -> int:
    if kind == "alarm":
        return MAX_ALARMS_WAITING
    return MAX_LOGINS_WAITING if kind == "login" else MAX_UNRECORDED


def _same_alarm(record: Kept, switch: Switch) -> bool:
    other = record.switch if _is_alarm(record) else None
    return other is not None and (other.kind, other.source) == (switch.kind, switch.source)


def _raises(record: Kept) -> bool:
    return _is_alarm(record) and record.switch is not None and record.switch.raised


def waits_for(why: object, data_dir: Path) -> WaitsFor:
    """Why a record kept with `why` (its storage error, or words saying it was not written in
    time) waits: see WaitsFor. Judged with the data directory, as the panel judges a decision
    refused by the same error (Gateway._failed): without it, an I/O error on a full disk was
    "unwritable" on the 开闸 toast while the panel said the disk is full."""
    if not isinstance(why, sqlite3.Error):
        return "slow"
    cause = storage_cause(why, data_dir)
    # A record is kept for storage's errors alone (storage_failure), never for a fault.
    return "unwritable" if cause == "damaged" or cause == "fault" else cause


def storage_failure(exc: sqlite3.Error) -> bool:
    """The disk takes no writes (or another process holds the database locked), as opposed to a
    fault of the request or the schema."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _STORAGE_CODES


def _write(record: Kept, conn: sqlite3.Connection) -> None:
    """The record on the worker's connection, never left in a transaction: a COMMIT the disk refused
    may leave it open, and every later write (the decisions too) would then fail to begin."""
    try:
        record.write(conn)
    except Exception:  # any error: a record's own fault leaves the transaction open as well
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class WaitingRecords:
    """The records kept in memory, oldest first: lane records by hand (single opens, relay
    failures), and alarms and patrol taps (write_in_turn). Kept by any thread (the HTTP server's,
    the MQTT link's, a device's); written by the decision worker, which owns the connection
    (write_waiting). Alarms are bounded apart (MAX_ALARMS_WAITING) and folded (_fold): a device
    that flaps all night on a full disk once pushed the guard's opening out of the lane records'
    1,000. Logins and logouts are bounded apart too (MAX_LOGINS_WAITING)."""

    def __init__(
        self,
        data_dir: Path,
        monotonic: Callable[[], float] = time.monotonic,
        storage: StorageState | None = None,
    ):
        self._data_dir = data_dir  # named in the log line that says what to free
        self._storage = storage  # told of each record storage refused, or took
        self._monotonic = monotonic
        self._records: deque[Kept] = deque()
        self._lock = threading.Lock()
        # The record the worker is writing (write_waiting), and told when it is done with it: a
        # record called off (call_off) while it is written may be on record already.
        self._writing: Kept | None = None
        self._written = threading.Condition(self._lock)
        self._retry_at = 0.0
        # Why storage last refused a record (None: none refused since one was last written): the
        # fix of the lines that say a record waits or is lost (_fix, _lost_fix). The records wait
        # in one queue, written in order: what holds up the first holds up them all.
        self._cause: StorageCause | None = None
        # Storage took the last slice's writes and records still wait (write_waiting returned
        # True): the worker writes them a slice at a time, a record in turn queued behind them.
        self._writing_back = False

    @property
    def data_dir(self) -> Path:
        """Where the database lives: what storage_cause judges a refused write by."""
        return self._data_dir

    def waiting(self) -> int:
        """Records whose rows (and upstream records) still wait for storage."""
        return len(self._records)

    def kept_now(self) -> list[Kept]:
        """The records that wait, oldest first: what the pages list of them before they are
        written (gateway/api/lanes.py: a lane opened by hand on a full disk)."""
        with self._lock:
            return list(self._records)

    def call_off(self, record: Kept) -> bool:
        """A record that waits taken back unwritten, what it says not having happened after all (a
        remote command's acceptance, kept while its action went ahead, and that action then refused
        for want of storage: gateway/sync/commands.py). True: it was still waiting, and is never
        written; False: it is written (one the worker was writing is waited for) or was lost."""
        with self._written:
            while self._writing is record:
                self._written.wait()
            if all(r is not record for r in self._records):
                return False
            self._remove([record])
            return True

    def write_or_keep(self, record: Kept, submit: Submit, wait_s: float = HAND_OPEN_WAIT_S) -> Recorded:
        """Write the record on the decision worker (`submit`), or keep it when the disk takes no
        writes or the worker has not written it within `wait_s`; returns the reference a relay
        pulse carries (`audit:<id>`, or `unrecorded:<time of the record>`) and why it waits. Either
        way it is written once: a task not started by then is cancelled, and one under way keeps it
        if it fails."""
        handover = _Handover(record, self)
        future = submit(handover.write)
        try:
            return handover.outcome(wait_or_call_off(future, wait_s))
        except StillRunning:
            return handover.outcome(handover.go_ahead(future))
        except FutureTimeout:  # called off
            self.keep(record, f"the decision worker did not get to it in {wait_s:.0f} s")
            return handover.outcome(handover.unrecorded)

    def write_in_turn(self, record: Kept, submit: SubmitNone) -> Future[None]:
        """Write the record on the decision worker when it gets to it, after those that wait, or
        keep it behind them while storage takes no writes: written before a raise that waits, an
        alarm's clearing would leave the alarm open for good, and the car an opening let out was
        let out by the next opening's record. A failure that is not storage's (a fault of the
        record) is the worker's to log (and the caller's, by the future), and not kept: it would
        fail again, and hold up those behind it."""
        return submit(lambda conn: self._in_turn(record, conn))

    def _in_turn(self, record: Kept, conn: sqlite3.Connection) -> None:
        # Behind those that wait, without a slice of them in this task: twenty alarms in turn
        # wrote twenty slices, a second, a card queued behind them waiting for it (review 59i).
        if self._records and self._writing_back:  # storage takes writes: written in their turn
            self._behind(record)
            return
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
            if isinstance(why, sqlite3.Error):
                self._cause = storage_cause(why, self._data_dir)
                self._writing_back = False
            cause = self._cause
        if isinstance(why, sqlite3.Error) and self._storage is not None:
            self._storage.failed(why, cause)
        if not self._append(record):
            return
        log.error(
            "%s not recorded %s error=%s: the record waits in memory until storage takes writes again fix=%s",
            record.what,
            record.details(),
            why,
            self._fix(cause),
        )

    def _behind(self, record: Kept) -> None:
        """`record` queued behind those that waited, storage taking writes again and the worker
        writing them a slice at a time: written in its turn, within seconds, not a fault to log
        at ERROR."""
        if self._append(record):
            log.info(
                "%s written in turn behind %d records that waited for storage %s at=%s",
                record.what,
                self.waiting() - 1,
                record.details(),
                record.at.isoformat(),
            )

    def _append(self, record: Kept) -> bool:
        """`record` at the end of the queue, folded with its alarm's changes that wait, the oldest
        of its kind lost if it is at its bound (logged); False: folded, not kept."""
        with self._lock:
            dropped = self._fold(record)
            kept = all(r is not record for r in dropped)
            lost = self._make_room(_kind(record)) if kept else None
            if kept:
                self._records.append(record)
        if lost is not None:
            own = f" fix={lost.if_never()}" if isinstance(lost, OwnFix) and lost.if_never() else ""
            log.error(
                "%s lost (too many records waiting) %s at=%s%s",
                lost.what,
                lost.details(),
                lost.at.isoformat(),
                own,
            )
            if isinstance(lost, KeptLogin):
                lost.lost()
        for folded in dropped:
            log.warning(
                "%s not kept %s at=%s: folded into the changes of that alarm that wait (its first "
                "fault, and its last return if it is back)",
                folded.what,
                folded.details(),
                folded.at.isoformat(),
            )
        return kept

    def fix_for(self, exc: sqlite3.Error) -> str:
        """The fix of a write storage refused with `exc`, for the journal: by its cause."""
        return storage_fix(storage_cause(exc, self._data_dir), self._data_dir)

    def _fix(self, cause: StorageCause | None) -> str:
        """What lets a record that waits be written, by why storage refused it (None: it has not
        yet, the worker has not got to it)."""
        if cause is not None:
            return storage_fix(cause, self._data_dir)
        return (
            "if another process holds the database, end it (a `gateway import` stopped with Ctrl-Z: "
            "fg); else it is written once the decision worker gets to it"
        )

    def _lost_fix(self, cause: StorageCause | None) -> str:
        """What would have saved a record lost at the stop, by why storage last refused one: a
        disk freed or a lock let go before the stop; a card that failed or a damaged database
        saves none, and says what to do about it."""
        if cause is None:
            return (
                "the decision worker did not get to it: if another process holds the database, end it "
                "(a `gateway import` stopped with Ctrl-Z: fg) before the gateway is stopped"
            )
        if cause in ("full", "locked"):
            return f"{storage_fix(cause, self._data_dir)} before the gateway is stopped"
        return storage_fix(cause, self._data_dir)

    def _fold(self, record: Kept) -> list[Kept]:
        """An alarm's change folded with those of the same alarm that wait (the caller holds the
        lock): the records dropped, `record` among them if it is not to be kept. A device, or a
        barrier, that goes off and back while the disk is full keeps its first fault (the time its
        repair deadline counts from, its first error) and its last return if it is back at the
        end: the outage is on record, dated as it happened, in at most three records (a clearing
        of an alarm left open before them, the fault, the return), whatever it flapped."""
        switch = record.switch if _is_alarm(record) else None
        if switch is None:
            return []
        same = [r for r in self._records if _same_alarm(r, switch)]
        first_raise = next((i for i, r in enumerate(same) if _raises(r)), None)
        if switch.raised:
            if first_raise is None:
                return []
            # Faulty since its first fault: a return after it, and this fault, are folded into it.
            returns = same[first_raise + 1 :]
            self._remove(returns)
            kept = same[first_raise]
            if isinstance(kept, FoldsIn):
                self._records = deque(kept.fold_in(record) if r is kept else r for r in self._records)
            return [*returns, record]
        if first_raise is None:
            # A clearing after a clearing that waits (no raise between) clears nothing more.
            return [record] if same else []
        returns = same[first_raise + 1 :]
        self._remove(returns)  # the return that waited: this one is the last
        return returns

    def _make_room(self, kind: WaitsWithin) -> Kept | None:
        """The oldest record of the kind (alarms, logins and logouts, or the others) that is at its
        bound, taken out for the one to keep (the caller holds the lock): a record never pushes out
        another kind."""
        of_kind = [r for r in self._records if _kind(r) == kind]
        if len(of_kind) < _bound(kind):
            return None
        self._remove(of_kind[:1])
        return of_kind[0]

    def _remove(self, records: list[Kept]) -> None:
        """These records, and no other equal to one (the caller holds the lock)."""
        self._records = deque(r for r in self._records if all(r is not x for x in records))

    def write_now(self, conn: sqlite3.Connection) -> list[Kept]:
        """On the worker, for a look that judges by what is on record (Operations: patrol rounds,
        repair deadlines): the records that wait written now, whatever the retry time (the disk
        may have room since the last try, and a look that read what they say unwritten would
        judge it for good), a slice of them (WRITE_SLICE_S) like any turn on the worker; those
        that still wait, oldest first, for the look to hold back."""
        self.write_waiting(conn, now=True)
        with self._lock:
            return list(self._records)

    def write_waiting(self, conn: sqlite3.Connection, now: bool = False) -> bool:
        """On the worker: the records that waited, written in order once storage takes writes again
        (tried at most every UNRECORDED_RETRY_S while it does not; `now`: whatever the retry time),
        for about WRITE_SLICE_S, so that the decisions queued meanwhile are not held up by them
        all. True: storage takes writes and records still wait, the rest for the next slice.
        One that fails for another reason, whatever it raised, is dropped, its journal line its
        only record: it would fail again, for good, and hold up every record behind it; raised
        here, it ended the decision worker, and every lane with it."""
        self._writing_back = self._write_from_head(conn, now, time.monotonic() + WRITE_SLICE_S)
        return self._writing_back

    def _write_from_head(self, conn: sqlite3.Connection, now: bool, until: float | None) -> bool:
        """write_waiting, until `until` (time.monotonic, the slice's real time, whatever clock the
        retries follow; None: until none waits or storage refuses, at the stop)."""
        if not self._records or (not now and self._monotonic() < self._retry_at):
            return False
        while True:
            with self._lock:
                if not self._records:
                    return False
                if until is not None and time.monotonic() >= until:
                    return True
                record = self._records[0]
                self._writing = record
            try:
                _write(record, conn)
            except Exception as exc:
                if isinstance(exc, sqlite3.Error) and storage_failure(exc):
                    self._cause = storage_cause(exc, self._data_dir)
                    if self._storage is not None:
                        self._storage.failed(exc, self._cause)
                    self._take(record, out=False)
                    self._retry_at = self._monotonic() + UNRECORDED_RETRY_S
                    log.debug("records still waiting for storage: %s", exc)
                    return False
                if self._take(record):  # dropped: it would fail again
                    error = exc if isinstance(exc, sqlite3.Error) else repr(exc)  # a bug: its kind too
                    self._never(record, f"it cannot be written: {error}", _NOT_STORAGE_FIX)
                continue
            self._take(record)
            self._cause = None
            if self._storage is not None:
                self._storage.took_writes()
            self._retry_at = 0.0  # written by a look's turn (`now`): the worker goes on at once
            log.warning(
                "%s recorded now that storage is back %s at=%s",
                record.what,
                record.details(),
                record.at.isoformat(),
            )

    def _take(self, record: Kept, out: bool = True) -> bool:
        """The worker is done with `record`, taken out of the queue if `out` (written, or dropped);
        True if it was still there. Under the lock call_off takes: a record it finds waiting is
        not on record."""
        with self._written:
            self._writing = None
            self._written.notify_all()
            if out and self._records and self._records[0] is record:
                self._records.popleft()
                return True
            return False

    def write_at_stop(self, conn: sqlite3.Connection | None, cut_short: bool = False) -> None:
        """The gateway stops: the records that waited are written now, whatever the retry time (the
        disk may have room since the last try), on `conn` (the worker's; None: no worker can write,
        or it did not finish). Those still waiting are lost with the process: the journal keeps
        them, at ERROR. `cut_short`: the worker still wrote them, storage taking writes, when the
        stop could wait no longer (DecisionWorker.stop); the one it is writing is left to it."""
        if conn is not None:
            self._write_from_head(conn, now=True, until=None)  # no lane waits on a stopping worker
        with self._lock:
            held = self._writing  # a worker still running: its record may yet be on record
            lost = [r for r in self._records if r is not held]
            self._records = deque(r for r in self._records if r is held)
        if cut_short:
            why, fix = _CUT_SHORT, _CUT_SHORT_FIX
        else:
            why, fix = "the gateway stopped while storage took no writes", self._lost_fix(self._cause)
        for record in lost:
            self._never(record, why, fix)
        if held is not None:
            self._held_at_stop(held, fix)

    def _held_at_stop(self, record: Kept, fix: str) -> None:
        """The record the worker was writing when the stop took those behind it: waited for a
        moment (a write takes milliseconds), said in the journal if it is still under way."""
        with self._written:
            if self._written.wait_for(lambda: self._writing is not record, HELD_AT_STOP_S):
                return
        log.error(
            "%s still being written as the gateway stopped %s at=%s: on record if that write got "
            "through, else this line is its only record fix=%s",
            record.what,
            record.details(),
            record.at.isoformat(),
            fix,
        )

    def _never(self, record: Kept, why: str, fix: str) -> None:
        if isinstance(record, OwnFix) and record.if_never():
            fix = f"{record.if_never()}; {fix}"
        log.error(
            "%s never recorded (%s) %s at=%s: this line is its only record fix=%s",
            record.what,
            why,
            record.details(),
            record.at.isoformat(),
            fix,
        )
