"""The directory from the central server: snapshots and deltas received, staged, applied in order.

Runs on a thread of its own: staging and applying a 100,000-entry snapshot takes seconds, and
neither the MQTT link nor the lanes wait for it. Remote commands do not queue behind it either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.runtime.outbox_stream import register_maybe_behind
from gateway.runtime.worker import Unwaited
from gateway.store.database import open_read_only, transaction
from gateway.store.outbox import enqueue, first_unsent
from gateway.sync.apply import StaleApply, apply_delta, apply_snapshot_steps, total_rows
from gateway.sync.backoff import retry_delay
from gateway.sync.client import Received
from gateway.sync.errors import DownlinkRejected
from gateway.sync.files import check_intact, damaged, open_mending, say_if_not_writable, write_fix
from gateway.sync.inbox import Inbox
from gateway.sync.messages import parse_delta, parse_snapshot_part
from gateway.sync.replies import fit, room
from gateway.sync.staging import (
    STAGING_NAME,
    clear_staged,
    drop_parts,
    open_staging,
    read_meta,
    save_delta,
    save_part,
    site_job,
    whole_parts,
)
from gateway.sync.staging_run import StagingFault, run_stage
from gateway.sync.versions import Apply, Request, Versions
from gateway.timefmt import elapsed, from_db, to_db

log = logging.getLogger(__name__)

# A snapshot step aims at this long on the decision worker: a card waits at most about one step.
STEP_TARGET_MS = 2.0
TASK_S = 0.05  # longest run of back-to-back steps on the worker while nothing else waits

# A snapshot step or a delta that fails (a full disk, the database locked by another writer) is
# tried again (a snapshot from its staged copy) after 1 s, doubling up to a minute: a snapshot is
# finished, never left half applied, and a delta is never dropped.
RETRY_MIN_S = 1.0
RETRY_MAX_S = 60.0

# A snapshot's parts come together; parts none of whose others has come for this long (since the
# last one, or since the start for parts kept before it) are not completed, and they hold clear
# phone and ID numbers: they are dropped and the snapshot asked for again.
UNFINISHED_PARTS_S = 3600.0

# A snapshot or delta whose staging fails this many times in a row with no verdict on its data (its
# child process killed: out of memory) is given up, the centre told `not_staged`, and a snapshot
# asked for again after resync_interval_s: a box short of memory is not sent one after another.
STAGING_TRIES = 3


class Directory:
    def __init__(self, gw: Gateway, retain: Any, topic_state: str, inbox: Inbox):
        self.gw = gw
        self.cfg = gw.site.config.mqtt
        self.staging_path = gw.data_dir / STAGING_NAME
        self._retain = retain  # (topic, payload) -> None: the link's retained topics
        self._topic_state = topic_state
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        applied, self.last_applied_at = self._applied()
        self.versions = Versions(applied, self.cfg.gap_wait_s, self.cfg.resync_interval_s)
        # Read here, as the applied version is, not on the thread: until the thread got to it (a
        # slow start) /api/health said no snapshot was needed though one was owed on record.
        self._owed()
        # Deltas held until the one before them is in, with their inbox ids.
        self._bodies: dict[int, tuple[bytes, int | None]] = {}
        self._inbox = inbox  # shared with the commands; closed by the service
        self.applying: dict[str, int] | None = None
        self.step_ms: list[float] = []  # how long each step of the last snapshot held the worker
        self.rejected = 0
        site = gw.site.config.site.id
        self._error_room = room(self.cfg.max_message_bytes, self.cfg.topic_prefix, site, "sync_error")
        self._staging: sqlite3.Connection | None = None
        self.stopped: str | None = None  # why the thread ended before it was told to (health)
        self._unhandled = 0  # messages in a row not handled: the traceback of the first is logged
        # (what to try again, when) after a snapshot step or a delta failed
        self._retry: tuple[Callable[[], None], float] | None = None
        self._failures = 0
        self._staging_faults = 0  # stagings in a row that ended with no verdict (StagingFault)
        self._rng = random.Random()
        # When the last part of an unfinished snapshot was kept (monotonic); None: none is.
        self._parts_since: float | None = time.monotonic()

    def start(self) -> None:
        # Before the link starts: what arrived before the last stop goes first, in its order.
        left = self._inbox.waiting(("snapshot", "delta"))
        if left:
            log.info(
                "directory: taking up %d snapshot part(s) and delta(s) received before the last stop",
                len(left),
            )
        for kept, kind, body in left:
            self._queue.put((kind, (body, kept)))
        self._thread = threading.Thread(target=self._run, name="directory", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """True once the thread has ended (done with the inbox)."""
        self._stop.set()
        self._queue.put(("stop", None))
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def receive(self, kind: str, ev: Received) -> None:
        """A snapshot part or delta, on paho's network thread before the broker is acknowledged:
        kept on disk first, so that a stop or a kill while it waits here does not lose it."""
        self._queue.put((kind, (ev.payload, self._inbox.keep(kind, ev.payload))))

    def resync(self, reason: str) -> None:
        self._queue.put(("resync", reason))

    def session_lost(self, reason: str) -> None:
        """The link's connect found no session kept by the broker (SyncLink.on_session_lost)."""
        self._queue.put(("session_lost", reason))

    def status(self) -> dict[str, Any]:
        return {
            "applied_version": self.versions.applied,
            "applying": self.applying,
            "need_snapshot": self.versions.need_snapshot,
            "held_deltas": len(self.versions.held),
            "rejected": self.rejected,
            **({"stopped": self.stopped} if self.stopped else {}),
        }

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._staging = self._open_staging()
            self._resume()
            self._publish_state()
            while not self._stop.is_set():
                try:
                    kind, item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    kind, item = "tick", None
                try:
                    self._handle(kind, item)
                    if kind != "tick":
                        self._unhandled = 0
                except _StagingLost:
                    raise
                except Exception as exc:  # one bad message must never stop the directory
                    self._not_handled(kind, exc)
        except Exception as exc:
            if isinstance(exc, _StagingLost) and isinstance(exc.__cause__, Exception):
                exc = exc.__cause__
            # Never silently: the link stays up, so only the log and the health say that the
            # central server's changes are no longer applied.
            fix = (
                write_fix(exc, self.staging_path, self.gw.db_path)
                if isinstance(exc, sqlite3.Error | OSError)
                else "restart the gateway, and report this error"
            )
            self.stopped = f"{exc} (fix: {fix})"
            log.critical(
                "directory: stopped: %s; the central server's snapshots and deltas are not applied "
                "until the gateway is restarted",
                self.stopped,
                exc_info=True,
            )
        finally:
            if self._staging is not None:
                self._staging.close()

    def _open_staging(self) -> sqlite3.Connection:
        """The staging file; a damaged one (a power cut) set aside and made anew: a work file,
        whose parts and staged copy the central server sends again (a snapshot asked for)."""
        say_if_not_writable(self.staging_path, "the central server's snapshots and deltas cannot be applied")
        conn, aside = open_mending(
            self.staging_path,
            open_staging,
            self.gw.now().astimezone(self.gw.site.tz),
            "the parts of a snapshot being received, or the staged copy of one being applied (a "
            "snapshot is asked for instead)",
        )
        if aside is not None:
            self.resync(f"{STAGING_NAME} was damaged and is made anew")
        return conn

    def _not_handled(self, kind: str, exc: Exception) -> None:
        self._unhandled += 1
        if damaged(exc) and self._mend_staging():
            return
        if isinstance(exc, sqlite3.Error):  # a file, not the message: worded by its cause, once
            # The staging file is intact if it was not mended: the damage is then the database's.
            files = (
                (self.gw.db_path, self.staging_path) if damaged(exc) else (self.staging_path, self.gw.db_path)
            )
            log.log(
                logging.ERROR if self._unhandled == 1 else logging.DEBUG,
                "directory: %s not handled: %s (fix: %s)",
                kind,
                exc,
                write_fix(exc, *files),
                exc_info=self._unhandled == 1,
            )
            return
        log.exception("directory: %s not handled", kind)

    def _mend_staging(self) -> bool:
        """After a damaged-file error: True if it was the staging file, now set aside and made
        anew (_open_staging asks for a snapshot: what it held, parts or a staged copy, is gone)."""
        assert self._staging is not None
        try:
            check_intact(self._staging)
            return False
        except sqlite3.DatabaseError:
            pass
        self._staging.close()
        try:
            self._staging = self._open_staging()
        except (OSError, sqlite3.Error) as exc:
            raise _StagingLost from exc  # no staging file: the thread cannot go on
        self._retry = None
        self.applying = None
        self.versions.busy = False
        return True

    def _handle(self, kind: str, item: Any) -> None:
        now = time.monotonic()
        if kind in ("snapshot", "delta"):
            payload, kept = item
            try:
                if kind == "snapshot":
                    self._snapshot_part(payload)
                else:
                    self._delta(payload, now, kept)
            finally:
                self._settle(kept)
            return
        try:
            self._other(kind, item, now)
        finally:
            self._settle(None)

    def _other(self, kind: str, item: Any, now: float) -> None:
        if kind == "tick":
            self._drop_unfinished(now)
        if kind == "resync":
            self._act(self.versions.resync(item, now))
        elif kind == "session_lost":
            actions = self.versions.session_lost(item, now)
            if any(isinstance(a, Request) for a in actions):
                log.warning("directory: %s; asking the central server for a snapshot", item)
            self._act(actions)
        elif kind == "tick" and self._retry is not None:
            again, when = self._retry
            if now >= when:
                self._retry = None
                again()
        elif kind == "tick":
            self._act(self.versions.tick(now))

    def _snapshot_part(self, payload: bytes) -> None:
        try:
            part = parse_snapshot_part(payload)
        except DownlinkRejected as exc:
            self._reject("snapshot", exc)
            return
        if not self._takes(part.version):
            log.info("snapshot %d ignored: version %d is applied", part.version, self.versions.applied)
            return
        assert self._staging is not None
        if not save_part(self._staging, part.version, part.part, part.parts, part.total, payload):
            self._parts_since = time.monotonic()
            return
        self._stage_snapshot(part.version, part.total)

    def _stage_snapshot(self, version: int, total: int) -> None:
        """Stage the snapshot whose parts are all here, and apply it. A staging that ends with no
        verdict (its child killed by a stop, or for want of memory) keeps the parts: staged again
        after a moment, or at the next start (_take_up_parts), STAGING_TRIES times in a row."""
        assert self._staging is not None
        given_up = None
        try:
            meta = self._stage("snapshot", version, total)
        except StagingFault as exc:
            given_up = self._staging_failed("snapshot", version, exc)
            if given_up is None:
                if not self._stop.is_set():
                    self._retry = (self._take_up_parts, time.monotonic() + self._failed())
                return
        # Staged, refused or given up, its parts have served: the same version sent again starts afresh.
        drop_parts(self._staging, version)
        self._parts_since = None
        if given_up is not None:
            self._act(self._give_up("snapshot", given_up))
        elif meta["status"] != "staged":
            self._reject("snapshot", _refused("snapshot", version, meta))
        else:
            self._apply_snapshot(version, meta, start=0)

    def _take_up_parts(self) -> None:
        """Stage again the snapshot whose parts are all kept (its staging failed, or a stop cut it
        short), unless an apply is under way or the store has gone past it."""
        assert self._staging is not None
        whole = whole_parts(self._staging)
        if whole is None or self.applying is not None or self._stop.is_set():
            return
        version, total = whole
        if not self._takes(version):
            drop_parts(self._staging, version)
            return
        log.info("snapshot %d: staging its kept parts again", version)
        self._stage_snapshot(version, total)

    def _staging_failed(self, kind: str, version: int, exc: StagingFault) -> DownlinkRejected | None:
        """A staging that ended with no verdict: None while it is to be tried again, else (after
        STAGING_TRIES in a row) the `not_staged` error reply for the centre."""
        if self._stop.is_set():
            log.info(
                "%s %d: staging cut short by the stop (%s); taken up at the next start",
                kind,
                version,
                exc,
            )
            return None
        self._staging_faults += 1
        if self._staging_faults < STAGING_TRIES:
            log.error(
                "%s %d could not be staged (%d of %d tries): %s; trying again (fix: %s)",
                kind,
                version,
                self._staging_faults,
                STAGING_TRIES,
                exc,
                exc.fix,
            )
            return None
        self._staging_faults = 0
        return DownlinkRejected(
            "not_staged",
            f"{kind} {version} not applied: the gateway failed to stage it {STAGING_TRIES} times; "
            "a snapshot is asked for again later",
            version=version,
            problems=[f"{exc} (fix: {exc.fix})"],
        )

    def _give_up(self, kind: str, given_up: DownlinkRejected) -> list[Any]:
        """The centre told `not_staged`, and the snapshot that mends the chain owed on record in the
        same transaction: asked for after resync_interval_s, by the next start too if the gateway
        restarts before then (the OOM killer, a reboot: a box short of memory); sync/state says so."""
        self._reject(kind, given_up, owe=True)
        follow = self.versions.not_staged(time.monotonic())
        self._publish_state()
        return follow

    def _takes(self, version: int) -> bool:
        """Whether a snapshot of `version` is applied. One below the applied version is a resend,
        and so is one at it, unless a snapshot is asked for: then it is the centre's answer that
        its register is at the version the store holds (a copy put back, which the centre changed
        nothing since), applied again over it; ignored, the asking would go on for ever."""
        applied = self.versions.applied
        return version > applied or (version == applied and self.versions.need_snapshot)

    def _delta(self, payload: bytes, now: float, kept: int | None) -> None:
        try:
            delta = parse_delta(payload)
        except DownlinkRejected as exc:
            self._reject("delta", exc)
            self._act(self.versions.rejected("delta", exc.version, now))
            return
        previous = self._bodies.get(delta.version)
        if previous is not None and previous[1] is not None and previous[1] != kept:
            self._inbox.done([previous[1]])  # the same delta sent again: one copy is enough
        self._bodies[delta.version] = (payload, kept)
        self._act(self.versions.delta(delta.version, delta.base, now))

    def _settle(self, kept: int | None) -> None:
        """Done with the message just handled, unless it is a delta still held, and with every
        held delta that no longer waits (applied, or passed by a snapshot): off the inbox."""
        waiting = set(self.versions.held.values())
        done = [k for v, (_, k) in self._bodies.items() if v not in waiting and k is not None]
        self._bodies = {v: b for v, b in self._bodies.items() if v in waiting}
        if kept is not None and kept not in {k for _, k in self._bodies.values()}:
            done.append(kept)
        self._inbox.done(done)

    def _act(self, actions: list[Any]) -> None:
        while actions:
            action = actions.pop(0)
            if isinstance(action, Apply):
                actions += self._apply_delta(action)
            elif isinstance(action, Request):
                self._request(action.reason, action.again)
            else:
                log.info("directory: %s", action.reason)

    def _apply_delta(self, action: Apply) -> list[Any]:
        now = time.monotonic()
        held = self._bodies.get(action.version)
        if held is None:
            return self.versions.rejected("delta", action.version, now)
        try:
            counts = self._write_delta(action, held[0])
        except DownlinkRejected as exc:
            self._reject("delta", exc)
            return self.versions.rejected("delta", action.version, now)
        except StaleApply as exc:
            log.warning("directory: %s", exc)
            return self.versions.rejected("delta", action.version, now)
        except StagingFault as exc:  # no verdict on it (its staging process killed)
            given_up = self._staging_failed("delta", action.version, exc)
            if given_up is not None:
                return self._give_up("delta", given_up)
            self._hold(action)
            return []
        except Exception as exc:  # the disk, or a lock
            if damaged(exc):
                self._mend_staging()  # staged afresh when tried again
            delay = self._hold(action)
            log.error(
                "delta %d could not be applied: %s; trying again in %.1f s (fix: %s)",
                action.version,
                exc,
                delay,
                write_fix(exc, self.gw.db_path, self.staging_path),
                exc_info=self._failures == 1,
            )
            return []
        self._failures = 0
        log.info("delta %d applied on %d: %s", action.version, action.base, counts)
        self.last_applied_at = self._applied()[1]
        follow = self.versions.applied_to(action.version, time.monotonic())
        self._publish_state()
        return follow

    def _hold(self, action: Apply) -> float:
        """A delta that failed: held (so kept in the inbox) and tried again; the seconds until then."""
        self.versions.failed(action)
        delay = self._failed()
        self._retry = (lambda: self._try_again(action), time.monotonic() + delay)
        return delay

    def _write_delta(self, action: Apply, body: bytes) -> dict[str, int]:
        """Stage the delta, then apply it in one transaction; its counts. Raises DownlinkRejected
        when staging refuses it, StaleApply when the store is no longer at its base."""
        assert self._staging is not None
        save_delta(self._staging, action.version, body)
        try:
            delta = parse_delta(body)
            meta = self._stage("delta", action.version, len(delta.upsert) + len(delta.delete))
            if meta["status"] != "staged":
                raise _refused("delta", action.version, meta)
            counts: dict[str, int] = meta["counts"]
            self._worker(
                lambda conn: apply_delta(
                    conn, self.staging_path, action.version, action.base, counts, self.gw.now()
                )
            )
        finally:
            # In one transaction or not at all: no restart needs the staged copy (the inbox and
            # memory keep the body until it is in, and a retry stages it afresh).
            self._clear_staged()
        return counts

    def _try_again(self, action: Apply) -> None:
        """A delta that failed, unless a copy sent again or a snapshot has brought the store past it."""
        if action.version > self.versions.applied:
            self._act([action])

    def _apply_snapshot(self, version: int, meta: dict[str, Any], start: int) -> None:
        counts = meta["counts"]
        total = total_rows(counts)
        again = version == self.versions.applied  # the one asked for, at the version held (_takes)
        self.versions.busy = True  # deltas wait until the snapshot is in
        self._retry = None
        began = time.perf_counter()
        self.step_ms = []
        done, rows = start, self.cfg.apply_step_rows
        flusher = _WalFlusher(self.gw.db_path)
        try:
            while True:
                self.applying = {"version": version, "done": done, "total": total}
                done, rows, took = self._worker(self._steps(version, counts, done, rows, again))
                self.step_ms += took
                if done >= total:
                    break
                if self._stop.is_set():
                    log.info(
                        "snapshot %d paused at row %d of %d; a restart carries on",
                        version,
                        done,
                        total,
                    )
                    return
        except StaleApply as exc:
            log.warning("directory: %s", exc)
            self.applying = None
            self.versions.busy = False
            self._clear_staged()
            self._act(self.versions.rejected("snapshot", version, time.monotonic()))
            return
        except Exception as exc:  # the disk, most likely: the steps in stay in, the rest follows
            if damaged(exc) and self._mend_staging():
                return  # its staged copy is gone: asked for again
            delay = self._failed()
            self._retry = (lambda: self._carry_on(version), time.monotonic() + delay)
            log.error(
                "snapshot %d stopped after row %d of %d: %s; carrying on from its staged copy in "
                "%.1f s (fix: %s)",
                version,
                done,
                total,
                exc,
                delay,
                write_fix(exc, self.gw.db_path, self.staging_path),
                exc_info=self._failures == 1,
            )
            return
        finally:
            flusher.stop()
        self.applying = None
        self._failures = 0
        log.info(
            "snapshot %d applied in %.2f s, %d steps (longest %.1f ms): %s",
            version,
            time.perf_counter() - began,
            len(self.step_ms),
            max(self.step_ms, default=0),
            counts,
        )
        self._clear_staged()
        self.last_applied_at = self._applied()[1]
        follow = self.versions.snapshot_done(version, time.monotonic())
        self._publish_state()
        self._act(follow)

    def _failed(self) -> float:
        """Seconds before trying again what just failed: 1 s, doubling up to a minute."""
        self._failures += 1
        return retry_delay(self._failures, RETRY_MIN_S, RETRY_MAX_S, self._rng)

    def _worker(self, run: Callable[[sqlite3.Connection], Any]) -> Any:
        """run on the decision worker; a StaleApply is an answer, not a fault for its log."""
        result = self.gw.on_worker(lambda conn: _stale_as_value(run, conn)).result()
        if isinstance(result, StaleApply):
            raise result
        return result

    def _steps(
        self, version: int, counts: dict[str, int], done: int, rows: int, again: bool
    ) -> Callable[[sqlite3.Connection], tuple[int, int, list[float]]]:
        """Steps on the worker while no decision waits, for at most TASK_S: a card that arrives
        waits for one step (about STEP_TARGET_MS), never for the whole task."""

        def run(conn: sqlite3.Connection) -> tuple[int, int, list[float]]:
            began = time.perf_counter()

            def more() -> bool:
                return self.gw.backlog() == 0 and time.perf_counter() - began < TASK_S

            return apply_snapshot_steps(
                conn,
                self.staging_path,
                version,
                counts,
                done,
                rows,
                self.gw.now(),
                more,
                _next_rows,
                again=again,
                first_rows=self.cfg.apply_step_rows,
            )

        return run

    def _sync_state(self) -> tuple[int, int | None, int]:
        """(applied_version, applying_version, applying_done)."""
        row = self._read_sync_state("applied_version, applying_version, applying_done")
        return int(row[0]), row[1], int(row[2])

    def _applied(self) -> tuple[int, str | None]:
        """(applied_version, when it was applied in the site's time), as the store has them: the
        same after a restart."""
        version, at = self._read_sync_state("applied_version, applied_at")
        when = from_db(at)
        return int(version), when.astimezone(self.gw.site.tz).isoformat() if when else None

    def _read_sync_state(self, columns: str) -> tuple[Any, ...]:
        """On a connection of our own."""
        with contextlib.closing(open_read_only(self.gw.db_path, 10)) as conn:
            return tuple(conn.execute(f"SELECT {columns} FROM sync_state").fetchone())

    def _register_kept_by_hand(self) -> bool:
        """Whether the register holds residents though no snapshot was ever applied."""
        with contextlib.closing(open_read_only(self.gw.db_path, 10)) as conn:
            return conn.execute("SELECT 1 FROM residents LIMIT 1").fetchone() is not None

    def _register_behind(self) -> str | None:
        with contextlib.closing(open_read_only(self.gw.db_path, 10)) as conn:
            return register_maybe_behind(conn)

    def _resume(self) -> None:
        """A snapshot cut short by a restart is finished from its staged copy, or asked for. A
        register the centre keeps, on a database put back from an older copy, is asked for."""
        applied, version, _ = self._sync_state()
        behind = self._register_behind() if applied > 0 else None
        if behind is not None:
            # A card the centre struck off since the copy was made opens again until then.
            log.warning("directory: %s; asking the central server for a snapshot", behind)
            self._act(self.versions.resync(behind, time.monotonic()))
        if version is not None:
            self._carry_on(version)
            self._take_up_parts()
            return
        # Staged, then stopped (a kill) before its first step went in: its parts are gone.
        assert self._staging is not None
        meta = read_meta(self._staging)
        if meta and meta["kind"] == "snapshot" and meta["status"] == "staged" and meta["version"] > applied:
            self._carry_on(meta["version"])
            self._take_up_parts()
            return
        # Nothing to finish: what is staged has served (a kill after an apply, or a file from
        # before the staged copy was emptied after each one).
        self._clear_staged()
        # A snapshot received whole whose staging a stop cut short (its child killed with it).
        self._take_up_parts()
        if applied == 0 and self.versions.applied == 0 and not self._register_kept_by_hand():
            # An empty register (a new box, a fresh gateway.db): every resident is refused
            # `unknown` until one comes, and the centre sends one when asked. Asked as for a lost
            # inbox, and again every resync_interval_s until a snapshot is in. A register kept by
            # `gateway import` or the admin pages (no snapshot ever applied) is not empty: asking
            # would go on every resync_interval_s for one that never comes.
            reason = "the register is empty (applied version 0): a new box or a new database"
            self._act(self.versions.resync(reason, time.monotonic()))

    def _owed(self) -> None:
        """A snapshot given up `not_staged` before the last stop (_give_up): still owed, asked for
        once resync_interval_s has passed since it was given up, not at once (a box short of memory)."""
        since = from_db(self._read_sync_state("snapshot_owed_at")[0])
        if since is None:
            return
        ago = elapsed(since, self.gw.now()).total_seconds()
        log.info(
            "directory: a snapshot given up not staged %.0f s ago is still owed; asked for %s",
            ago,
            "now" if ago >= self.versions.resync_interval else "once resync_interval_s has passed",
        )
        self.versions.not_staged(time.monotonic(), ago)

    def _carry_on(self, version: int) -> None:
        """Finish snapshot `version` from the step the store reached, from its staged copy; ask
        for the snapshot again only if that copy is gone."""
        self._retry = None
        _, applying, step = self._sync_state()
        start = step if applying == version else 0  # 0: its first step never went in
        assert self._staging is not None
        meta = read_meta(self._staging)
        if meta and meta["version"] == version and meta["kind"] == "snapshot" and meta["status"] == "staged":
            log.info("snapshot %d: carrying on from row %d", version, start)
            self._apply_snapshot(version, meta, start=start)
            return
        log.warning("snapshot %d was cut short and its staged copy is gone; asking again", version)
        self._clear_staged()
        self.applying = None
        self.versions.busy = False
        reason = f"snapshot {version} was cut short and its staged copy is gone"
        self._act(self.versions.resync(reason, time.monotonic()))

    # -- pieces ----------------------------------------------------------------------------------

    def _drop_unfinished(self, now: float) -> None:
        """The parts of a snapshot whose others have not come for UNFINISHED_PARTS_S go, and the
        snapshot is asked for again."""
        if self._parts_since is None or now - self._parts_since < UNFINISHED_PARTS_S:
            return
        self._parts_since = None
        assert self._staging is not None
        dropped = drop_parts(self._staging)
        if dropped:
            reason = (
                f"snapshot {dropped[-1]} did not arrive whole: no part of it for "
                f"{UNFINISHED_PARTS_S:.0f} s, the parts received are dropped"
            )
            log.warning("directory: %s", reason)
            self._act(self.versions.resync(reason, now))

    def _clear_staged(self) -> None:
        """Empty the staged copy (an apply is over); a failure waits for the next apply or start."""
        assert self._staging is not None
        try:
            clear_staged(self._staging)
        except sqlite3.Error as exc:
            log.warning(
                "the staged copy in %s could not be emptied: %s; it is emptied after the next apply "
                "or at the next start (fix: %s)",
                STAGING_NAME,
                exc,
                write_fix(exc, self.staging_path),
            )

    def _stage(self, kind: str, version: int, entries: int) -> dict[str, Any]:
        """Staging's verdict on the received data; raises StagingFault when there is none."""
        assert self._staging is not None
        job = site_job(self.gw.site.config, self.gw.data_dir, self.gw.db_path, kind, version)
        meta = run_stage(job, entries, self._staging)
        self._staging_faults = 0
        return meta

    def _reject(self, kind: str, exc: DownlinkRejected, owe: bool = False) -> None:
        """The error reply, its texts cut to fit in one message on `sync/error`: one over
        max_message_bytes would be set aside, and the central server never answered. owe: a
        snapshot is owed from now on (_give_up). A message refused whole (malformed, unsupported,
        too_large) has its one problem in `problems` too, as staging's refusals have: the centre reads
        `problems` for every refusal, and until Review 63r found it empty."""
        self.rejected += 1
        error = fit(
            {
                "kind": kind,
                "version": exc.version,
                "code": exc.code,
                "message": exc.message,
                "problems": (exc.problems or [exc.message])[:50],
            },
            self._error_room,
        )
        log.warning(
            "%s refused code=%s version=%s: %s %s",
            kind,
            exc.code,
            exc.version,
            error["message"],
            "; ".join(error["problems"][:5]),
        )
        self._outbox("sync_error", error, owe)

    def _request(self, reason: str, again: bool = False) -> None:
        """A sync_request into the outbox. One asked `again` for no new cause (still no snapshot,
        every resync_interval_s) is not queued while an earlier request waits unsent there (the link
        down, or records before it): that one goes up when it can, and asks for the same. Until
        Review 66 G a day offline queued one every interval, hundreds, all sent at once on the
        reconnect and each answered with a snapshot. Once the last one went up and no snapshot
        came, asked again as before; a new cause (a session lost, a gap, a restart) is always
        queued, with its reason and the version held."""
        if not again:
            log.info("asking the central server for a snapshot: %s", reason)
            self._outbox("sync_request", {"have_version": self.versions.applied, "reason": reason})
            self._publish_state()
            return
        at = self.gw.now()
        body = {"at": at.isoformat(), "have_version": self.versions.applied, "reason": reason}

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                waiting = first_unsent(conn, "sync_request")
                if waiting is None:
                    enqueue(conn, "sync_request", body, at)
            if waiting is None:
                log.info("asking the central server for a snapshot: %s", reason)
            else:
                log.debug(
                    "asking the central server for a snapshot: %s; not queued: the request seq=%d "
                    "waits unsent in the outbox (the link down, or records before it)",
                    reason,
                    waiting,
                )

        self.gw.on_worker(Unwaited("the sync_request record", write))
        self._publish_state()

    def _outbox(self, record_type: str, payload: dict[str, Any], owe: bool = False) -> None:
        at = self.gw.now()

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                enqueue(conn, record_type, {"at": at.isoformat(), **payload}, at)
                if owe:
                    conn.execute("UPDATE sync_state SET snapshot_owed_at = ?", (to_db(at),))

        self.gw.on_worker(Unwaited(f"the {record_type} record", write))

    def _publish_state(self) -> None:
        self._retain(
            self._topic_state,
            {
                "v": 1,
                "type": "sync_state",
                "site": self.gw.site.config.site.id,
                "at": self.gw.now().isoformat(),
                "applied_version": self.versions.applied,
                "applied_at": self.last_applied_at,
                "need_snapshot": self.versions.need_snapshot,
            },
        )


