"""The runtime: presentations in, decisions recorded, then gates opened and everyone told.

One worker thread owns the write connection (worker.py), so decisions are taken one at a time in
arrival order: drivers -> queue -> lookup -> decide -> record (one transaction) -> relay, display,
listeners. Lanes opened, held or closed by hand are hand_lanes.py's; device alarms device_alarms.py's;
the passages of cars let out at vehicle exits, judged by their relays' pulses, exit_pulses.py's.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from drivers.cameras.snapshots import SnapshotWriter
from drivers.health import DeviceHealth
from gateway.config.models import SiteConfig
from gateway.core import BUTTON, TYPED_BY, Decision, Facts, LaneRules, Policy, Presented, Reason, decide
from gateway.core.credentials import BadCredential, canonical
from gateway.core.model import AGAIN, REFUSED_AGAIN, CredentialFacts, is_passage
from gateway.events import AccessEvent
from gateway.ids import uuid7
from gateway.parking.book import MONTH_LAPSES, month_ran_out
from gateway.parking.operations import Operations, Unwritten, worker_of
from gateway.parking.retention import Room, make_room
from gateway.parking.service import Before, ParkingDesk
from gateway.privacy import Secrets, mask_card
from gateway.runtime.again import Decided, DecidedAgain
from gateway.runtime.cars_leaving import CarsLeaving
from gateway.runtime.config_edits import say_at_start
from gateway.runtime.devices import ChooserFor, Devices, build_devices
from gateway.runtime.event_clips import OPENED, ClippedAlarm, EventClips, alarm_lane, tie_to_audit
from gateway.runtime.exit_buttons import ExitButtons
from gateway.runtime.exit_pulses import ExitPulses
from gateway.runtime.hand_lanes import HandLanes
from gateway.runtime.hand_opens import Kept, Recorded, WaitingRecords
from gateway.runtime.kept_records import AlarmChange, DeviceChange, DevicesSettled, PatrolTap, held_back
from gateway.runtime.lane_boards import (
    ExitPassages,
    JoinedByHand,
    LaneBoards,
    Pulsed,
    pulse,
    tell_opening,
)
from gateway.runtime.lanes import LaneInputs
from gateway.runtime.logsetup import log_in_zone
from gateway.runtime.outbox_stream import check_outbox_stream
from gateway.runtime.plate_match import lookalike_of
from gateway.runtime.texts import display_lines, fault_lines, let_through_lines
from gateway.runtime.worker import Checkpointer, DecisionWorker, Job
from gateway.site import Site
from gateway.store.card_forms import RegisteredCards
from gateway.store.database import (
    DB_NAME,
    StorageCause,
    begin_immediate,
    date_in_site_zone,
    open_database,
    storage_cause,
    storage_fix,
    transaction,
    use_incremental_vacuum,
)
from gateway.store.lanes import modes_on_record
from gateway.store.lookup import car_unknown, lookup, stay_open, subject_of
from gateway.store.parking import open_stay
from gateway.store.record import car_of_pass, own_car_back, qr_over_listed_car, write_event

log = logging.getLogger(__name__)

Listener = Callable[[AccessEvent], None]
T = TypeVar("T")

SWITCH_INTERVAL_S = 0.001


def _room_to_start(cfg: SiteConfig) -> Room | None:
    """A data disk full of snapshots (the gateway was down, so its disk guard was) would keep the
    database from opening: the oldest snapshots go first, as the disk guard would delete them.
    What went is reported by the first disk guard (a log line, and the alarm if footage was lost)."""
    ret, data_dir = cfg.retention, cfg.site.data_dir
    if not data_dir.is_dir():
        return None  # a new site: open_database makes it, or says why it cannot
    room = make_room(data_dir, data_dir / "snapshots", ret.prune_free_percent, ret.alarm_free_percent)
    return room if room.plan.delete else None


def _pressed(p: Presented, lane: LaneRules, policy: Policy, flags: tuple[str, ...] = ()) -> AccessEvent:
    """A door's exit button pressed (exit_buttons.py): someone goes out through the door, whichever
    way its reader faces (an entrance door's button lets people out)."""
    facts = Facts(lane=replace(lane, direction="exit"))
    decision = decide(p, facts, policy)
    return AccessEvent.of(p, facts, replace(decision, flags=(*decision.flags, *flags)), p.snapshot)


def _as_read(ev: AccessEvent, decided_as: str) -> AccessEvent:
    """A decision taken as another car than the plate the lane decided (the camera's repeat of a
    car whose hold a guard corrected since: ParkingDesk.as_corrected) names that car, its plate,
    holder and stay, on the lane and upstream (its `access` record named the misread plate, a car
    that never came in, leaving), and keeps the credential as the lane decided it, as its hold's
    other records have it: the next repeat finds the hold by it (store/holds.py car_of), and the
    guard's panel shows the correction beside it (识别为, from its `read:` flag). Its `again` looks
    are that car too (Decided.car), as a look-alike's are its match."""
    return ev if ev.value == decided_as else replace(ev, value=decided_as)


def _ended_visit(cred: CredentialFacts, at: datetime) -> bool:
    """`cred`, a plate, is a pass's whose visit is over (or not begun, or outside its hours) at
    `at`: refused for that pass's time alone, its car may come in on another pass's QR scanned
    with it (Gateway._pass_car, the visitor back on a new pass registered on foot)."""
    if cred.kind != "plate" or cred.holder.kind not in ("visitor", "contractor"):
        return False
    if cred.blocked or cred.holder.blocked or cred.holder.vehicle_blocked:  # refused as blocked first
        return False
    return not (cred.validity.admits(at) and cred.holder.validity.admits(at))


class Gateway:
    def __init__(self, cfg: SiteConfig, chooser_for: ChooserFor | None = None):
        self.site = Site.from_config(cfg)
        log_in_zone(self.site.tz)  # the log's times from here on are the site's, as the pages'
        self.data_dir = cfg.site.data_dir
        self.db_path = self.data_dir / DB_NAME
        start_room = _room_to_start(cfg)
        self.db = open_database(self.db_path, sync=cfg.storage.sync)
        self.conn: sqlite3.Connection = self.db.conn
        use_incremental_vacuum(self.conn, self.db_path)  # once, on a database an older version made
        date_in_site_zone(self.conn, self.site.tz)  # what a migration queued in UTC, before it goes up
        self.secrets = Secrets.load_or_create(self.data_dir)
        self._waiting = WaitingRecords(self.data_dir)
        # Looked up when called: a test may wrap decide_batch.
        self.worker = DecisionWorker(self.conn, lambda jobs: self.decide_batch(jobs), self._waiting)
        self._started = False  # device changes before start() are settled by start()
        # A device's change is queued after the start's settling that did not see it, never before
        # one that did: settled as it was, then changed, in that order (start, _device_changed).
        self._changes = threading.Lock()
        self.devices: Devices = build_devices(cfg, chooser_for, on_change=self._device_changed)
        self.parking = ParkingDesk(self.site, sees=self.devices.sees, watches=self.devices.watches)
        # Which database's seqs go up from here: a new box's, or one put back on an older copy,
        # start a stream of their own; first, so that nothing is queued under a seq handed out.
        self.outbox_stream = check_outbox_stream(self.conn, self.data_dir, self.now())
        # What the config edited since left behind: slots, stays, tariff prices, the site id.
        say_at_start(self.conn, self.parking.rules.tariffs, self.site, self.now())
        # A short video of each barrier alarm and opening by hand (event_clips.py), where cameras keep them.
        self.clips = (
            EventClips(self.data_dir, self.devices.clip_cameras, self.devices.health, self.site.tz)
            if self.devices.clip_cameras
            else None
        )
        self._pulse_seconds = {lane.id: lane.pulse_seconds for lane in cfg.lanes}
        self.exit_buttons = ExitButtons(self.exit_button, self._pulse_seconds)  # 出门按钮 at doors
        self.lane_io = LaneInputs(
            self.devices, self.on_worker, self.now, self._barrier_alarm, self.exit_buttons
        )
        # Snapshots skipped or not saved are told on the camera's health; filed by the site's day.
        health_of = {h.device: h for h in self.devices.health}.get
        self.snapshots = (
            SnapshotWriter(self.data_dir, health_of=health_of, tz=self.site.tz)
            if self.devices.snapshot_quality
            else None
        )
        self._plate_match = {lane.id: lane.plate_match for lane in cfg.lanes}
        # Lanes closed or held open when it stopped: held again, or dropped if gone from the config,
        # at start (HandLanes.modes_again).
        self._modes_on_record = modes_on_record(self.conn)
        # Lanes a guard or the central server closed: nobody is admitted there until reopened.
        self.lane_modes: dict[str, str] = {
            lane: was.mode
            for lane, was in self._modes_on_record.items()
            if was.mode == "closed" and lane in self.site.lanes
        }
        # Uptime on the monotonic clock: a Pi boots on fake-hwclock's stale time and NTP steps it.
        self._up_since = time.monotonic()
        self.latencies_ms: deque[float] = deque(maxlen=10_000)
        self.decisions = 0
        self.storage_failures = 0  # decisions that could not be stored, since the start
        self.storage_failing = False  # the last batch of decisions could not be stored
        self.rejected = 0  # presentations with values no credential can have
        self._listeners: list[Listener] = []
        self._checkpointer = Checkpointer(self.db_path)
        # Daily reports, patrol rounds, retention and the disk guard; its writes come to the worker.
        worker = worker_of(self.on_worker)
        self.operations = Operations(
            self.site,
            self.db_path,
            self.data_dir,
            worker,
            self.now(),
            start_room=start_room,
            unwritten=self.unwritten,
            checkpoints=self._checkpointer,
        )
        self._again = DecidedAgain(  # the same car decided again at a lane
            self.devices, hard_anti_passback=self.site.policy.anti_passback == "hard"
        )
        self._cards = RegisteredCards(cfg)  # a card read in another form than registered
        self.boards = LaneBoards(self.devices)  # told by decisions and by hand alike
        self._exits: ExitPassages[AccessEvent] = ExitPassages()  # cars let out, their pulses to come
        self._leaving = CarsLeaving(self._exits)  # cars let out, their barriers yet to confirm
        self._exit_pulses = ExitPulses(  # their passages judged by their pulses
            self.site,
            self._exits,
            self.boards,
            self.lane_io.rising,
            self.conn,
            lambda work: self.on_worker(work),  # looked up when called: a test may wrap gw.on_worker
            self.data_dir,
            self.parking,  # not_let_out looked up on it when called: a test may replace it
            self._again.not_let_out,
        )
        self.by_hand = HandLanes(
            self.site,
            self.devices,
            self.lane_io.barriers,
            lambda: self.now(),  # the gateway's clock when used (tests set gw.now)
            self.worker.submit_or_run,
            self._waiting,
            self._pulse_seconds,
            self.lane_modes,
            self.parking,  # the car a lane shows held to pay, let out by a single opening
            self._again.let_out,  # that car: one passage as it pulls away
            self.boards,
            self.opened_by_hand,  # a car let out whose pulse still waits: out on the guard's too
            self._opening_clips,
        )

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        # A reader thread woken by a card's last byte waits for the GIL up to this long while a
        # camera or the HTTP server holds it; Python's default of 5 ms would be the whole budget.
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._checkpointer.start(self.conn)
        self.worker.start()
        mqtt = self.site.config.mqtt.enabled
        with self._changes:  # the devices as they are now, and the time: kept on a full disk
            self._started = True
            self._record_in_turn(DevicesSettled.of(self.devices.health, self.now(), mqtt, self._clear_after))
        self.by_hand.modes_again(self._modes_on_record)  # before the barriers' inputs are judged
        self.lane_io.start()
        if self.clips is not None:
            self.clips.start()
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
        self.lane_io.stop()
        for source in self.devices.sources():
            source.stop()
        self.worker.stop()
        self._checkpointer.stop()
        self.devices.close()
        if self.snapshots is not None:
            self.snapshots.close()
        if self.clips is not None:  # after the cameras: what they gathered is written
            self.clips.stop()
        self.conn.close()
        log.info("gateway stopped")

    def alive(self) -> bool:
        """For the watchdog: the worker thread runs and has looped in the last few seconds."""
        return self.worker.alive()

    def backlog(self) -> int:
        return self.worker.backlog()

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
        self.worker.put(Job(p, time.perf_counter()))
        return True

    def on_worker(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run `run(connection)` on the decision worker, in turn with decisions (thread-safe)."""
        return self.worker.submit(run)

    def now(self) -> datetime:
        return datetime.now(self.site.tz)

    def uptime_s(self) -> float:
        """Seconds since the gateway started, however the wall clock stepped meanwhile."""
        return time.monotonic() - self._up_since

    def _device_changed(self, health: DeviceHealth, online: bool) -> None:
        with self._changes:
            if not self._started:
                return  # start() settles every device's alarm at once
            self._record_in_turn(DeviceChange.of(health, online, self.now(), self._clear_after))
        if not online:  # outside the lock: a camera told its loop is off may report its own health
            self.lane_io.device_offline(health.lane, health.device)

    @property
    def _clear_after(self) -> timedelta:
        """How long a device back online stays so before its fault clears ([alarms] clear_after_s)."""
        return timedelta(seconds=self.site.config.alarms.clear_after_s)

    def unwritten(self, conn: sqlite3.Connection) -> Unwritten:
        """On the worker, before a look of the operations thread that judges by the rows (patrol
        rounds, repair deadlines): the records a full disk kept in memory written, if it has room
        now, whatever the retry time; what still waits, not to be judged without."""
        return held_back(self._waiting.write_now(conn))

    def _barrier_alarm(self, change: AlarmChange) -> None:
        """A lane's barrier alarm raised or cleared (LaneInputs): recorded in turn; one raised has
        the lane's cameras cut its clips, tied to it as it is written (event_clips.ClippedAlarm)."""
        switch = change.switch
        lane = alarm_lane(switch.kind, switch.source) if switch.raised else None
        if self.clips is not None and lane is not None and (cut := self.clips.cut(switch.kind, lane)):
            change = ClippedAlarm(change.change, cut, self.clips)
        self._record_in_turn(change)

    def _opening_clips(self, lane: str, done: Recorded) -> None:
        """An opening by hand on record: the lane's cameras cut its clips, tied to its audit row.
        One that waits for storage (a full disk) gets none: no row to tie them to yet."""
        audit_id = done.audit_id
        if self.clips is None or audit_id is None or not (cut := self.clips.cut(OPENED, lane)):
            return

        def tie(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                tie_to_audit(conn, audit_id, cut, done.at, self.now())

        self.on_worker(tie)

    def _record_in_turn(self, record: Kept) -> None:
        """A record a full disk must not lose (an alarm, a patrol tap): written on the worker, or
        kept in memory with the lane records that wait for storage, and written in turn with them
        once it takes writes (hand_opens.WaitingRecords.write_in_turn)."""
        self._waiting.write_in_turn(record, self.on_worker)

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

    def exit_button(self, lane: str, device: str) -> bool:
        """Someone inside pressed the door's exit button (ExitButtons): let out like a card, on
        record with the lane's snapshot (who went out)."""
        snapshot = self._snapshot(lane, device)
        return self.present(Presented(lane, BUTTON, device, 1.0, self.now(), device, snapshot))

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
            self._record_in_turn(PatrolTap(at, uuid7(), device, lane, card))

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

    def handle(self, p: Presented, received: float | None = None) -> AccessEvent:
        """Decide one presentation now, record it durably, then act on it (worker thread only)."""
        job = Job(p, time.perf_counter() if received is None else received)
        return self.decide_batch([job])[0]

    def decide_batch(self, jobs: list[Job]) -> list[AccessEvent]:
        """Decide each in order, commit them all in one transaction, then open gates and tell. Each
        car is decided as it is read: the gateway cannot tell which of two cars in a camera's view
        is at the barrier (docs/parking.md, *A queue behind a car held or refused*)."""
        events: list[tuple[AccessEvent, Job]] = []
        self._again.begin_batch()
        self._leaving.pulsed()  # the last batch's were pulsed after it was stored
        try:
            # Inside the try: a database another process holds locked past the busy timeout is a
            # decision that cannot be stored like a full disk, and the guard must be told of it.
            begin_immediate(self.conn)
            for job in jobs:
                ev = self._decide_alone(job.presented)
                # Remembered at once: the next of the batch may be this car again (same_passage).
                self._again.remember(job.presented.value, ev)
                events.append((ev, job))
            self.conn.execute("COMMIT")
            self._again.end_batch()
            self.storage_failing = False  # the disk has room again, the lock was let go
        except BaseException as exc:
            self._roll_back()
            # Not on record: the car stays remembered as the decision that is (let in a moment ago,
            # read again once the disk takes writes, it is still that passage, not a new arrival).
            self._again.undo_batch()
            if not isinstance(exc, sqlite3.Error):
                raise
            # Never open a gate for a decision that is not on disk; the guard can still open by hand.
            self.storage_failures += len(jobs)
            self.storage_failing = True
            cause = storage_cause(exc, self.data_dir)
            log.error(
                "cannot record %d decision(s), gates stay shut error=%s fix=%s",
                len(jobs),
                exc,
                storage_fix(cause, self.data_dir),
                exc_info=cause == "fault",  # a bug (a schema error, a constraint): its traceback
            )
            events = [(self._failed(job.presented, cause), job) for job in jobs]
        for ev, job in events:
            self._after(ev, job.received)
        self._leaving.pulsed()
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
            log.exception(
                "deciding failed lane=%s kind=%s: the gate stays shut fix=%s",
                p.lane,
                p.kind,
                storage_fix("fault", self.data_dir),
            )
            return self._failed(p, "fault")  # the disk has room: the guard is not sent to free it
        self.conn.execute("RELEASE one")
        return ev

    def _decide_one(self, p: Presented) -> AccessEvent:
        lane = self.site.lanes.get(p.lane)
        if lane is None:
            raise ValueError(f"unknown lane {p.lane!r}")
        if p.kind == BUTTON:  # nobody known: no credential, presence or stay to look up or move
            ev = _pressed(p, lane, self.site.policy)
            write_event(self.conn, ev, ev.direction, lane.type)
            return ev
        p = self._cards.as_registered(self.conn, p)  # from here on as if read so
        read = p.value
        previous = self._again.last(p.lane, read) if p.again else None
        taken = previous if previous is not None and previous.decision.admitted else None
        kept = taken.value if taken is not None else ""  # the plate its record keeps
        if taken is not None:
            # The same car let through here a moment ago: taken for what it was let through as (a
            # corrected car as the corrected one, its reading kept as its record has it: _as_read).
            p = replace(p, value=taken.car)
        facts = self._facts(p, lane)
        before, passage, car = None, None, None
        if taken is None:
            taken = self._turned_back(p, lane, facts)
            if taken is not None:  # paid and let out a moment ago, back at an exit: that passage
                p, previous = replace(p, again=True), taken
        if taken is None:
            p, facts = self._lookalike(p, lane, facts)
            passage, facts, car = self._same_passage(p, lane, facts)
            if passage is not None:  # its card after its plate, its plate after a glimpse in the queue
                p, previous = replace(p, again=True), passage
                # Refused, it is decided afresh as a repeat (refused_again), never let through on it.
                taken = passage if passage.decision.admitted else None
        decided_as = kept or p.value  # read, taken as before (a corrected car: read), or a look-alike's match
        if taken is None:  # let through again, it moves no stay and pays nothing: no fee to work out
            held = passage.value if passage is not None and passage.kind == "plate" else ""
            corrected, facts = self.parking.as_corrected(self.conn, p, lane, facts)
            if corrected is not p:  # its hold is keyed by the corrected plate
                p, held = corrected, corrected.value
            facts, before = self.parking.prepare(self.conn, p, lane, facts, held)  # the fee owed at an exit
        closed = self.lane_modes.get(p.lane) == "closed"
        facts = replace(facts, previous_here=previous.decision if previous else None, lane_closed=closed)
        decision = decide(p, facts, self.site.policy)
        if decided_as != read:
            decision = replace(decision, flags=(*decision.flags, "lookalike", f"read:{read}"))
        elif p.value != read:  # decided as the corrected car: the reading beside it, as a look-alike's
            decision = replace(decision, flags=(*decision.flags, f"read:{read}"))
        ev = _as_read(AccessEvent.of(p, facts, decision, snapshot=p.snapshot), decided_as)
        if before is not None and before.reentered is not None and qr_over_listed_car(self.conn, ev):
            # The car listed inside stays on its stay (write_event): no missed exit to settle. Settled,
            # policy.reentry = "charge" carried its fee to its exit, which billed the stay again.
            before = None
        write_event(self.conn, ev, lane.direction, lane.type)
        if is_passage(decision.flags):  # a car decided again was charged, if at all, the first time
            self.parking.settle(self.conn, ev, lane, before)  # charge, payments, shared-slot handover
            if ev.admitted and lane.direction == "exit":
                self._let_out(ev, lane, before)
        if car is not None and ev.admitted:
            # Plate first, its decision opened the car's stay as a stranger's; QR first, none.
            opened = passage.event if passage is not None and passage.kind == "plate" else None
            car_of_pass(self.conn, ev.subject, car, opened)
        return ev

    def _facts(self, p: Presented, lane: LaneRules) -> Facts:
        """What the store knows of `p` (lookup), at an entrance with the cars leaving counted
        inside (stays_leaving)."""
        leaving = self.stays_leaving() if lane.direction == "entrance" else []
        return lookup(self.conn, p, lane, self.site.capacity, leaving)

    def _let_out(self, ev: AccessEvent, lane: LaneRules, before: Before | None) -> None:
        """The exit `ev` let its car out, closing its stay: at a vehicle lane with relays, the car
        is leaving till a relay takes a pulse of it, counted inside meanwhile (CarsLeaving). At a
        lane with none (该通道没有接道闸/门锁) nothing is pulsed, and no answer can put the car back:
        it has left at the decision. Counted leaving there, an entry decided with it in one batch
        was refused zone_full for a free space, and the household's other car was its free slot's
        second car, never handed the slot."""
        account = before.account if before is not None else None
        left = account.stay if account is not None else None
        if left is None or lane.type != "vehicle" or not self.devices.lanes[ev.lane].relays:
            return
        self._leaving.let_out(ev, left.id)

    def stays_leaving(self) -> list[int]:
        """The stays of the cars let out whose barrier has not confirmed yet (CarsLeaving): each
        car is inside till it does, where a put-back would put it. The entrance's lookup and the
        occupancy figures (store/occupancy.py cars_leaving) count them alike: the guard shown a
        space the entrance refuses as full would open by hand. Any thread."""
        return self._leaving.stays()

    def _turned_back(self, p: Presented, lane: LaneRules, facts: Facts) -> Decided | None:
        """At a vehicle exit, the exit a car not recorded inside paid for, or owed nothing on (out
        within its free minutes), and was let out on within the grace period
        (ParkingDesk.left_settled): its driver turned back under the raised arm and
        is at an exit again, after SAME_CAR, which is all DecidedAgain remembers, or after a
        restart. That same passage, let through again as it was (flag `again`: nothing charged,
        no stay moved, counted once), not a car with no entry record. Read first, before a
        look-alike is taken for its plate: it left as itself."""
        if lane.type != "vehicle" or lane.direction != "exit" or facts.inside:
            return None
        subject = subject_of(p, facts.credential, lane.type)
        left = self.parking.left_settled(self.conn, subject, p.at)
        if left is None:
            return None
        # Never remembered (seq -1): the decision now is, as any.
        return Decided(left.decision, p.value, subject, -1, left.lane, p.kind, left.at, left.event_id)

    def _same_passage(
        self, p: Presented, lane: LaneRules, facts: Facts
    ) -> tuple[Decided | None, Facts, str | None]:
        """At a vehicle lane, the decision that let this car through there a moment ago, or refused
        it there, if this is one more look at that passage (DecidedAgain.same_passage); the facts
        to decide `p` on; and the plate of the car of a pass without a plate (_pass_car). A
        resident's own card that names no car, tapped for one of their cars
        (DecidedAgain.resident_car), is a card of that car: the car held to pay, it asks the hold's
        fee as the car's own card would, where the resident alone would be let out free. Any card
        or QR shown a moment after a plate refused `blocked` there (DecidedAgain.blocked_car) is
        that car's, whoever's it is, and is decided with its car blocked: refused `blocked` again
        (refused_again), at an entrance or an exit. Decided alone, a neighbour's card let a stolen
        car in as a temporary car, a forwarded pass's QR let it in as a visitor or out with its
        stay open for good (Reviews 59k, 59n). At a door, the refusal a moment ago of the person
        showing her card or pass again (DecidedAgain.refused_at_door): one person turned away, or
        as many as a pass for several people is for, each showing its QR in turn."""
        cred = facts.credential
        if lane.type != "vehicle":
            people = cred.holder.people if cred is not None else 1
            refused = self._again.refused_at_door(p, subject_of(p, cred, lane.type), people)
            return refused, facts, None
        at_exit = lane.direction == "exit"
        passage = self._again.same_passage(p, subject_of(p, cred, lane.type), at_exit)
        if passage is not None and not self._own_car_back(p, passage):
            return passage, facts, None
        if passage is not None:  # its re-entry, decided on its plate
            return None, facts, None
        blocked = self._again.blocked_car(p)
        if blocked is not None and cred is not None:  # the car at the barrier: so is its card or QR
            its_car = replace(cred.holder, vehicle_blocked=True)
            return blocked, replace(facts, credential=replace(cred, holder=its_car)), None
        if cred is None or p.kind == "qr" or _ended_visit(cred, p.at):
            return self._pass_car(p, lane, facts)
        car = self._again.resident_car(p, cred, lane.direction == "entrance")
        if car is None:
            return None, facts, None
        its = self._facts(replace(p, kind="plate", value=car.value), lane)
        if its.credential is None or its.credential.vehicle is None:  # its plate was deleted since
            return None, facts, None
        return car, replace(its, credential=replace(cred, vehicle=its.credential.vehicle)), None

    def _own_car_back(self, p: Presented, passage: Decided) -> bool:
        """`p`, a plate read in the passage of a pass's QR that let the pass in again over its car
        listed inside, moving no stay (qr_over_listed_car), is that car's plate: the car itself
        back at the entrance, its exit missed (own_car_back), decided as itself, as when its plate
        is read first. Another plate is a second car on the QR. Whether that QR's decision says
        already_inside does not matter: under anti_passback = "off" it says nothing (Review 59p)."""
        return (
            p.kind == "plate"
            and passage.kind == "qr"
            and passage.decision.admitted
            and own_car_back(self.conn, passage.subject, passage.event, p.value)
        )

    def _pass_car(
        self, p: Presented, lane: LaneRules, facts: Facts
    ) -> tuple[Decided | None, Facts, str | None]:
        """At an entrance, a plate nobody registered (or a pass's plate refused for that pass's
        time: _ended_visit) and the QR of a pass, shown within SAME_PASSAGE of each other
        (DecidedAgain.other_half), are one car on that pass: the
        decision on the first, the facts to decide `p` on (the pass's), and the plate the car
        carries, which its stay then carries too (car_of_pass). The pass has no plate, or one the
        camera did not read: the visitor came in another car (a friend's, a taxi), which is the
        car inside, not the one registered. Not for a pass whose car is known
        already (the car behind it), nor for a plate refused as recorded inside already (its exit
        missed), nor a plate read after the QR whose stay is open, nor for a QR after the plate when
        the pass is inside already, nor for a plate after a QR that let the pass in again over its
        stay open (already_inside): each would leave the car a second stay open, or hand the pass a
        stay an earlier entry opened, or write the plate over the stay of the pass's car inside
        (its own plate, read at its entry: the car gone from the cars inside).
        Without it, the car was two cars: two stays, two fees. (A QR after a plate refused
        `blocked` is the blocked car's: _same_passage.)"""
        none = None, facts, None
        half = self._again.other_half(p) if lane.direction == "entrance" else None
        if half is None:
            return none
        if p.kind == "qr":  # the plate came first
            cred = facts.credential
            if cred is None or facts.inside or self._inside_already(half):
                return none
            return (half, facts, half.value) if car_unknown(self.conn, cred.holder) else none
        if p.kind != "plate" or facts.inside:  # a stranger's plate recorded inside: its missed exit
            return none
        if "already_inside" in half.decision.flags:  # the pass's car is inside: this is another
            return none
        its = self._facts(replace(p, kind="qr", value=half.value), lane)
        if its.credential is None or not car_unknown(self.conn, its.credential.holder):
            return none
        return half, its, p.value

    def _inside_already(self, plate: Decided) -> bool:
        """The plate decided a moment ago was refused as a car recorded inside already (its exit
        missed, hard anti-passback): that stay is still open, and not the pass's. One let in again
        over it (soft: already_inside) closed it as a reentry, its fee carried on the plate: the
        stay that entry opened, and that debt, are the pass's car's as any stranger's plate's."""
        return not plate.decision.admitted and stay_open(self.conn, plate.subject)

    def _lookalike(self, p: Presented, lane: LaneRules, facts: Facts) -> tuple[Presented, Facts]:
        """At a lane that allows it, a plate nobody registered is read as the one registered plate a
        look-alike character away, as the register stands now (a plate registered a moment ago
        makes a reading as close to it and to another match neither). Never a plate a guard typed
        (what is on the car: no guessing), nor one recorded inside as read (a stranger's car let in
        on its typed plate leaves as itself)."""
        if (
            facts.credential is not None
            or facts.inside
            or p.kind != "plate"
            or self._plate_match.get(p.lane) != "confusable"
            or p.device.startswith(TYPED_BY)
        ):
            return p, facts
        matched = lookalike_of(self.conn, p.value)
        if matched is None:
            return p, facts
        read_as = replace(p, value=matched)
        return read_as, self._facts(read_as, lane)

    def decide_after(self, prepare: Callable[[sqlite3.Connection], Presented]) -> Future[AccessEvent]:
        """On the worker, in one transaction: `prepare` writes (a guard's payment) and names a
        presentation, which is then decided and recorded; the gate acts after the commit."""
        return self.on_worker(lambda conn: self.decide_now(prepare))

    def decide_now(self, prepare: Callable[[sqlite3.Connection], Presented]) -> AccessEvent:
        """decide_after() on the calling thread (worker thread only, like handle())."""
        received = time.perf_counter()
        self._leaving.pulsed()  # the last batch's were pulsed after it was stored
        try:
            begin_immediate(self.conn)  # a lock timeout too is answered storage_failed (api/errors.py)
            p = prepare(self.conn)
            ev = self._decide_one(p)
            self.conn.execute("COMMIT")
        except BaseException:
            self._roll_back()
            raise
        self._again.remember(p.value, ev)
        self._after(ev, received)
        self._leaving.pulsed()
        return ev

    def _roll_back(self) -> None:
        """Undo a decision's transaction, if it began (BEGIN itself may have failed on the lock)."""
        if self.conn.in_transaction:  # never leave it open: every later decision would fail
            self.conn.execute("ROLLBACK")

    def _failed(self, p: Presented, cause: StorageCause) -> AccessEvent:
        """Refused storage_failed: nothing could be recorded. Whose card or plate it is still shows
        (a full or locked database still reads), for the guard who may open by hand; and why, as
        the flag `storage:<cause>` (full, unwritable, locked, damaged, or fault: a bug of the
        gateway's own), which his panel words: only a full disk sends him to free disk space
        (docs/guard-app.md)."""
        lane = self.site.lanes[p.lane]
        if p.kind == BUTTON:
            # Nobody is kept in for a record that cannot be written: the door opens, logged below.
            return _pressed(p, lane, self.site.policy, flags=(f"storage:{cause}",))
        try:
            facts = lookup(self.conn, p, lane, self.site.capacity)
        except Exception:  # the database cannot even be read: the event names the credential only
            facts = Facts(lane=lane)
        refused = Decision(Reason.STORAGE_FAILED, flags=(f"storage:{cause}",))
        return AccessEvent.of(p, facts, refused, p.snapshot)

    def _after(self, ev: AccessEvent, received: float) -> None:
        self.decisions += 1
        self._act(ev)
        self.latencies_ms.append((time.perf_counter() - received) * 1000)
        log.info(
            "decision lane=%s kind=%s value=%s admitted=%s reason=%s flags=%s",
            ev.lane,
            ev.kind,
            ev.value if ev.kind in ("plate", BUTTON) else mask_card(ev.value),
            ev.admitted,
            ev.reason,
            ",".join(ev.flags) or "-",
        )
        for listener in self._listeners:
            try:
                listener(ev)
            except Exception:
                log.exception("event listener failed")

    def _monthly_ended(self, ev: AccessEvent) -> bool:
        """A car held at an exit to pay whose monthly period has run out by now, billed by time for
        it: its driver is told why he pays, 月租到期 (texts.display_lines). By its stay's period, as
        the guard's panel (api/views.py monthly_ended), his pay dialog (desk_checks.quote_json) and
        a release's words (hand_lane_displays) read it: the register's now, else the end the stay
        kept (a monthly car struck off while parked; a lapsed car that came in as a temporary car,
        flag monthly_expired on its entry, none on its exit, whose renewal while parked an import's
        empty cell or the centre took back). Read from the register alone, such a car was asked
        请缴费 as an owner's car while the guard's tablet said 月租已于 … 到期 (Review 60a). A
        temporary car only if registered (the panel's _may_have_lapsed). Not a monthly car paid up
        that owes only a charge carried from before, nor a car on its own slot, which a lapsed month
        costs nothing: told 月租到期, its driver renewed what needs no renewal."""
        if ev.reason != "payment_due" or ev.billing not in MONTH_LAPSES:
            return False
        if ev.billing != "monthly" and ev.vehicle_id is None:
            return False
        try:
            stay = open_stay(self.conn, ev.subject)
        except sqlite3.Error:  # the words only: the fee is asked all the same
            return False
        until = stay.monthly_until if stay is not None else None
        return month_ran_out(ev.billing, until, ev.at) is not None

    def _act(self, ev: AccessEvent) -> None:
        devices = self.devices.lanes[ev.lane]
        if ev.kind == "plate" and ev.device.startswith(TYPED_BY):
            # The guard typed it (the camera could not read it, or a fee was taken): the lane's
            # cameras must not decide the same car again when they read it a moment later.
            for reader in devices.plate_readers:
                reader.hold(ev.value)
        lane, language = self.site.lanes[ev.lane], self.site.config.site.language
        # As recorded: a door's exit button lets someone out (一路平安) at an entrance door too.
        way = ev.direction or lane.direction
        lines = display_lines(ev, language, way, monthly_ended=self._monthly_ended(ev))
        held = not ev.admitted and ev.reason != Reason.PAYMENT_DUE and ev.lane in self.by_hand.held
        if held:
            # A refusal at a lane held open (常开) keeps the hold's 请通行 (一路平安): a card refused
            # there turned the board to 禁止入内 at a door still wide open, for everyone after. It
            # is recorded and on the guard's panel (Review 60u). A car held to pay is still asked:
            # a hold lets no car out on record, and the guard releases the lane so that it pays.
            lines = let_through_lines(None, language, lane.direction)
        nothing_new = held or AGAIN in ev.flags or REFUSED_AGAIN in ev.flags  # voice not replayed
        if ev.admitted:  # before the pulse: the barrier's feedback may be quick
            self.lane_io.opening(ev.lane, ev.plate or ev.subject)
        else:
            self.lane_io.refused(ev.lane, ev.plate or "", ev.reason)
        if not (ev.admitted and devices.relays):
            self.boards.show(ev.lane, lines, nothing_new=nothing_new)
            return
        pulses: list[Pulsed] = []
        for relay in devices.relays:
            try:
                # Every relay pulsed, whichever took it: a lane's second relay may open alone.
                pulses.append(pulse(relay, self._pulse_seconds[ev.lane], ev.event_id))
            except Exception as exc:
                relay.health.set_offline(f"pulse failed: {exc}")
        rose = [taken for taken, _ in self.lane_io.rising(ev.lane, pulses)]  # once the arm rose
        # A barrier that stays down (its relay board unplugged, or the arm never rose where that is
        # seen): greeted, the driver would sit at it being told to go. The display and the voice
        # send him to the guard instead, and the car, still inside, is put back on its stay.
        fault = fault_lines(ev.plate, language, lane.type)
        known = self._exit_pulses.pulses_known(ev, lane)  # at a vehicle exit, the car's passage judged
        tell_opening(self.boards, ev.lane, pulses, lines, fault, known, rose, nothing_new=nothing_new)

    def opened_by_hand(self, lane: str) -> JoinedByHand:
        """An opening or a hold by hand of `lane` about to drive its relays (HandLanes): the
        passages still judged there joined (ExitPulses.opened_by_hand)."""
        return self._exit_pulses.opened_by_hand(lane)
