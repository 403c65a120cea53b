"""The decision worker, the one thread that owns the write connection, and its checkpoints.

Presentations are decided one at a time in arrival order, those already waiting together in one
commit (group commit, up to MAX_BATCH); any other write (alarms, guard actions, sync) is a task run
in its turn on the same connection. Between jobs, and while idle, the lane records that wait for
storage (hand_opens.py) are tried again, a slice at a time once storage takes writes, the jobs
queued meanwhile taken between the slices. Checkpoints of the WAL run on a thread of their own, and
between the batches of a long write (Checkpointer.turn).

A task's storage failure (a full disk, a database held locked) goes back on its future, for the
caller to report as it reports the disk's other faults (the operations' look logs a step that fails
once, the API answers storage_failed, and a change it stopped waiting for, answered still_saving,
is said when it fails: api/deps.py); a write nobody waits for is wrapped in Unwaited, and the
worker reports its failure once. Any other failure is a fault of the gateway: logged with its
traceback.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.fault_log import FaultLog
from gateway.store.database import WAL_SIZE_LIMIT, empty_wal, storage_cause, storage_fix

if TYPE_CHECKING:  # hand_opens waits on the worker's writes (wait_or_call_off)
    from gateway.runtime.hand_opens import WaitingRecords
    from gateway.runtime.storage_state import StorageState

log = logging.getLogger(__name__)

T = TypeVar("T")

# Decisions waiting together share one commit; more than this and the first ones would wait too long.
MAX_BATCH = 64
CHECKPOINT_EVERY_S = 1.0
# The stop waits for the worker's last job, the records that waited for storage, while it writes
# them: after a full evening a thousand lane records and a thousand alarms, each with its own disk
# flush, take tens of seconds on an SD card. Bounded within systemd's stop timeout (the unit's
# TimeoutStopSec, 120 s), the rest of the stop (the pages' streams, 3 s; the link and the
# directory, stopped first; the last checkpoint) in the margin. A worker that moves nothing for
# STOP_STALL_S (a write held by another process's lock) is waited for no longer, as before.
# Joined for 10 s in all, a stop right after the guard freed space logged hundreds of records
# written meanwhile "never recorded" (review 59m).
STOP_WAIT_S = 60.0
STOP_STALL_S = 10.0


class StillRunning(TimeoutError):
    """The wait for a write ran out once the worker had begun it: it cannot be called off, and
    may yet be saved."""


def wait_or_call_off(future: Future[T], timeout_s: float) -> T:
    """The result of a write sent to the worker, waited for `timeout_s`. Past that, a write the
    worker has not begun is called off (concurrent.futures.TimeoutError), so that a busy answer
    ("did not save this") is true: done again, it is saved once. One the worker has begun (held up
    behind another process's lock, say) raises StillRunning; each caller says what that means."""
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        if future.cancel():
            raise
        if future.done():  # finished as the wait ran out
            return future.result()
        raise StillRunning(f"the write is under way after {timeout_s:g} s") from None


@dataclass(frozen=True, slots=True)
class Job:
    presented: Presented
    received: float  # perf_counter when the driver handed it over


@dataclass(frozen=True, slots=True)
class Unwaited(Generic[T]):
    """A write nobody waits for (an alarm raised in passing, a prune, a record queued upstream),
    named by `what` ("the outbox_backlog alarm"): no caller reads its future, so the worker reports
    its storage failure, once while it repeats (DecisionWorker._unwaited_failed)."""

    what: str
    run: Callable[[sqlite3.Connection], T]

    def __call__(self, conn: sqlite3.Connection) -> T:
        return self.run(conn)


@dataclass(frozen=True, slots=True)
class _Task:
    """Any other write (alarms, guard actions, sync): run on the worker, which owns the connection."""

    run: Callable[[sqlite3.Connection], Any]
    future: Future[Any]


class DecisionWorker:
    def __init__(
        self,
        conn: sqlite3.Connection,
        decide_batch: Callable[[list[Job]], object],
        waiting: WaitingRecords,
        storage: StorageState | None = None,
    ):
        self._conn = conn
        self._decide_batch = decide_batch
        self._waiting = waiting
        self._storage = storage  # told of each task's write that failed for storage, or got through
        # Unbounded: card reads are never dropped.
        self._jobs: queue.Queue[Job | _Task | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._last_tick = time.monotonic()
        # Each kind of Unwaited write's storage failure, said once while it repeats.
        self._unwaited_faults: dict[str, FaultLog] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._work, name="decisions", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._jobs.put(None)
        cut_short = self._thread is not None and self._still_writing()  # its last job: the records
        self._waiting.write_at_stop(None, cut_short)  # a worker that never ran or never finished: logged only

    def _still_writing(self) -> bool:
        """Joins the worker while it moves (records written, jobs taken), up to STOP_WAIT_S: True if
        it still ran when that ran out, having written records meanwhile (storage takes writes);
        False once it ended, or stood still STOP_STALL_S, or wrote none."""
        assert self._thread is not None
        start = time.monotonic()
        moved_at, seen = start, self._moves()
        first = seen[0]  # the records that wait
        while self._thread.is_alive():
            now = time.monotonic()
            if now - moved_at >= STOP_STALL_S:
                return False
            if now - start >= STOP_WAIT_S:
                return self._waiting.waiting() < first
            self._thread.join(timeout=min(0.2, start + STOP_WAIT_S - now))
            if self._moves() != seen:
                moved_at, seen = time.monotonic(), self._moves()
        return False

    def ended(self) -> bool:
        """Its thread has ended (or never ran): nothing of it is inside SQLite any more."""
        return self._thread is None or not self._thread.is_alive()

    def _moves(self) -> tuple[int, int]:
        return self._waiting.waiting(), self._jobs.qsize()

    def alive(self) -> bool:
        """For the health reports: the worker thread runs and has looped in the last few seconds
        (false too while one write waits, up to the busy timeout, on a database held elsewhere)."""
        since = self.since_last_loop()
        return since is not None and since < 5

    def since_last_loop(self) -> float | None:
        """Seconds since the worker last looped (between jobs, and every second while idle); None
        when its thread does not run. For the watchdog (serve.WorkerWatch), which tells a worker
        waiting on the database from a stuck one."""
        if self._thread is None or not self._thread.is_alive():
            return None
        return time.monotonic() - self._last_tick

    def backlog(self) -> int:
        return self._jobs.qsize()

    def put(self, job: Job) -> None:
        self._jobs.put(job)

    def submit(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run `run(connection)` on the decision worker, in turn with decisions (thread-safe)."""
        future: Future[T] = Future()
        self._jobs.put(_Task(run, future))
        return future

    def submit_or_run(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """submit, or at once when called on the worker (a task queued there would wait for itself)."""
        if threading.current_thread() is not self._thread:
            return self.submit(run)
        future: Future[T] = Future()
        try:
            future.set_result(run(self._conn))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def _work(self) -> None:
        held: list[Job | _Task | None] = []  # what ended the last batch, taken before the queue
        # Records that waited for storage are being written, a slice at a time: the jobs queued by
        # the end of a slice are taken first (`turns` of them, a batch one), then the next slice.
        behind, turns = False, 0
        while True:
            if behind and turns <= 0 and not held:
                behind, turns = self._slice()
                continue
            try:
                job = held.pop() if held else self._jobs.get(block=not behind, timeout=1.0)
            except queue.Empty:
                behind, turns = self._slice()
                continue
            self._last_tick = time.monotonic()
            if job is None:
                self._waiting.write_at_stop(self._conn)
                return
            if isinstance(job, _Task):
                self._run_task(job)
            else:
                batch = self._gather(job, held)
                try:
                    self._decide_batch(batch)
                except Exception:  # one bad presentation must never stop the lanes
                    log.exception("decisions failed lanes=%s", {j.presented.lane for j in batch})
            if behind:
                turns -= 1  # a slice after each job held a card behind N tasks N slices (review 59i)
            else:
                behind, turns = self._slice()

    def _slice(self) -> tuple[bool, int]:
        """A slice of the records that wait written (write_waiting): whether more are to be written
        now, and the jobs queued meanwhile, to be taken before the next slice."""
        self._last_tick = time.monotonic()
        behind = self._write_waiting()
        return behind, self._jobs.qsize() if behind else 0

    def _write_waiting(self) -> bool:
        """The records that wait for storage, tried again: a slice of them, True if more are to be
        written now (the next slice comes after the jobs queued by the end of this one, at once if
        none are). WaitingRecords drops one whose write fails for good, logged; whatever else a
        record raises (its own journal line, say) must never end this thread either: every lane's
        decisions would stop with it."""
        try:
            return self._waiting.write_waiting(self._conn)
        except Exception:
            log.exception("records waiting for storage not written; tried again after the next job")
            return False

    def _gather(self, first: Job, held: list[Job | _Task | None]) -> list[Job]:
        """Presentations already waiting join one transaction (group commit), up to MAX_BATCH."""
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if not isinstance(job, Job):
                held.append(job)  # a task or the stop marker keeps its turn after this batch
                break
            batch.append(job)
        return batch

    def _run_task(self, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        changes = self._conn.total_changes
        try:
            result = task.run(self._conn)
        except GatewayError as exc:  # refused for a reason the caller reports (not found, ...)
            task.future.set_exception(exc)
        except sqlite3.Error as exc:
            self._failed(task.run, exc)
            task.future.set_exception(exc)
        except BaseException as exc:
            log.exception("task on the decision worker failed")
            task.future.set_exception(exc)
        else:
            if isinstance(task.run, Unwaited):
                self._unwaited_written(task.run.what)
            if self._storage is not None and self._conn.total_changes != changes:
                self._storage.took_writes()  # it wrote, and it is stored: storage takes writes
            task.future.set_result(result)

    def _failed(self, run: Callable[[sqlite3.Connection], Any], exc: sqlite3.Error) -> None:
        """A storage failure is its caller's to report, once (every 30 s on a full disk, the
        operations' look would otherwise leave a traceback each time); an Unwaited write's is the
        worker's. Any other SQLite error is a fault of the request: logged with its traceback."""
        if not _storage_failure(exc):
            log.error("task on the decision worker failed", exc_info=exc)
            return
        if self._storage is not None:
            self._storage.failed(exc)
        if isinstance(run, Unwaited):
            self._unwaited_failed(run.what, exc)

    def _unwaited_failed(self, what: str, exc: sqlite3.Error) -> None:
        self._unwaited_faults.setdefault(what, FaultLog(log)).failed(
            str(exc),
            "%s not written: %s; it is not kept, and made again only when next due (fix: %s)",
            what,
            exc,
            self._waiting.fix_for(exc),
        )

    def _unwaited_written(self, what: str) -> None:
        fault = self._unwaited_faults.get(what)
        if fault is not None:
            fault.ended("%s written again: storage takes writes", what)


def _storage_failure(exc: sqlite3.Error) -> bool:
    # hand_opens waits on this module's writes (wait_or_call_off): imported when first needed.
    from gateway.runtime.hand_opens import storage_failure

    return storage_failure(exc)


class Checkpointer:
    """Copies the WAL into the database on a thread of its own, every CHECKPOINT_EVERY_S, so that
    no decision's commit ever waits for a checkpoint; and keeps the WAL from holding room on the
    card: past WAL_SIZE_LIMIT, or once a turn asks (the end of a retention pass), it is emptied.

    A passive checkpoint never cuts the file, and SQLite starts the WAL over only when a write
    finds it wholly copied in: the batches of a retention pass, back to back, grew it to hold every
    page they deleted, kept that size until the stop. The batches give the checkpoint its turn
    (`turn`, on the caller's thread), and the WAL starts over at the next batch."""

    def __init__(self, db_path: Path, storage: StorageState | None = None):
        self._db_path = db_path
        self._storage = storage  # told of a checkpoint storage refused (a card gone read-only)
        self._wal = db_path.with_name(f"{db_path.name}-wal")
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        # The thread's connection, used by one checkpoint at a time: the thread's or a turn's.
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._failing = FaultLog(log, logging.WARNING)
        self._empty_asked = False  # until an emptying checkpoint gets through

    def start(self, conn: sqlite3.Connection) -> None:
        # Checkpoints (copying the WAL into the database, with its own disk flushes) run on a
        # thread of their own, so that no decision's commit ever waits for one.
        conn.execute("PRAGMA wal_autocheckpoint=0")
        self._conn = sqlite3.connect(self._db_path, timeout=10, check_same_thread=False)
        self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        self._thread = threading.Thread(target=self._checkpoint, name="checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def turn(self, *, empty: bool = False) -> None:
        """A checkpoint now, on the caller's thread, between the steps of a long write (retention's
        batches): the WAL is copied in, and the next step starts it over rather than growing it.
        `empty`: the WAL is then emptied too (at once, or at the thread's next turns while a write
        or a reader is under way). Nothing before the start or after the stop."""
        with self._lock:
            self._empty_asked = self._empty_asked or empty
            if self._conn is not None:
                self._once(self._conn)

    def _checkpoint(self) -> None:
        while not self._stopping.wait(CHECKPOINT_EVERY_S):
            self.turn()
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                self._truncate(conn)
            finally:
                conn.close()

    def _truncate(self, conn: sqlite3.Connection) -> None:
        """The last checkpoint, at the stop: the WAL copied in and emptied. On a full disk it
        fails; nothing is lost (the next start reads the WAL), and it is said in one line rather
        than the thread's traceback."""
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            log.warning(
                "checkpoint at the stop failed: %s; %s-wal is kept and read at the next start (fix: %s)",
                exc,
                self._db_path.name,
                self._fix(exc),
            )

    def _once(self, conn: sqlite3.Connection) -> None:
        """One passive checkpoint, then the WAL emptied where it is due (empty_wal: it waits for
        no lane). Tried every second: a fault (a full disk) is logged once with the fix, again only
        if the error changes, and its end once; the repeats go to DEBUG, not 3,600 lines an hour
        into a journal on the same card."""
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            if self._empty_asked or self._wal_size() > WAL_SIZE_LIMIT:
                self._empty_asked = not empty_wal(conn)
        except sqlite3.Error as exc:
            # Not another process's lock: a checkpoint waits for no reader, and gives up often.
            if self._storage is not None and storage_cause(exc, self._db_path.parent) != "locked":
                self._storage.failed(exc)
            self._failing.failed(
                str(exc),
                "checkpoint failed: %s; %s-wal grows until one succeeds, tried every %g s (fix: %s)",
                exc,
                self._db_path.name,
                CHECKPOINT_EVERY_S,
                self._fix(exc),
            )
            return
        self._failing.ended(
            "checkpoints succeed again: %s-wal is copied into the database", self._db_path.name
        )

    def _wal_size(self) -> int:
        try:
            return self._wal.stat().st_size
        except OSError:  # none yet, or gone: nothing to empty
            return 0

    def _fix(self, exc: sqlite3.Error) -> str:
        """By the cause: a card gone read-only has room, and freeing it helps nothing."""
        data_dir = self._db_path.parent
        return storage_fix(storage_cause(exc, data_dir), data_dir)
