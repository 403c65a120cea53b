"""The runtime: presentations in, decisions recorded, then gates opened and everyone told.

One worker thread owns the write connection, so decisions are taken one at a time in arrival order:
drivers -> queue -> lookup -> decide -> record (one transaction) -> relay, display, listeners.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from drivers.cameras.snapshots import SnapshotWriter
from drivers.health import DeviceHealth
from gateway.alarm_texts import AlarmText
from gateway.config.models import SiteConfig
from gateway.core import TYPED_BY, Decision, Facts, LaneRules, Presented, Reason, decide
from gateway.core.credentials import BadCredential, canonical
from gateway.core.model import is_passage
from gateway.errors import GatewayError, NotFound, Refused
from gateway.events import AccessEvent
from gateway.ids import uuid7
from gateway.parking.operations import Operations, worker_of
from gateway.parking.retention import Room, make_room
from gateway.parking.service import ParkingDesk
from gateway.privacy import Secrets, mask_card
from gateway.runtime.again import DecidedAgain
from gateway.runtime.devices import ChooserFor, Devices, build_devices
from gateway.runtime.hand_opens import LaneRecord, WaitingRecords
from gateway.runtime.lanes import LaneControl
from gateway.runtime.plate_match import RegisteredPlates
from gateway.runtime.texts import display_lines
from gateway.site import Site
from gateway.store.alarms import DEVICE_ALARMS, UPLOAD_ALARMS, clear_alarm, clear_open_alarms, raise_alarm
from gateway.store.database import DB_NAME, begin_immediate, open_database
from gateway.store.lanes import LANE_MODES, lane_modes, set_lane_mode
from gateway.store.lookup import lookup
from gateway.store.patrol import record_tap
from gateway.store.record import write_event

log = logging.getLogger(__name__)

Listener = Callable[[AccessEvent], None]
T = TypeVar("T")

# Decisions waiting together share one commit; more than this and the first ones would wait too long.
MAX_BATCH = 64
LANE_RECORD_WAIT_S = 10.0  # a lane held, released, closed by hand waits this long for its record
CHECKPOINT_EVERY_S = 1.0
SWITCH_INTERVAL_S = 0.001


@dataclass(frozen=True, slots=True)
class _Job:
    presented: Presented
    received: float  # perf_counter when the driver handed it over


@dataclass(frozen=True, slots=True)
class _Task:
    """Any other write (alarms, guard actions, sync): run on the worker, which owns the connection."""

    run: Callable[[sqlite3.Connection], Any]
    future: Future[Any]


def _room_to_start(cfg: SiteConfig) -> Room | None:
    """A data disk full of snapshots (the gateway was down, so its disk guard was) would keep the
    database from opening: the oldest snapshots go first, as the disk guard would delete them.
    What went is reported by the first disk guard (a log line, and the alarm if footage was lost)."""
    ret, data_dir = cfg.retention, cfg.site.data_dir
    if not data_dir.is_dir():
        return None  # a new site: open_database makes it, or says why it cannot
    room = make_room(data_dir, data_dir / "snapshots", ret.prune_free_percent, ret.alarm_free_percent)
    return room if room.plan.delete else None


class Gateway:
    def __init__(self, cfg: SiteConfig, chooser_for: ChooserFor | None = None):
        self.site = Site.from_config(cfg)
        self.data_dir = cfg.site.data_dir
        self.db_path = self.data_dir / DB_NAME
        start_room = _room_to_start(cfg)
        self.db = open_database(self.db_path, sync=cfg.storage.sync)
        self.conn: sqlite3.Connection = self.db.conn
        self.secrets = Secrets.load_or_create(self.data_dir)
        # Unbounded: card reads are never dropped.
        self._jobs: queue.Queue[_Job | _Task | None] = queue.Queue()
        self._started = False  # device changes before start() are settled by start()
        self.devices: Devices = build_devices(cfg, chooser_for, on_change=self._device_changed)
        self.parking = ParkingDesk(self.site)
        self.lane_io = LaneControl(self.devices, self.on_worker, self.now, set(self.site.lanes))
        self.snapshots = SnapshotWriter(self.data_dir) if self.devices.snapshot_quality else None
        self._pulse_seconds = {lane.id: lane.pulse_seconds for lane in cfg.lanes}
        self._plate_match = {lane.id: lane.plate_match for lane in cfg.lanes}
        self._lookalikes = (
            RegisteredPlates(self.db_path) if "confusable" in self._plate_match.values() else None
        )
        # Lanes a guard or the central server closed: nobody is admitted there until reopened.
        self.lane_modes: dict[str, str] = lane_modes(self.conn)
        # Uptime on the monotonic clock: a Pi boots on fake-hwclock's stale time and NTP steps it.
        self._up_since = time.monotonic()
        self.latencies_ms: deque[float] = deque(maxlen=10_000)
        self.decisions = 0
        self.storage_failures = 0
        self.rejected = 0  # presentations with values no credential can have
        self._listeners: list[Listener] = []
        self._worker: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._last_tick = time.monotonic()
        # Daily reports, patrol rounds, retention and the disk guard; its writes come to the worker.
        worker = worker_of(self.on_worker)
        self.operations = Operations(
            self.site, self.db_path, self.data_dir, worker, self.now(), start_room=start_room
        )
        self.held: dict[str, str] = {}  # lane -> who holds it open by hand
        self._again = DecidedAgain(self.devices)  # the same car decided again at a lane
        # Lane records that wait for storage: single opens by hand, and relays that failed by hand.
        self._waiting = WaitingRecords(self.data_dir)

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        # A reader thread woken by a card's last byte waits for the GIL up to this long while a
        # camera or the HTTP server holds it; Python's default of 5 ms would be the whole budget.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        # Checkpoints (copying the WAL into the database, with its own disk flushes) run on a
        # thread of their own, so that no decision's commit ever waits for one.
        self.conn.execute("PRAGMA wal_autocheckpoint=0")
        self._checkpointer = threading.Thread(target=self._checkpoint, name="checkpoint", daemon=True)
        self._checkpointer.start()
        self._worker = threading.Thread(target=self._work, name="decisions", daemon=True)
        self._worker.start()
        self._started = True
        self.on_worker(self._settle_alarms)
        self.lane_io.start()
        for lane_id, lane in self.devices.lanes.items():
            for source in lane.sources:
                source.start(self._emitter(lane_id, source.health.device))
        self.operations.start(self.now)
        log.info(
            "gateway started site=%s lanes=%d devices=%d db=%s",
            self.site.config.site.id,
            len(self.site.lanes),
            len(self.devices.health),
            self.db_path,
        )

    def stop(self) -> None:
        self.operations.stop()
        for source in self.devices.sources():
            source.stop()
        self._jobs.put(None)
        if self._worker is not None:
            self._worker.join(timeout=10)  # its last job: the lane records still waiting
        self._waiting.write_at_stop(None)  # a worker that never ran or never finished: logged only
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
        self.devices.close()
        if self.snapshots is not None:
            self.snapshots.close()
        self.conn.close()
        log.info("gateway stopped")

    def _checkpoint(self) -> None:
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            while not self._stopping.wait(CHECKPOINT_EVERY_S):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("checkpoint failed: %s", exc)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def alive(self) -> bool:
        """For the watchdog: the worker thread runs and has looped in the last few seconds."""
        worker_ok = self._worker is not None and self._worker.is_alive()
        return worker_ok and time.monotonic() - self._last_tick < 5

    def backlog(self) -> int:
        return self._jobs.qsize()

    def present(self, p: Presented) -> bool:
        """Hand a presentation to the decision worker (thread-safe, never blocks, never drops).

        A value no credential can have (a bad frame a driver let through, an unknown kind) is
        logged and counted instead, and False returned.
        """
        try:
            if p.lane not in self.site.lanes:
                raise BadCredential(f"lane {p.lane!r} is not in the site config")
            value = canonical(p.kind, p.value)
        except BadCredential as exc:
            self.rejected += 1
            # A card number is logged by its last four characters, here as in decisions.
            why = str(exc).replace(p.value, mask_card(p.value)) if p.kind == "card" and p.value else exc
            log.warning(
                "presentation ignored lane=%s device=%s: %s; fix: check the device's "
                "driver and format settings",
                p.lane,
                p.device or "-",
                why,
            )
            return False
        if value != p.value:
            p = replace(p, value=value)
        self._jobs.put(_Job(p, time.perf_counter()))
        return True

    def on_worker(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run `run(connection)` on the decision worker, in turn with decisions (thread-safe)."""
        future: Future[T] = Future()
        self._jobs.put(_Task(run, future))
        return future

    def now(self) -> datetime:
        return datetime.now(self.site.tz)

    def uptime_s(self) -> float:
        """Seconds since the gateway started, however the wall clock stepped meanwhile."""
        return time.monotonic() - self._up_since

    # Lanes by hand (a guard's page, a remote command): audited and queued upstream first, then the
    # relays move; the barrier watch is told, so the opening is not taken for a forced one. The lane
    # counts as held only once its relays hold it: a failed hold must not switch off forced-open
    # alarms. A relay that fails is recorded as `<action>_failed` (audit and upstream), that record
    # waiting in memory, as a single opening's does, while the disk takes no writes.
    def open_lane(self, lane: str, actor: str, reason: str) -> bool:
        """Open a lane once by hand. On a disk that takes no writes, or a database another process
        holds locked (past HAND_OPEN_WAIT_S), it opens all the same (the guard is signed in and
        means it: residents must not be locked out) and returns False: its record waits in memory
        and is written, with this time, as soon as storage takes writes again."""
        self._check_lane(lane, "open", reason)
        ref = self._write_or_keep(LaneRecord(self.now(), lane, "open", actor, reason.strip()))
        self.lane_io.barriers.commanded(lane, time.monotonic())
        self._drive(lane, actor, "open", lambda relay: relay.pulse(self._pulse_seconds[lane], ref))
        return ref.startswith("audit:")

    def hold_lane(self, lane: str, actor: str, reason: str) -> None:
        """Keep a lane open (a convoy, an ambulance) until release_lane. A closed lane is reopened
        first, on record (held up, it is not closed), and closed again if its barrier cannot be held."""
        self._check_lane(lane, "hold", reason)
        reopened = self.lane_modes.get(lane) == "closed"
        if reopened:
            self.set_lane_mode(lane, "normal", actor, reason)
        try:
            self._record_lane(lane, actor, "hold", reason)
            self.lane_io.barriers.commanded(lane, time.monotonic())
            self._drive(lane, actor, "hold", lambda relay: relay.hold())
        except GatewayError:
            if reopened:
                self.set_lane_mode(lane, "closed", actor, f"{reason.strip()}: the barrier was not held up")
            raise
        self.held[lane] = actor
        self.lane_io.barriers.held(lane, True, time.monotonic())

    def release_lane(self, lane: str, actor: str, reason: str) -> None:
        self._check_lane(lane, "release", reason)
        self._record_lane(lane, actor, "release", reason)
        self._drive(lane, actor, "release", lambda relay: relay.release())
        self.held.pop(lane, None)
        self.lane_io.barriers.held(lane, False, time.monotonic())

    def set_lane_mode(self, lane: str, mode: str, actor: str, reason: str) -> None:
        """normal; open (held open, as hold_lane); or closed: everyone at the lane is refused
        (reason lane_closed) until it is set back to normal, across restarts too."""
        if mode not in LANE_MODES:
            raise Refused(
                f"lane mode {mode!r} is not one of {list(LANE_MODES)}", fix="use normal, open or closed"
            )
        if mode == "open":
            self.hold_lane(lane, actor, reason)
            return
        if lane in self.held:
            self.release_lane(lane, actor, reason)
        if mode == "normal" and self.lane_modes.get(lane) != "closed":
            return
        action = "close" if mode == "closed" else "reopen"
        self._check_lane(lane, action, reason, needs_relay=False)
        record = LaneRecord(self.now(), lane, action, actor, reason.strip())

        def write(conn: sqlite3.Connection) -> int:
            # The mode with its record, in one transaction: written apart, a kill between them left
            # a lane closed on record (here and upstream) that a card opened after the restart.
            audit_id = record.write(conn, lambda c: set_lane_mode(c, lane, mode, record.at, actor))
            if mode == "closed":
                self.lane_modes[lane] = mode
            else:
                self.lane_modes.pop(lane, None)
            return audit_id

        self._write_lane(record, write)

    def _check_lane(self, lane: str, action: str, reason: str, needs_relay: bool = True) -> None:
        if lane not in self.site.lanes:
            raise NotFound(f"no lane {lane!r}", fix=f"use one of {sorted(self.site.lanes)}")
        if not reason.strip():
            raise Refused(f"a reason is needed to {action} a lane by hand", fix="say why, e.g. 救护车")
        if needs_relay and not self.devices.lanes[lane].relays:
            raise Refused(
                f"lane {lane} has no relay to {action}",
                fix="add a relay device for this lane to the site config",
            )

    def _record_lane(self, lane: str, actor: str, action: str, reason: str) -> str:
        return self._write_lane(LaneRecord(self.now(), lane, action, actor, reason.strip()))

    def _write_lane(
        self, record: LaneRecord, write: Callable[[sqlite3.Connection], int] | None = None
    ) -> str:
        # Audited before any relay moves: a gate never opens by hand without its record on disk,
        # but for a single opening when storage takes no writes (open_lane). A relay's failure is
        # recorded after it moved, kept in memory too then (_drive).
        audit_id = _answer(self._on_worker_now(write or record.write), LANE_RECORD_WAIT_S)
        log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return f"audit:{audit_id}"

    def _write_or_keep(self, record: LaneRecord) -> str:
        """A record of what the relays do whether or not it can be written (WaitingRecords)."""
        ref = self._waiting.write_or_keep(record, self._on_worker_now)
        if ref.startswith("audit:"):
            log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return ref

    def _on_worker_now(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """on_worker, or at once when called on the worker (a task queued there would wait for itself)."""
        if threading.current_thread() is not self._worker:
            return self.on_worker(run)
        future: Future[T] = Future()
        try:
            future.set_result(run(self.conn))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def unrecorded_opens(self) -> int:
        """Lane records whose audit row and upstream record still wait for storage: single opens by
        hand (open_lane), and relays that failed by hand (`<action>_failed`)."""
        return self._waiting.waiting()

    def _drive(self, lane: str, actor: str, action: str, act: Callable[[Any], None]) -> None:
        failed = []
        for relay in self.devices.lanes[lane].relays:
            try:
                act(relay)
            except Exception as exc:
                relay.health.set_offline(f"{action} by hand failed: {exc}")
                failed.append(f"{relay.health.device}: {exc}")
        if failed:
            error = f"{action} on lane {lane} failed: {'; '.join(failed)}"
            failure = LaneRecord(self.now(), lane, f"{action}_failed", actor, "", error)
            self._write_or_keep(failure)
            raise GatewayError(
                error, fix="check the relay's cable and power; the device list shows which one is offline"
            )

    def _device_changed(self, health: DeviceHealth, online: bool) -> None:
        if not self._started:
            return  # start() settles every device's alarm at once
        self.on_worker(lambda conn: self._device_alarm(conn, health, online))

    def _device_alarm(self, conn: sqlite3.Connection, health: DeviceHealth, online: bool) -> None:
        source, at = health.device, self.now()
        if online:
            clear_alarm(conn, "device_offline", source, at)
            clear_alarm(conn, "repair_overdue", source, at)  # repaired: the deadline is met or moot
        else:
            params = {"device_kind": health.kind, "device": source, "lane": health.lane}
            text = AlarmText("device_offline", {**params, "error": health.last_error})
            raise_alarm(conn, "device_offline", source, text, at)

    def _settle_alarms(self, conn: sqlite3.Connection) -> None:
        """At start: a device that is back clears the alarm an earlier run left open; one that is
        missing (a reader unplugged while the gateway was down) raises it now. Alarms nothing could
        clear under this config are cleared: those of a device taken out of it (a broken camera
        replaced by one under a new id), and the upload alarms with MQTT off (nothing is sent, so
        nothing is behind; the records stay queued for when it is turned on)."""
        for health in self.devices.health:
            if health.online or health.last_error:
                self._device_alarm(conn, health, health.online)
        configured = {health.device for health in self.devices.health}
        for kind, source in clear_open_alarms(conn, DEVICE_ALARMS, self.now(), keep=configured):
            log.info("alarm %s cleared: device %s is no longer in the site config", kind, source)
        if not self.site.config.mqtt.enabled:
            for kind, _ in clear_open_alarms(conn, UPLOAD_ALARMS, self.now()):
                log.info("alarm %s cleared: MQTT is off, no record waits to go upstream", kind)

    def _emitter(self, lane: str, device: str) -> Callable[[str, str, float], None]:
        if device in self.devices.patrol:
            return self._patrol_tap(lane, device)

        def emit(kind: str, value: str, confidence: float) -> None:
            at = self.now()
            snapshot = self._snapshot(lane, device)
            # Asked on the camera's thread right after its reader decided, so it is that decision's.
            again = kind == "plate" and self.standing(lane, value)
            self.present(Presented(lane, kind, value, confidence, at, device, snapshot, again=again))  # type: ignore[arg-type]

        return emit

    def standing(self, lane: str, plate: str) -> bool:
        """A plate camera of the lane last decided this plate again (DecidedAgain.standing)."""
        return self._again.standing(lane, plate)

    def _patrol_tap(self, lane: str, device: str) -> Callable[[str, str, float], None]:
        def tap(kind: str, value: str, confidence: float) -> None:
            at = self.now()
            try:
                card = canonical("card", value)
            except BadCredential as exc:
                self.rejected += 1
                log.warning("patrol tap ignored checkpoint=%s: %s", device, exc)
                return
            log.info("patrol tap checkpoint=%s card=%s", device, mask_card(card))
            self.on_worker(lambda conn: record_tap(conn, uuid7(), at, device, lane, card))

        return tap

    def _snapshot(self, lane: str, device: str) -> str | None:
        """Name the JPEG of the lane now; it is written in the background (None: no fresh frame)."""
        if self.snapshots is None:
            return None
        cameras = sorted(self.devices.lanes[lane].cameras, key=lambda c: c.health.device != device)
        for camera in cameras:
            quality = self.devices.snapshot_quality.get(camera.health.device)
            frame = camera.snapshot_frame() if quality else None
            if frame is not None:
                return self.snapshots.submit(frame, camera.health.device, quality or 85)
        return None

    def _work(self) -> None:
        held: list[_Job | _Task | None] = []  # what ended the last batch, taken before the queue
        while True:
            try:
                job = held.pop() if held else self._jobs.get(timeout=1.0)
            except queue.Empty:
                self._last_tick = time.monotonic()
                self._waiting.write_waiting(self.conn)
                continue
            self._last_tick = time.monotonic()
            if job is None:
                self._waiting.write_at_stop(self.conn)
                return
            if isinstance(job, _Task):
                self._run_task(job)
            else:
                batch = self._gather(job, held)
                try:
                    self.decide_batch(batch)
                except Exception:  # one bad presentation must never stop the lanes
                    log.exception("decisions failed lanes=%s", {j.presented.lane for j in batch})
            self._waiting.write_waiting(self.conn)

    def _gather(self, first: _Job, held: list[_Job | _Task | None]) -> list[_Job]:
        """Presentations already waiting join one transaction (group commit), up to MAX_BATCH."""
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if not isinstance(job, _Job):
                held.append(job)  # a task or the stop marker keeps its turn after this batch
                break
            batch.append(job)
        return batch

    def _run_task(self, task: _Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        try:
            task.future.set_result(task.run(self.conn))
        except GatewayError as exc:  # refused for a reason the caller reports (not found, ...)
            task.future.set_exception(exc)
        except BaseException as exc:
            log.exception("task on the decision worker failed")
            task.future.set_exception(exc)

    def handle(self, p: Presented, received: float | None = None) -> AccessEvent:
        """Decide one presentation now, record it durably, then act on it (worker thread only)."""
        job = _Job(p, time.perf_counter() if received is None else received)
        return self.decide_batch([job])[0]

    def decide_batch(self, jobs: list[_Job]) -> list[AccessEvent]:
        """Decide each in order, commit them all in one transaction, then open gates and tell."""
        events: list[tuple[AccessEvent, _Job]] = []
        begin_immediate(self.conn)
        try:
            for job in jobs:
                events.append((self._decide_alone(job.presented), job))
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:  # never leave it open: every later decision would fail
                self.conn.execute("ROLLBACK")
            if not isinstance(exc, sqlite3.Error):
                raise
            # Never open a gate for a decision that is not on disk; the guard can still open by hand.
            self.storage_failures += len(jobs)
            log.error(
                "cannot record %d decision(s), gates stay shut error=%s "
                "fix=free disk space in %s or check its permissions",
                len(jobs),
                exc,
                self.data_dir,
            )
            events = [(self._failed(job.presented), job) for job in jobs]
        for ev, job in events:
            self._again.remember(job.presented.value, ev)
            self._after(ev, job.received)
        return [ev for ev, _ in events]

    def _decide_alone(self, p: Presented) -> AccessEvent:
        """One presentation of the batch, in a savepoint: a fault in deciding it that is not the
        database's (a bug) undoes only its own writes, and only its gate stays shut."""
        if p.lane not in self.site.lanes:
            raise ValueError(f"unknown lane {p.lane!r}")
        self.conn.execute("SAVEPOINT one")
        try:
            ev = self._decide_one(p)
        except sqlite3.Error:
            raise  # the disk or the database: the whole batch fails, as none of it can be stored
        except Exception:
            self.conn.execute("ROLLBACK TO one")
            self.conn.execute("RELEASE one")
            log.exception("deciding failed lane=%s kind=%s: the gate stays shut", p.lane, p.kind)
            return self._failed(p)
        self.conn.execute("RELEASE one")
        return ev

    def _decide_one(self, p: Presented) -> AccessEvent:
        lane = self.site.lanes.get(p.lane)
        if lane is None:
            raise ValueError(f"unknown lane {p.lane!r}")
        read = p.value
        previous = self._again.last(p.lane, read) if p.again else None
        taken = previous if previous is not None and previous.decision.admitted else None
        if taken is not None:
            # The same car let through here a moment ago: taken for what it was let through as.
            p = replace(p, value=taken.value)
        facts = lookup(self.conn, p, lane, self.site.capacity)
        before = None
        if taken is None:  # let through again, it moves no stay and pays nothing: no fee to work out
            p, facts = self._lookalike(p, lane, facts)
            facts, before = self.parking.prepare(self.conn, p, lane, facts)  # the fee owed at an exit
        closed = self.lane_modes.get(p.lane) == "closed"
        facts = replace(facts, previous_here=previous.decision if previous else None, lane_closed=closed)
        decision = decide(p, facts, self.site.policy)
        if p.value != read:
            decision = replace(decision, flags=(*decision.flags, "lookalike", f"read:{read}"))
        ev = AccessEvent.of(p, facts, decision, snapshot=p.snapshot)
        write_event(self.conn, ev, lane.direction, lane.type)
        if is_passage(decision.flags):  # a car decided again was charged, if at all, the first time
            self.parking.settle(self.conn, ev, lane, before)  # charge, payments, shared-slot handover
        return ev

    def _lookalike(self, p: Presented, lane: LaneRules, facts: Facts) -> tuple[Presented, Facts]:
        """At a lane that allows it, a plate nobody registered is read as the one registered plate a
        look-alike character away. Never a plate a guard typed (what is on the car: no guessing), nor
        one recorded inside as read (a stranger's car let in on its typed plate leaves as itself),
        nor a match deleted since the look-alike index was built."""
        if (
            facts.credential is not None
            or facts.inside
            or p.kind != "plate"
            or self._lookalikes is None
            or self._plate_match.get(p.lane) != "confusable"
            or p.device.startswith(TYPED_BY)
        ):
            return p, facts
        matched = self._lookalikes.resolve(p.value)
        if matched is None:
            return p, facts
        read_as = replace(p, value=matched)
        found = lookup(self.conn, read_as, lane, self.site.capacity)
        return (read_as, found) if found.credential is not None else (p, facts)

    def decide_after(self, prepare: Callable[[sqlite3.Connection], Presented]) -> Future[AccessEvent]:
        """On the worker, in one transaction: `prepare` writes (a guard's payment) and names a
        presentation, which is then decided and recorded; the gate acts after the commit."""
        return self.on_worker(lambda conn: self.decide_now(prepare))

    def decide_now(self, prepare: Callable[[sqlite3.Connection], Presented]) -> AccessEvent:
        """decide_after() on the calling thread (worker thread only, like handle())."""
        received = time.perf_counter()
        begin_immediate(self.conn)
        try:
            p = prepare(self.conn)
            ev = self._decide_one(p)
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self._again.remember(p.value, ev)
        self._after(ev, received)
        return ev

    def _failed(self, p: Presented) -> AccessEvent:
        """Refused storage_failed: nothing could be recorded. Whose card or plate it is still shows
        (a full or locked database still reads), for the guard who may open by hand."""
        lane = self.site.lanes[p.lane]
        try:
            facts = lookup(self.conn, p, lane, self.site.capacity)
        except Exception:  # the database cannot even be read: the event names the credential only
            facts = Facts(lane=lane)
        return AccessEvent.of(p, facts, Decision(Reason.STORAGE_FAILED), p.snapshot)

    def _after(self, ev: AccessEvent, received: float) -> None:
        self.decisions += 1
        self._act(ev)
        self.latencies_ms.append((time.perf_counter() - received) * 1000)
        log.info(
            "decision lane=%s kind=%s value=%s admitted=%s reason=%s flags=%s",
            ev.lane,
            ev.kind,
            ev.value if ev.kind == "plate" else mask_card(ev.value),
            ev.admitted,
            ev.reason,
            ",".join(ev.flags) or "-",
        )
        for listener in self._listeners:
            try:
                listener(ev)
            except Exception:
                log.exception("event listener failed")

    def _act(self, ev: AccessEvent) -> None:
        devices = self.devices.lanes[ev.lane]
        if ev.kind == "plate" and ev.device.startswith(TYPED_BY):
            # The guard typed it (the camera could not read it, or a fee was taken): the lane's
            # cameras must not decide the same car again when they read it a moment later.
            for reader in devices.plate_readers:
                reader.hold(ev.value)
        if ev.admitted:
            self.lane_io.opening(ev.lane)  # before the pulse: the barrier's feedback may be quick
            for relay in devices.relays:
                try:
                    relay.pulse(self._pulse_seconds[ev.lane], ev.event_id)
                except Exception as exc:
                    relay.health.set_offline(f"pulse failed: {exc}")
        lines = display_lines(ev, self.site.config.site.language, self.site.lanes[ev.lane].direction)
        for display in devices.displays:
            try:
                display.show(lines)
            except Exception as exc:
                display.health.set_offline(f"show failed: {exc}")


def _answer(future: Future[T], timeout_s: float) -> T:
    """The result of a write on the worker. Past `timeout_s`, one not started yet is cancelled, so
    that the busy answer ("did not save this") holds, and one under way is waited for (the busy
    timeout bounds it)."""
    try:
        return future.result(timeout=timeout_s)
    except FutureTimeout:
        if future.cancel():
            raise
        return future.result()
