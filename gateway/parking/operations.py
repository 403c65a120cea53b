"""The estate's clockwork: daily reports, patrol rounds, repair deadlines, retention and the disk guard.

A thread of its own wakes every TICK_S; whatever it writes goes through the decision worker
(Gateway.on_worker), and whatever it only reads it reads on its own read-only connection, so that
a report or a retention pass never holds up a lane for long. The steps of the wall clock it sees
are followed, and what this boot wrote on its stale boot clock re-dated, by boot_clock.py; a
running clock stepped raises clock_stepped and pauses what deletes or judges by the wall clock.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

from gateway.alarm_texts import AlarmText, Param
from gateway.config.models import SiteConfig
from gateway.core.windows import Window
from gateway.fault_log import FaultLog
from gateway.parking import retention as plan
from gateway.parking.boot_clock import BootClock, StepAlarm
from gateway.parking.faults import (
    late_repairs,
    overdue_text,
    repairs_from,
    tell_late_repair,
    untold_repairs,
    untrusted_spans,
)
from gateway.parking.patrol import (
    FINAL,
    RoundResult,
    RouteSpec,
    due_times,
    evaluate,
    round_closes,
    still_open,
)
from gateway.parking.repairs import Overdue, date_faults_ahead, overdue_repairs
from gateway.parking.report import build_report, last_complete_day, period_of, repair_hours_sent, store_report
from gateway.site import Site
from gateway.store import retention as prune
from gateway.store.alarms import clear_alarm, clear_open_alarms, open_alarm_text, raise_alarm, reword_alarm
from gateway.store.config_seen import closed_history, keep_repairs_judged, repairs_judged
from gateway.store.database import (
    VACUUM_STEP_PAGES,
    give_back_free_pages,
    give_to_service,
    open_read_only,
    storage_cause,
    storage_fix,
    upgrade_copies,
)
from gateway.store.device_returns import clear_returned, waiting_returns
from gateway.store.parking import ParkingError
from gateway.store.patrol import record_round, round_source, taps_between
from gateway.store.redate import StaleRound, Step
from gateway.store.report_rebuilds import redatings, reports_to_rebuild
from gateway.sync.files import set_aside_before
from gateway.timefmt import from_db, later, to_db

log = logging.getLogger(__name__)

T = TypeVar("T")
Worker = Callable[[Callable[[sqlite3.Connection], T]], T]

TICK_S = 30.0
RETENTION_EVERY = timedelta(hours=1)
BACKFILL_DAYS = 7  # reports missed while the gateway was off are built for up to a week back

# A running clock stepped more than CLOCK_ALARM (a bad NTP server or GPS, an installer's typo) is
# not trusted for CLOCK_CONFIRM of monotonic time: the steps that delete or judge by the wall clock
# wait, so that a clock set right within that time has deleted, reported and judged nothing on a
# wrong one. Then they go on, on whatever the clock says.
CLOCK_ALARM = timedelta(hours=1)
CLOCK_CONFIRM = timedelta(hours=24)
WALL_CLOCK_STEPS = frozenset({"patrols", "reports", "repairs", "retention"})


# A round whose deadline passed this long before the gateway started is still judged: the box was
# off for a restart, not an outage, and the round was open (and maybe walked) while it was up.
RESTART_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Unwritten:
    """What the records a full disk keeps in memory (runtime/hand_opens.py, kept_records.held_back)
    still hold back from the database once a look's turn on the decision worker has written what
    it could: patrol taps, and the devices whose alarms wait (`every_device`: the start's settling
    waits), the oldest of those since `since`. Judged on the rows without them, a round walked on
    time was late or missed for good, and a device repaired on time overdue."""

    patrol_taps: int = 0
    devices: frozenset[str] = frozenset()
    every_device: bool = False
    since: datetime | None = None

    def holds(self, device: str) -> bool:
        return self.every_device or device in self.devices


def _none_written(_: sqlite3.Connection) -> Unwritten:
    return Unwritten()


class Checkpoints(Protocol):
    """The WAL's checkpoints (runtime/worker.py Checkpointer): a long write's steps give them a turn."""

    def turn(self, *, empty: bool = False) -> None: ...


class Operations:
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
    ):
        self.site = site
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
        self.clock = BootClock(data_dir, db_path, started_at, monotonic, self._round_on_record)
        self._last_retention: float | None = None  # monotonic
        self._warned: set[str] = set()
        self._old_copies_told: set[Path] = set()  # upgrade copies past visitors_days (_old_copies)
        # Snapshots that cannot be deleted, said once (with the fix) until their folders change.
        self._undeletable = {step: FaultLog(log, logging.WARNING) for step in ("disk", "retention")}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the thread ----------------------------------------------------------------------------

    def start(self, now: Callable[[], datetime]) -> None:
        self._mistrust(self.clock.resume(now()), self._monotonic())
        # The step alarms kept (boot-alarms.json, with the clock and pause of their steps): one
        # this start saw, or one an earlier run saw and could not raise (a full disk, a cut before
        # it committed). Failing, they stay kept for the ticks and the next start.
        self._step("clock", self._clock_alarms, now())
        self._settle_disk_alarms(now())

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
        self._mistrust(self.clock.follow(now, mono), mono)
        steps: list[tuple[str, Callable[[datetime], object]]] = [
            ("redate", self._redate),
            ("clock", self._clock_alarms),
            # before reports: a report counts the rounds as judged, and the late repairs as told, by now
            ("patrols", self.patrols),
            ("returns", self.returns),  # before repairs: a fault cleared as of its return is judged
            ("repairs", self.repairs),
            ("reports", self.reports),
            ("disk", self.disk_guard),
        ]
        # on the monotonic clock: one set back must not stop retention until it catches up
        retention_due = (
            self._last_retention is None or mono - self._last_retention >= RETENTION_EVERY.total_seconds()
        )
        if not self.clock.trusted(mono):
            steps = [(name, step) for name, step in steps if name not in WALL_CLOCK_STEPS]
        elif retention_due:
            steps.append(("retention", self.retention))
            self._last_retention = mono
        for name, step in steps:
            self._step(name, step, now)

    def _step(self, name: str, step: Callable[[datetime], object], now: datetime) -> None:
        try:
            step(now)
        except Exception:
            if name not in self._warned:  # a repeated fault is logged once, then quietly
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
        self.clock.distrust(mono, mono + CLOCK_CONFIRM.total_seconds(), alarm)

    def _clock_alarms(self, now: datetime) -> None:
        """Raise the clock_stepped alarms kept (an event: acknowledging it closes it), each as of when
        its step was seen; one still open stays the one alarm, and the log has every step. A cut
        between the raise and the file forgetting it raises it again at the next start: still open,
        it stays one."""
        while self.clock.alarms:
            self.clock.alarm_raised(self._run(partial(_raise_step, alarm=self.clock.alarms[0])))

    def _read(self) -> sqlite3.Connection:
        return open_read_only(self.db_path, 10)

    # ---- daily reports -------------------------------------------------------------------------

    def report_days(self, now: datetime) -> tuple[date, date]:
        """The oldest report day retention keeps and the latest whose period has ended.

        Retention and the backfill both count from here, so a day retention has deleted is never
        built (and sent upstream) again.
        """
        last = last_complete_day(now.astimezone(self.site.tz), self.cfg.reports.hour)
        return last - timedelta(days=self.cfg.reports.keep_days - 1), last

    def reports(self, now: datetime) -> list[str]:
        """Build the reports whose period has ended and that are not built yet, after rebuilding
        those that counted this boot's rows on its stale clock (_redate)."""
        hour = self.cfg.reports.hour
        tz = self.site.tz
        oldest, last = self.report_days(now)
        with closing(self._read()) as conn:
            done = self._rebuild_stale(conn, now)
            first = conn.execute("SELECT min(at) FROM access_log").fetchone()[0]
            if first is None:
                return done
            first_local = from_db(first).astimezone(tz)  # type: ignore[union-attr]
            first_day = (first_local - timedelta(hours=hour)).date()
            day = max(last - timedelta(days=BACKFILL_DAYS - 1), oldest, first_day)
            # Never older than the oldest report kept: a day retention deleted stays deleted, even
            # when the clock goes back (a Pi booting with fake-hwclock's time before NTP sets it).
            kept_from = conn.execute("SELECT min(day) FROM daily_reports").fetchone()[0]
            if kept_from is not None:
                day = max(day, date.fromisoformat(kept_from))
            built = {
                r[0] for r in conn.execute("SELECT day FROM daily_reports WHERE day >= ?", (day.isoformat(),))
            }
            while day <= last:
                if self.rounds_open(conn, day, now) or self.returns_open(conn, day, now):
                    break  # this day's report, and the later ones, wait for its last rounds and repairs
                if day.isoformat() not in built:
                    self.build_report(day, now, conn)
                    done.append(day.isoformat())
                day += timedelta(days=1)
        return done

    def _rebuild_stale(self, conn: sqlite3.Connection, now: datetime) -> list[str]:
        """Rebuild the reports kept whose period the stale boot clock ran in: NTP's step moved
        their rows (a booth payment counted on the stale Saturday is Monday's now, in Monday's
        report and in its `payment` record sent again, "redated"). Rebuilt, each keeps its period
        and is sent upstream again, so that the money is in one report, on the day the centre
        books it. The days are marked in the store (gateway/store/report_rebuilds.py), each until a
        report whose rows were read after the last re-dating is stored: a kill between the re-dating
        and here leaves them to the next run, and a report built by hand meanwhile to this step.
        A day retention deleted since stays deleted (its mark goes with it)."""
        done = []
        for day in reports_to_rebuild(conn):
            self.build_report(day, now, conn)
            done.append(day.isoformat())
        return done

    def rounds_open(self, conn: sqlite3.Connection, day: date, now: datetime) -> datetime | None:
        """Until when a patrol round due in the day's report period may still change (None: none
        may). Such a round is not judged done, late or missed yet, and its next round is not due:
        the report waits for it, so that each round is counted in the period it was due in, as it
        was judged (up to `every_minutes`). The time is when the last of them is missed at the
        latest (its next round due); one built by hand is refused until then (409 rounds_open)."""
        start, end = self.report_period(conn, day)
        judged = {
            (route, due)
            for route, due in conn.execute(
                "SELECT route, due_at FROM patrol_rounds WHERE due_at >= ? AND due_at < ? AND status IN "
                f"({', '.join('?' * len(FINAL))})",
                (to_db(start), to_db(end), *FINAL),
            )
        }
        return max(
            (
                round_closes(route, due, self.site.tz)
                for route in self.routes
                for due in still_open(route, start, end, now, self.site.tz)
                if (route.id, to_db(due)) not in judged
            ),
            default=None,
        )

    def returns_open(self, conn: sqlite3.Connection, day: date, now: datetime) -> datetime | None:
        """Until when a device back online before the day's report period ended may still be
        repaired in it (None: none may). Its fault clears once it has stayed back `[alarms]
        clear_after_s`, as of its return (the `returns` step, before this one): built before, the
        report would list a fault open at the period's end that was over, and the next report
        starts after the repair, so that a late one is counted in neither. Gone again meanwhile,
        it waits no more and the fault is open. One built by hand is refused until then (409
        returns_open)."""
        end = self.report_period(conn, day)[1]
        after = timedelta(seconds=self.cfg.alarms.clear_after_s)
        return max(
            (at + after for at in waiting_returns(conn).values() if at < end and now - at < after),
            default=None,
        )

    def report_period(self, conn: sqlite3.Connection, day: date) -> tuple[datetime, datetime]:
        """The hours the report of `day` covers, lined up with the reports kept (period_of)."""
        return period_of(conn, day, self.cfg.reports.hour, self.site.tz)

    def check_rebuild(self, conn: sqlite3.Connection, day: date, now: datetime) -> None:
        """A report kept for a day whose records retention has deleted since (its access records,
        or its visitors' passes, kept a shorter time) is not built again: rebuilt from what is left,
        its figures would become zeros (ParkingError, records_deleted)."""
        start = self.report_period(conn, day)[0]
        stored = conn.execute("SELECT 1 FROM daily_reports WHERE day = ?", (day.isoformat(),)).fetchone()
        if not stored:
            return
        ret = self.cfg.retention
        kept = (
            ("access records", "access_records_days", ret.access_records_days),
            ("visitors' passes", "visitors_days", ret.visitors_days),
        )
        # A pass goes visitors_days after it ended: one made that day is gone by then at the earliest.
        gone = [f"{what} (retention.{key}, {d})" for what, key, d in kept if start < now - timedelta(days=d)]
        if gone:
            days = min(d for _, _, d in kept)
            raise ParkingError(
                f"the {' and '.join(gone)} of {day} are past retention and deleted: rebuilt, "
                "the kept report would lose their figures",
                fix=f"use the report kept (GET /api/parking/reports/{day}); only days of the last {days} "
                "can be rebuilt",
                code="records_deleted",
            )

    def build_report(
        self,
        day: date,
        now: datetime,
        conn: sqlite3.Connection | None = None,
        actor: str = "",
        run: Worker[Any] | None = None,
    ) -> dict[str, Any]:
        """Build and store the day's report; `actor`, for one built by hand, is audited with it.

        `run` is how its turns on the decision worker are waited for: the API's own writes (a
        request answers busy within the API's bound), or by default this thread's worker_of."""
        run = run or self._run
        # A fee the guard took at 23:59:59 is stamped then but written in its turn on the decision
        # worker: the period is read once what was queued there before now is written (a turn of
        # the worker's own), or, read before it, the fee fell in no report (the next one starts
        # after it). A stuck worker fails the build after the wait's bound (worker_of's for a
        # tick, logged, and a later tick builds it; the API's for one built by hand).
        try:
            run(lambda _: None)
        except TimeoutError as exc:
            raise TimeoutError(
                f"the report of {day} waits for the decision worker to write what was queued before it"
            ) from exc
        own = conn is None
        conn = conn or self._read()
        try:
            # Before the rows: a re-dating committed after this read (NTP setting the clock while a
            # report built by hand waits for the worker to store it) leaves the day to rebuild.
            read_after = redatings(conn)
            body = build_report(
                conn,
                site_id=self.cfg.site.id,
                lanes=self.site.lanes,
                day=day,
                hour=self.cfg.reports.hour,
                tz=self.site.tz,
                built_at=now,
                # Those in force that day, a rebuild weeks later too: not today's config's.
                closed=closed_history(conn, self.site.tz),
                reminder_days=self.cfg.parking.monthly_reminder_days,
                repair_hours=repair_hours_sent(conn, day) or self.cfg.alarms.repair_hours,
            )
        finally:
            if own:
                conn.close()
        run(
            lambda w: store_report(
                w, body, now, self.cfg.mqtt.max_message_bytes, actor, read_after=read_after
            )
        )
        log.info(
            "daily report %s built: vehicles in=%d out=%d refusals=%d revenue_fen=%d",
            body["day"],
            body["vehicles"]["entries"]["total"],
            body["vehicles"]["exits"]["total"],
            body["refusals"]["total"],
            body["parking"]["revenue_fen"],
        )
        return body

    # ---- patrols -------------------------------------------------------------------------------

    def patrols(self, now: datetime) -> list[RoundResult]:
        """Judge the rounds that may have changed: those open now or just closed, and those on record
        as overdue (across a restart, however long the gateway was off).

        A round whose deadline (`round_minutes` after it is due) passed more than RESTART_GRACE
        before this start of the gateway, and that is not on record, is not judged: taps are
        recorded by the gateway, so nobody could tap while it was off (or before the route
        existed), and after a night's outage the centre would get every round of it as missed at
        once. The outage is what the centre sees (the gateway's status). A round whose deadline
        is later (a restart of a few minutes: an update, the watchdog) is judged in full.

        On the stale clock a Pi boots on (fake-hwclock's last save, before the power cut) the
        rounds of the outage look due now, and a round walked then is judged against taps read at
        that clock's times: those judged for the first time while the clock may be that one are
        kept (BootClock.judging), and when NTP sets it they are unjudged, their alarms cleared, here
        and upstream (gateway/store/redate.py, _undo_rounds). Those whose deadline passed before
        the box's true boot (less RESTART_GRACE) stay unjudged; the others were open while the box
        was up, in this run or an earlier one of the boot, and are judged again here on the true
        clock (Boot.judge_again), with their taps at their true times. Not judging at all until
        then would leave a box whose clock was right all along (a real-time clock, NTP on time)
        without late-round alarms for the day after each boot (BOOT_CLOCK_WINDOW).

        No round is judged in the pause after a running clock's step (the clock may be wrong); the
        first pass after it looks back to when the pause began: the round open at the step, and
        those due in the pause (over a day when the clock's correction, a step too, began it again),
        also when the service restarted in the pause (they were open on an earlier run of this boot).
        """
        # A tap is stamped when the card is read but written in its turn on the decision worker: the
        # taps are read once what was queued there before now is written (a turn of the worker's
        # own, as build_report and repairs wait), or a last checkpoint tapped while the worker was
        # busy is not seen and its round judged missed (or overdue, patrol_late), for good. A stuck
        # worker fails this look after worker_of's bound (logged), and a later look judges it. The
        # turn writes the taps a full disk kept in memory first; while one still waits, no round is
        # judged (nor the pause after a clock step ended): a later look judges them with it.
        if self.routes:
            held = self._run(self._unwritten)
            if held.patrol_taps:
                log.debug(
                    "patrol rounds not judged: %d patrol tap(s) wait in memory for storage (the data "
                    "disk is full); judged once written",
                    held.patrol_taps,
                )
                return []
        back = self._patrols_back(now)
        changed = self._changed_rounds(now, back) if self.routes else []
        routes = {route.id: route for route in self.routes}
        self.clock.judging(
            [self._stale_round(routes[r.route], r) for r, before in changed if before is None],
            self._monotonic(),
        )
        for result, before in changed:
            route = routes[result.route]
            self._run(partial(record_round, route=route, r=result, before=before, now=now, tz=self.site.tz))
        self.clock.judged_again()
        if self.clock.trusted(self._monotonic()):
            self.clock.caught_up()
        return [r for r, _ in changed]

    def _stale_round(self, route: RouteSpec, r: RoundResult) -> StaleRound:
        """A round judged for the first time, as the boot clock keeps it while it may be stale."""
        deadline = to_db(r.due + route.allowed)
        return StaleRound(route.id, to_db(r.due), deadline, round_source(route.id, r.due, self.site.tz))

    def _round_on_record(self, route_id: str, due_at: str) -> StaleRound | None:
        """A round on record so (an older version's, judged on the stale boot clock: BootClock)."""
        route = next((route for route in self.routes if route.id == route_id), None)
        due = from_db(due_at)
        if route is None or due is None:
            return None
        source = round_source(route.id, due, self.site.tz)
        return StaleRound(route.id, due_at, to_db(due + route.allowed), source)

    def _patrols_back(self, now: datetime) -> datetime:
        """How far back a look at the rounds goes: a day back for a slow tick (and a round's `every`
        in _changed_rounds: it closes that late), or to the start of a running clock's pause."""
        return min(later(now, -timedelta(days=1)), self.clock.paused_at(now) or now)

    def patrols_kept_from(self, now: datetime) -> datetime:
        """Patrol rounds and taps are kept at least this far back: a round the patrol check still
        looks at, deleted, would be judged anew without its taps (missed, for a round walked)."""
        every = max((route.every for route in self.routes), default=timedelta(0))
        return later(self._patrols_back(now), -every)

    def _changed_rounds(self, now: datetime, back: datetime) -> list[tuple[RoundResult, str | None]]:
        """The rounds due since `back` (less a round's `every`) or on record as overdue whose state
        changed, with the state on record."""
        tz = self.site.tz
        changed: list[tuple[RoundResult, str | None]] = []
        # A pause kept from an earlier run of this boot: its rounds were open while that run was up,
        # never judged, so this run's start does not cut them off.
        started = min(self.clock.running_since, self.clock.paused_at(now) or self.clock.running_since)
        up_since = later(started, -RESTART_GRACE)
        with closing(self._read()) as conn:
            for route in self.routes:
                # Judged on the stale boot clock, unjudged when it was set, open while the box was up
                # (an earlier run of the boot's too): judged again, on the true clock.
                again = {
                    datetime.fromisoformat(r.due_at).astimezone(UTC)
                    for r in self.clock.boot.judge_again
                    if r.route == route.id
                }
                since = min([max(later(back, -route.every), later(up_since, -route.allowed)), *again])
                known = dict(
                    conn.execute(
                        "SELECT due_at, status FROM patrol_rounds WHERE route = ? "
                        "AND (due_at >= ? OR status = 'overdue')",
                        (route.id, to_db(since)),
                    ).fetchall()
                )
                # in UTC: on the night the clocks go back, 02:00 is due twice and must stay two rounds
                open_ = {
                    datetime.fromisoformat(d).astimezone(UTC) for d, st in known.items() if st not in FINAL
                }
                ran = {d for d in due_times(route, since, now, tz) if d + route.allowed > up_since}
                dues = sorted(d for d in ran | open_ | again if known.get(to_db(d)) not in FINAL)
                if not dues:
                    continue
                taps = taps_between(conn, self.clock.boot, dues[0], now)
                for due in dues:
                    before = known.get(to_db(due))
                    closes = round_closes(route, due, tz)
                    result = evaluate(route, due, taps, now, before == "overdue", closes)
                    if result.status != "pending" and result.status != before:
                        changed.append((result, before))
        return changed

    # ---- repair deadlines ----------------------------------------------------------------------

    def returns(self, now: datetime) -> list[str]:
        """Clear the faults of the devices back online for `[alarms] clear_after_s`, as of their
        return (store/device_returns.py). On the wall clock but not paused after its step, as a
        device's alarm is not: a clock set back counts the wait from now. Not for a device whose
        change still waits in memory for storage (it may have gone off again)."""
        held = self._run(self._unwritten)
        if held.every_device:
            return []
        after = timedelta(seconds=self.cfg.alarms.clear_after_s)
        with closing(self._read()) as conn:
            due = waiting_returns(conn)
        if not any(now - at >= after or at > now for at in due.values()):
            return []
        cleared: list[str] = self._run(partial(clear_returned, now=now, after=after, keep=held.devices))
        for device in cleared:
            log.info(
                "device %s back online for %g s: its device_offline alarm cleared as of its return",
                device,
                after.total_seconds(),
            )
        return cleared

    def repairs(self, now: datetime) -> list[Overdue]:
        """A device offline past [alarms] repair_hours raises repair_overdue; back online clears it.
        A fault dated after now (raised on a clock since set back) counts from now, but for one ahead
        of the stale boot clock (BootClock.may_be_stale: a true time). One repaired past
        the limit since the last look that judged repairs, before a look found it overdue, raises and
        clears it as of the repair (late_repairs: not across a clock step, nor for a device taken
        out of the config)."""
        limit = timedelta(hours=self.cfg.alarms.repair_hours)
        # A fault is cleared when its turn on the decision worker comes: after this turn, every one
        # cleared before now is written (those a full disk kept in memory too, if it has room now),
        # and the next look starts from now. A device whose alarm's change still waits is not
        # judged (a return that waits: repaired on time, it was not overdue), and the next look
        # starts no later than that change, so that a return written since is judged then.
        held = self._run(self._unwritten)
        with closing(self._read()) as conn:
            overdue, repaired, ahead = overdue_repairs(conn, now, limit)
            judged = repairs_judged(conn)
            since = repairs_from(conn, judged, now, oldest=now - timedelta(days=BACKFILL_DAYS))
            untold = untold_repairs(conn, since, now)
            untrusted = untrusted_spans(conn, timedelta(seconds=TICK_S))
            back = waiting_returns(conn)
        # and no later than a return that waits to clear: it is cleared as of the return, later
        judged_to = min(now, held.since or now, *back.values())
        if held.since is not None:
            waits = sorted(held.devices) if not held.every_device else ["every device (settled at start)"]
            log.debug(
                "repair deadlines not judged for devices whose alarms wait in memory for storage "
                "(the data disk is full): %s",
                ", ".join(waits),
            )
            overdue = [late for late in overdue if not held.holds(late.device)]
            repaired = [device for device in repaired if not held.holds(device)]
        configured = {d.id for d in self.cfg.devices}
        for fault in late_repairs(untold, limit, untrusted, configured):
            if not self._run(partial(tell_late_repair, late=fault, limit=limit)):
                judged_to = min(judged_to, fault.repaired)  # to be told at a later look
                continue
            log.info(
                "device %s was repaired %s, %.1f hours after its fault, past the %g-hour limit: "
                "repair_overdue raised and cleared as of then",
                fault.device,
                fault.repaired.astimezone(self.site.tz).strftime("%Y-%m-%d %H:%M"),
                (fault.repaired - fault.since) / timedelta(hours=1),
                limit / timedelta(hours=1),
            )
        if untold or judged is None or judged > judged_to:  # else nothing was judged since the mark
            self._run(partial(keep_repairs_judged, at=judged_to))
        # A fault ahead of the stale boot clock is one from before the power cut, after fake-hwclock's
        # last save: a true time, which the step that sets the clock puts behind now. Only one ahead
        # of a clock that was set, or stepped while running, was dated on a clock that ran ahead.
        if ahead and not self.clock.may_be_stale(self._monotonic()):
            self._run(partial(date_faults_ahead, now=now))
            log.info(
                "device faults dated after now (raised on a clock since set back): %s; their repair "
                "deadline counts from now",
                ", ".join(ahead),
            )
        for late in overdue:
            text = overdue_text(late.device, late.age, limit)
            self._run(partial(raise_alarm, kind="repair_overdue", source=late.device, text=text, at=now))
        for device in repaired:
            self._run(partial(clear_alarm, kind="repair_overdue", source=device, at=now))
        return overdue

    # ---- retention and the disk guard ----------------------------------------------------------

    def retention(self, now: datetime) -> dict[str, int]:
        ret = self.cfg.retention
        files = plan.snapshot_files(self.snapshots_dir)
        gone, stayed = plan.delete_each(plan.expired(files, now.timestamp(), ret.snapshots_days))
        removed, failed = len(gone), len(stayed)
        self._say_undeletable("retention", gone, stayed, "past retention.snapshots_days, they are kept")
        plan.remove_empty_day_folders(
            self.snapshots_dir, (now - timedelta(days=ret.snapshots_days + 1)).date()
        )
        if plan.week_kept(files, now.timestamp(), ret.snapshots_days):
            self._run(partial(clear_alarm, kind="retention_short", source=str(self.snapshots_dir), at=now))
        counts = {"snapshots": removed, "snapshots_failed": failed}
        keep_access = self.records_kept_from(now)
        upstream = self.cfg.mqtt.enabled  # without MQTT nothing is ever delivered: age alone decides
        counts["access_records"] = self._batches(
            lambda w: prune.prune_access_records(w, keep_access, upstream=upstream)
        )
        counts["stays"] = self._batches(lambda w: prune.prune_closed_stays(w, keep_access))
        counts["materials_out"] = self._batches(lambda w: prune.prune_materials(w, keep_access))
        counts["alarms"] = self._batches(lambda w: prune.prune_alarms(w, keep_access))
        keep_patrol = min(keep_access, self.patrols_kept_from(now))
        counts["patrol"] = self._batches(lambda w: prune.prune_patrol(w, keep_patrol))
        counts["audit"] = self._batches(lambda w: prune.prune_audit(w, now - timedelta(days=ret.audit_days)))
        visitors_from = now - timedelta(days=ret.visitors_days)
        counts["visitor_passes"] = self._batches(
            lambda w: prune.prune_visitors(w, visitors_from, upstream=upstream)
        )
        # A damaged sync file set aside may hold a pushed pass's clear phone and ID numbers.
        aside = set_aside_before(self.data_dir, visitors_from, self.site.tz)
        counts["damaged_sync_files"], counts["damaged_sync_files_failed"] = plan.remove(aside)
        oldest_report, _ = self.report_days(now)
        counts["reports"] = self._run(lambda w: prune.prune_reports(w, oldest_report.isoformat()))
        if any(counts.values()):
            log.info("retention %s", json.dumps(counts))
        self._old_copies(now, ret.visitors_days)
        self._give_back_room()
        return counts

    def _old_copies(self, now: datetime, visitors_days: int) -> None:
        """Say once (a WARNING a process) of each upgrade copy of the database (gateway.db.v45.bak)
        older than visitors_days: it holds the records of its day, visitors' masked numbers and
        their hashes among them, which retention deletes from the database but not from it. Not
        deleted here: the copy is the way back to the old version (README, Upgrading)."""
        for copy in upgrade_copies(self.data_dir):
            try:
                age_days = (now.timestamp() - copy.stat().st_mtime) / 86400
            except OSError:
                continue
            if age_days > visitors_days and copy not in self._old_copies_told:
                self._old_copies_told.add(copy)
                log.warning(
                    "upgrade copy %s is %d days old, older than retention.visitors_days (%d): it keeps "
                    "the records of then (visitors' masked numbers and their hashes among them) past "
                    "their retention; fix=delete it once this version runs well (README, Upgrading)",
                    copy,
                    age_days,
                    visitors_days,
                )

    def _give_back_room(self) -> None:
        """The room of the rows deleted given back to the disk (the database's free pages, in
        steps, each its own turn on the worker as the batches are), then the WAL emptied: a
        pass that deleted half the records leaves the card with that room free, not kept for good
        in gateway.db and its WAL."""
        started = time.monotonic()
        pages = self._batches(give_back_free_pages, VACUUM_STEP_PAGES)
        if pages:
            log.info(
                "retention gave %d free pages of the database back to the disk in %.1f s",
                pages,
                time.monotonic() - started,
            )
        if self._checkpoints is not None:
            self._checkpoints.turn(empty=True)

    def records_kept_from(self, now: datetime) -> datetime:
        """Access records, closed stays, materials records, closed alarms and patrol taps and rounds
        older than this are deleted (access records once delivered, and not an open stay's entry;
        patrol taps and rounds not before patrols_kept_from): a report of a day before it can no
        longer be built from them."""
        return now - timedelta(days=self.cfg.retention.access_records_days)

    def _batches(self, step: Callable[[sqlite3.Connection], int], size: int = prune.BATCH) -> int:
        """`step` run until it does less than a whole batch of `size`; how much it did in all."""
        total = 0
        while True:
            n = self._run(step)  # each batch its own turn on the worker: lanes go in between
            total += n
            if n and self._checkpoints is not None:
                self._checkpoints.turn()  # the next batch starts the WAL over, rather than growing it
            if n < size:
                return total

    def _settle_disk_alarms(self, now: datetime) -> None:
        """Clear (here and upstream) the disk alarms of a data directory the config no longer names.

        The installer did what disk_low asks: copied the data to a bigger disk and pointed data_dir
        at it. The guard only ever looks at the directory configured now, so nothing else would
        clear the old one's alarms, and a condition is not closed by acknowledging it. Those of
        the directory configured now stay open until the guard finds room again.
        """
        for kind, here in (("disk_low", self.data_dir), ("retention_short", self.snapshots_dir)):
            cleared = self._run(partial(clear_open_alarms, kinds=(kind,), at=now, keep=(str(here),)))
            for _, source in cleared:
                log.info("alarm %s cleared: the data directory has moved, %s is no longer used", kind, source)

    def disk_guard(self, now: datetime, usage: Callable[[Path], Any] | None = None) -> plan.DiskPlan:
        ret = self.cfg.retention
        room, self._start_room = self._start_room, None
        if room is None:
            room = plan.make_room(
                self.data_dir, self.snapshots_dir, ret.prune_free_percent, ret.alarm_free_percent, usage
            )
        result = room.plan  # what was deleted: a snapshot that could not be frees no room
        self._say_undeletable("disk", result.delete, room.undeleted, "they free no room on the full disk")
        if result.delete:
            log.warning(
                "disk low (%.1f%% free): deleted the %d oldest snapshots (%d failed)",
                100 * room.free_before / result.total,
                room.deleted,
                room.failed,
            )
            kept = plan.days_kept(room.files, result.delete, now.timestamp())
            if kept < ret.snapshots_days:  # REQUIREMENTS 7: footage is kept a week; the centre must know
                text = AlarmText("retention_short", {"kept_days": kept, "days": ret.snapshots_days})
                where = str(self.snapshots_dir)
                self._run(lambda w: _raise_retention_short(w, where, text, now))
        source = str(self.data_dir)
        if result.alarm:
            text = self._disk_low_text(result.free_percent_after)
            self._run(lambda w: _raise_disk_low(w, source, text, now))
        elif result.free_percent_after >= ret.prune_free_percent:
            self._run(lambda w: clear_alarm(w, "disk_low", source, now))
        else:  # between the thresholds an open disk_low stays open: what it asks is still kept true
            text = self._disk_low_text(result.free_percent_after)
            self._run(lambda w: _keep_disk_low_true(w, source, text, now))
        return result

    def _say_undeletable(
        self, pass_: str, gone: Sequence[Path], stayed: Sequence[tuple[Path, OSError]], so: str
    ) -> None:
        """Snapshots the gateway cannot delete, said once with the fix while the same folders
        refuse (the disk guard looks every 30 s), and once more when deleting works again."""
        fault = self._undeletable[pass_]
        if not stayed:
            if gone:
                fault.ended("snapshots can be deleted again (%s)", pass_)
            return
        folders = sorted({path.parent for path, _ in stayed})
        fault.failed(
            tuple(folders),
            "%d snapshots cannot be deleted (%s): %s; fix: %s",
            len(stayed),
            so,
            stayed[0][1],
            _undeletable_fix(stayed[0][1], folders, self.data_dir),
        )

    def _disk_low_text(self, free_percent: float) -> AlarmText:
        """disk_low with what to do, and the room the upgrades' copies of the database take where
        there are any: on a card with no snapshot left to prune, the first thing to free."""
        copies = sum(_size(copy) for copy in upgrade_copies(self.data_dir))
        if not copies:
            return AlarmText("disk_low", {"free_percent": free_percent})
        copies_mb = max(1, round(copies / (1 << 20)))
        return AlarmText("disk_low.copies", {"free_percent": free_percent, "copies_mb": copies_mb})