class _StagingLost(Exception):
    """The damaged staging file could not be made anew: the directory stops, and says why."""


def _refused(kind: str, version: int, meta: dict[str, Any]) -> DownlinkRejected:
    """A snapshot or delta that staging refused: `incomplete` (its parts do not add up) or
    `invalid` (entries or references wrong), with staging's problems."""
    return DownlinkRejected(
        meta.get("code") or "invalid",
        f"{kind} {version} refused, nothing of it applied",
        version=version,
        problems=meta["problems"],
    )


def _next_rows(rows: int, took_ms: float) -> int:
    """Rows for the next step: steer each step towards STEP_TARGET_MS, a step's cost drifting
    with the table a phase writes and with the machine."""
    if took_ms <= 0:
        return min(rows * 2, 5000)
    wanted = rows * STEP_TARGET_MS / took_ms
    return max(20, min(5000, int(min(wanted, rows * 2))))


class _WalFlusher:
    """Flushes the WAL to disk every few milliseconds while a snapshot is applied.

    Steps commit without waiting for the disk; the next decision's commit, which does wait, would
    otherwise flush all the steps' writes since the last one and pay for them. Flushing them in
    the background, overlapped with the steps' own work, leaves a decision its own few pages.
    """

    def __init__(self, db_path: Path, every_s: float = 0.01):
        self._stop = threading.Event()
        self._path = Path(f"{db_path}-wal")
        self._every = every_s
        self._thread = threading.Thread(target=self._run, name="wal-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except OSError:
            return
        try:
            while not self._stop.wait(self._every):
                os.fsync(fd)
        except OSError as exc:
            log.debug("WAL flush stopped: %s", exc)
        finally:
            os.close(fd)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def _stale_as_value(run: Callable[[sqlite3.Connection], Any], conn: sqlite3.Connection) -> Any:
    try:
        return run(conn)
    except StaleApply as exc:
        return exc
