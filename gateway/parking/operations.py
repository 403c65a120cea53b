"""The estate's clockwork: daily reports, patrol rounds, repair deadlines, retention and the disk guard.

A thread of its own wakes every TICK_S; whatever it writes goes through the decision worker
(Gateway.on_worker), and whatever it only reads it reads on its own read-only connection, so that
a report or a retention pass never holds up a lane for long. The steps of the wall clock it sees
are followed, and what this boot wrote on its stale boot clock re-dated, by boot_clock.py; a
running clock stepped raises clock_stepped and pauses what deletes or judges by the wall clock.

Operations keeps the thread, its steps and the clock here; its other parts are the classes it
inherits: operations_reports.py (daily reports), operations_patrols.py (patrol rounds),
operations_repairs.py (repair deadlines), operations_retention.py (retention and the disk
guard) and operations_imports.py (an import left unfinished), on operations_base.py (what they
share: Unwritten, Checkpoints, Worker, the timings).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gateway.alarm_texts import AlarmText, Param
from gateway.config.models import SiteConfig
from gateway.core.windows import Window
from gateway.fault_log import FaultLog
from gateway.parking import retention as plan
from gateway.parking.boot_clock import BOOT_CLOCK_FAR, BootClock, StepAlarm
from gateway.parking.operations_base import (
    BACKFILL_DAYS,
    RESTART_GRACE,
    TICK_S,
    Checkpoints,
    T,
    Unwritten,
    Worker,
    _none_written,
)
from gateway.parking.operations_imports import UnfinishedImports
from gateway.parking.operations_repairs import RepairDeadlines
from gateway.parking.operations_retention import RetentionAndDiskGuard
from gateway.parking.patrol import RouteSpec
from gateway.site import Site
from gateway.store.alarms import raise_alarm
from gateway.store.database import storage_fix, storage_refused, transaction
from gateway.store.gateway_down import HEARTBEAT, Kept, beat, came_up, start_moved
from gateway.store.redate import Step
from gateway.store.report_rebuilds import rebuild_built_ahead
from gateway.timefmt import CLOCK_ALARM

__all__ = [
    "BACKFILL_DAYS",
    "CLOCK_ALARM",
    "CLOCK_CONFIRM",
    "RESTART_GRACE",
    "RETENTION_EVERY",
    "TICK_S",
    "WALL_CLOCK_STEPS",
    "Checkpoints",
    "Operations",
    "T",
    "Unwritten",
    "Worker",
    "worker_of",
]

log = logging.getLogger(__name__)

RETENTION_EVERY = timedelta(hours=1)

# A running clock stepped more than CLOCK_ALARM (a bad NTP server or GPS, an installer's typo) is
# not trusted for CLOCK_CONFIRM of monotonic time: the steps that delete or judge by the wall clock
# wait, so that a clock set right within that time has deleted, reported and judged nothing on a
# wrong one. Then they go on, on whatever the clock says. (CLOCK_ALARM is gateway/timefmt.py's.)
CLOCK_CONFIRM = timedelta(hours=24)
WALL_CLOCK_STEPS = frozenset({"patrols", "reports", "repairs", "retention"})


class Operations(RetentionAndDiskGuard, RepairDeadlines, UnfinishedImports):
    def __init__(
        self,
        site: Site,
        db_path: Path,
        data_dir: Path,
        run_on_worker: Worker[Any],
        started_at: datetime,
        monotonic: Callable[[], float] = time.monotonic,
        start_room: plan.Room | None = None,
        unwritten: Callable[[sqlite3.Connection], Unwritten] = _none_written,
        checkpoints: Checkpoints | None = None,
        storage_failed: Callable[[BaseException], None] = lambda exc: None,
    ):
        self.site = site
        # Told of a step storage refused (the gateway's storage state: health, the centre, the
        # live page's banner); a step's writes on the worker tell it too.
        self._storage_failed = storage_failed
        # Given a turn between retention's batches, so that the WAL does not grow to hold every
        # page a big pass deletes (None where nothing checkpoints: a test's connection).
        self._checkpoints = checkpoints
        # Run on the worker before a look that judges by the rows (Gateway.unwritten): the records
        # a full disk kept in memory written, if it has room now, and what still waits.
        self._unwritten = unwritten
        # Snapshots the gateway deleted as it started, for lack of room: the first disk guard
        # reports them as its own (REQUIREMENTS 7: the centre must know footage was lost).
        self._start_room = start_room
        self.cfg: SiteConfig = site.config
        self.db_path = db_path
        self.data_dir = data_dir
        self.snapshots_dir = data_dir / "snapshots"
        self._run = run_on_worker
        # Elapsed time while this process runs, whatever the wall clock does: a Pi without a
        # real-time clock boots with fake-hwclock's stale time and NTP steps it later.
        self._monotonic = monotonic
        self.routes = tuple(
            RouteSpec(
                id=r.id,
                name=r.name,
                checkpoints=tuple(r.checkpoints),
                window=Window.parse(r.hours),
                every=timedelta(minutes=r.every_minutes),
                allowed=timedelta(minutes=r.round_minutes),
            )
            for r in self.cfg.patrol.routes
        )
        self._started_mono = monotonic()  # the start on the monotonic clock: its stretch counts back from it
        self.clock = BootClock(data_dir, db_path, started_at, monotonic, self._round_on_record)
        self._last_retention: float | None = None  # monotonic
        self._warned: set[str] = set()
        self._old_copies_told: set[Path] = set()  # upgrade copies past visitors_days (_old_copies)
        # Snapshots that cannot be deleted, said once (with the fix) until their folders change.
        self._undeletable = {step: FaultLog(log, logging.WARNING) for step in ("disk", "retention")}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The stretch the gateway was down before this start: None until start(), False until kept.
        self._came_up: bool | None = None
        self._kept: Kept | None = None  # what it kept, once it is
        self._unmoved = timedelta(0)  # running clocks' steps since, the stretch kept still to move by
        self._beat_at = 0.0  # monotonic: when the last heartbeat was written

    # ---- the thread ----------------------------------------------------------------------------

    def start(self, now: Callable[[], datetime]) -> None:
        self._mistrust(self.clock.resume(now()), self._monotonic())
        self._far_set(now())  # NTP answered before the service started: the clock may be far ahead
        # The step alarms kept (boot-alarms.json, with the clock and pause of their steps): one
        # this start saw, or one an earlier run saw and could not raise (a full disk, a cut before
        # it committed). Failing, they stay kept for the ticks and the next start.
        self._step("clock", self._clock_alarms, now())
        self._settle_disk_alarms(now())
        self._step("imports", partial(self.imports, at_start=True), now())  # a power cut's, said at once
        self._came_up = False
        self._step("alive", self._alive, now())  # before the first reports: they count the stretch

        def loop() -> None:
            while not self._stop.wait(TICK_S):
                self.tick(now())

        self._thread = threading.Thread(target=loop, name="operations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def tick(self, now: datetime) -> None:
        """One pass of everything that is due; a failing step is logged (once, and once at INFO when it
        works again) and the rest still run."""
        mono = self._monotonic()
        stepped = self.clock.follow(now, mono)
        if stepped is not None and self._kept is not None:
            self._unmoved += stepped.by  # the start moved with the clock: its stretch with it (_alive)
        self._mistrust(stepped, mono)
        self.clock.pause_over(mono)
        steps: list[tuple[str, Callable[[datetime], object]]] = [
            ("redate", self._redate),
            ("far", self._far_set),  # after the re-dating: the step that set the boot clock is done
            ("clock", self._clock_alarms),
            ("alive", self._alive),
            # before reports: a report counts the rounds as judged, and the late repairs as told, by now
            ("patrols", self.patrols),
            ("returns", self.returns),  # before repairs: a fault cleared as of its return is judged
            ("repairs", self.repairs),
            ("reports", self.reports),
            ("disk", self.disk_guard),
            ("imports", self.imports),
        ]
        # on the monotonic clock: one set back must not stop retention until it catches up
        if self._last_retention is None or mono - self._last_retention >= RETENTION_EVERY.total_seconds():
            steps.append(("retention", self.retention))
        for name, step in steps:
            # trusted asked at each step: the far step, this tick, may begin a pause
            if name in WALL_CLOCK_STEPS and not self.clock.trusted(mono):
                continue
            if name == "retention":
                self._last_retention = mono
            self._step(name, step, now)

    def _alive(self, now: datetime) -> None:
        """Keep the stretch the gateway was down before this start (retried at each tick until it
        is), then write a heartbeat about once a minute (gateway/store/gateway_down.py): one row
        overwritten, through the worker like every write here, never on a lane's decision. A running
        clock's step seen since (tick) moves the stretch kept with the start. Nothing before
        start(): an Operations nobody runs (a test's ticks) writes no heartbeat."""
        if self._came_up is None:
            return
        if self._kept is not None and self._unmoved:
            self._run(partial(start_moved, kept=self._kept, by=self._unmoved))
            self._unmoved = timedelta(0)
        mono = self._monotonic()
        boot = self.clock.boot.id
        if not self._came_up:
            self._kept = self._run(
                partial(came_up, at=self.clock.running_since, boot=boot, mono=self._started_mono)
            )
            self._came_up = True
        elif mono - self._beat_at >= HEARTBEAT.total_seconds():
            self._run(partial(beat, at=now, boot=boot, mono=mono))
        else:
            return
        self._beat_at = mono

    def last_beat(self, now: datetime) -> Callable[[sqlite3.Connection], None] | None:
        """The last heartbeat, marked clean, that the gateway's stop queues on the worker before
        stopping it: the next start's stretch is then the restart's seconds, not up to a minute
        more. None while the stretch before this start is not kept: written, it would lose it."""
        if not self._came_up:
            return None
        return partial(beat, at=now, boot=self.clock.boot.id, mono=self._monotonic(), clean=True)

    def _step(self, name: str, step: Callable[[datetime], object], now: datetime) -> None:
        try:
            step(now)
        except Exception as exc:
            cause = storage_refused(exc, self.data_dir)
            if cause is not None:
                self._storage_failed(exc)
            if name in self._warned:  # a repeated fault is logged once, then quietly
                pass
            elif cause is not None:  # the card's, not the gateway's: the fix, no traceback
                log.error(
                    "operations step %s failed (will retry every %g s): storage refused it (%s) fix=%s",
                    name,
                    TICK_S,
                    exc,
                    storage_fix(cause, self.data_dir),
                )
            else:
                log.exception("operations step %s failed (will retry)", name)
            self._warned.add(name)
        else:
            if name in self._warned and not self._still_held_back():
                # said once, so the installer reading the journal knows; a step that returned
                # only because records still wait in memory for storage (a full disk: patrols
                # and repairs judge nothing then) has not recovered
                log.info("operations step %s works again", name)
                self._warned.discard(name)

    def _still_held_back(self) -> bool:
        """Records a full disk keeps in memory still wait for storage (its turn on the worker wrote
        what it could)."""
        held = self._run(self._unwritten)
        return bool(held.patrol_taps) or held.since is not None or held.every_device or bool(held.devices)

    def _redate(self, now: datetime) -> None:
        """Re-date what the boot wrote on its stale clock; the reports that counted it on the old
        dates are marked to be rebuilt in the same transaction (by `reports`: they wait out a running
        clock's pause as new ones do, and a failed build, or one a power cut stopped, is tried again
        at the next look)."""
        self.clock.redate(self._run, timedelta(hours=self.cfg.visitors.default_hours), RESTART_GRACE)

    def _mistrust(self, step: Step | None, mono: float) -> None:
        """A running clock stepped (not the boot clock being set: nothing is re-dated): past
        CLOCK_ALARM, alarm and pause WALL_CLOCK_STEPS for CLOCK_CONFIRM."""
        if step is None or abs(step.by) <= CLOCK_ALARM:
            return
        stepped = step.by / timedelta(hours=1)
        before, after = (
            at.astimezone(self.site.tz).strftime("%Y-%m-%d %H:%M") for at in (step.now - step.by, step.now)
        )
        pause = CLOCK_CONFIRM / timedelta(hours=1)
        log.warning(
            "wall clock stepped by %+.1f hours (%s -> %s) on a running gateway: nothing is re-dated, "
            "and retention, reports, patrol rounds and repair deadlines wait %g hours; check the NTP "
            "server (or the time the installer set), and set the clock right within that time",
            stepped,
            before,
            after,
            pause,
        )
        params: dict[str, Param] = {
            "step_hours": stepped,
            "before": before,
            "after": after,
            "pause_hours": pause,
        }
        alarm = StepAlarm(AlarmText("clock_stepped", params), step.now)
        # far ahead: a reboot in the pause, the clock still so, is judged by the time before it
        far_from = (step.now - step.by).timestamp() if step.by > BOOT_CLOCK_FAR else None
        self.clock.distrust(mono, mono + CLOCK_CONFIRM.total_seconds(), alarm, far_from)

    def _far_set(self, now: datetime) -> None:
        """The clock this boot runs on is far past what the database knew before it
        (gateway/parking/boot_clock.py far_past: a bad NTP answer just after the boot, 2035 for
        2025, or a box off for months): the boot's rows are re-dated all the same (the step set the
        boot clock), but, as after a running clock's step, clock_stepped is raised and
        WALL_CLOCK_STEPS wait CLOCK_CONFIRM. Before, retention deleted ten years' worth at once."""
        before = self.clock.far_set(now, self._monotonic())
        if before is None:
            return
        mono = self._monotonic()
        off = now - timedelta(seconds=mono) - before  # from the last run to the boot, on this clock
        last, after = (at.astimezone(self.site.tz).strftime("%Y-%m-%d %H:%M") for at in (before, now))
        pause = CLOCK_CONFIRM / timedelta(hours=1)
        log.warning(
            "wall clock reads %s, %.0f days past the gateway's last run (%s), as the box booted: its "
            "records are dated on it, but retention, reports, patrol rounds and repair deadlines wait "
            "%g hours; check the NTP server (timedatectl timesync-status) and set the clock right "
            "within that time (a box that was off that long: acknowledge the alarm)",
            after,
            off / timedelta(days=1),
            last,
            pause,
        )
        params: dict[str, Param] = {
            "step_hours": off / timedelta(hours=1),  # the span the pause covers (faults.py)
            "step_days": off / timedelta(days=1),
            "before": last,
            "after": after,
            "pause_hours": pause,
        }
        alarm = StepAlarm(AlarmText("clock_stepped.boot", params), now)
        self.clock.distrust(mono, mono + CLOCK_CONFIRM.total_seconds(), alarm, before.timestamp())

    def _clock_alarms(self, now: datetime) -> None:
        """Raise the clock_stepped alarms kept (an event: acknowledging it closes it), each as of when
        its step was seen; one still open stays the one alarm, and the log has every step. A cut
        between the raise and the file forgetting it raises it again at the next start: still open,
        it stays one."""
        while self.clock.alarms:
            self.clock.alarm_raised(self._run(partial(_raise_step, alarm=self.clock.alarms[0])))


def _raise_step(conn: sqlite3.Connection, alarm: StepAlarm) -> int:
    """Raise a step's clock_stepped alarm as of when the step was seen; its id (the one open). The
    reports built on a clock ahead of the step's are marked to be rebuilt first
    (gateway/store/report_rebuilds.py rebuild_built_ahead): the alarm stays kept until it is
    raised, so a cut or a failed raise marks them again at the next try (a mark kept stays one)."""
    with transaction(conn):
        rebuild_built_ahead(conn, alarm.seen)
    raise_alarm(conn, kind="clock_stepped", source="clock", text=alarm.text, at=alarm.seen)
    (alarm_id,) = conn.execute(
        "SELECT id FROM alarms WHERE kind = 'clock_stepped' AND source = 'clock' AND cleared_at IS NULL"
    ).fetchone()
    return int(alarm_id)


def worker_of(
    on_worker: Callable[[Callable[[sqlite3.Connection], Any]], Any], timeout: float = 300
) -> Worker[Any]:
    """Run on the gateway's decision worker and wait for the result."""

    def run(fn: Callable[[sqlite3.Connection], Any]) -> Any:
        return on_worker(fn).result(timeout=timeout)

    return run