def _undeletable_fix(exc: OSError, folders: list[Path], data_dir: Path) -> str:
    """A snapshot is deleted by writing its folder: one left to root (a `sudo gateway run` made
    it) is given to the gateway's user, as docs/hardware.md says for the snapshots it cannot write."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return give_to_service(folders)
    return storage_fix(storage_cause(exc, data_dir), data_dir)


def _raise_disk_low(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Raise disk_low, or give the open one new words where what it tells the installer to do
    changed: the gateway.db.v*.bak copies it names deleted (as it asked) or others left by an
    upgrade since. Raising it again keeps an open alarm's words; the free room alone moves at every
    look (30 s), and is not worth a record to the centre each time."""
    said = open_alarm_text(conn, "disk_low", source)
    if said is None or not _tells_other_things(said, text):
        raise_alarm(conn, "disk_low", source, text, at)
    else:
        _reword_disk_low(conn, source, text, at)


def _keep_disk_low_true(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Between alarm_free_percent and prune_free_percent an open disk_low stays open and none is
    raised; the open one is reworded as _raise_disk_low would: deleting the gateway.db.v*.bak
    copies it names is what brings a card into that band, and it should no longer ask for them."""
    said = open_alarm_text(conn, "disk_low", source)
    if said is not None and _tells_other_things(said, text):
        _reword_disk_low(conn, source, text, at)


def _reword_disk_low(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    if reword_alarm(conn, "disk_low", source, text, at):
        log.info("alarm disk_low of %s reworded: %s", source, text.render("en"))


def _raise_retention_short(conn: sqlite3.Connection, source: str, text: AlarmText, at: datetime) -> None:
    """Raise retention_short, or give the open one the days kept now where they moved far enough
    to tell (_days_moved): as the card fills further the same alarm says 6.0 days, then 0.5, at the
    guard's page and (a `raised` record again) at the centre, which must know the week of footage
    is not there. Not at every pruning (each 30 s look may delete a few more minutes' worth)."""
    said = open_alarm_text(conn, "retention_short", source)
    if said is None or not _days_moved(said, text):
        raise_alarm(conn, "retention_short", source, text, at)
    elif reword_alarm(conn, "retention_short", source, text, at):
        log.info("alarm retention_short of %s reworded: %s", source, text.render("en"))


def _days_moved(said: AlarmText, text: AlarmText) -> bool:
    """A whole day more or less kept than the open alarm says, or under half of it (1 day, then
    half a day: the last day is where a day more or less matters), or another number of days asked."""
    before, now = said.params.get("kept_days"), text.params.get("kept_days")
    if said.params.get("days") != text.params.get("days"):
        return True
    if not isinstance(before, int | float) or not isinstance(now, int | float):
        return before != now
    return abs(now - before) >= 1 or (now <= before / 2 and before - now >= 0.1)


def _tells_other_things(said: AlarmText, text: AlarmText) -> bool:
    return said.key != text.key or said.params.get("copies_mb") != text.params.get("copies_mb")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # deleted since it was listed
        return 0


def _raise_step(conn: sqlite3.Connection, alarm: StepAlarm) -> int:
    """Raise a step's clock_stepped alarm as of when the step was seen; its id (the one open)."""
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
