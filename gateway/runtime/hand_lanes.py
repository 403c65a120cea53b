"""Lanes by hand (a guard's page, a remote command): open once, hold open, release, close, reopen.

Audited and queued upstream first, then the relays move (a single opening and a release go ahead
while storage takes no writes, their records waiting in memory: hand_opens.py, ReleasedByHand;
not the release a close begins with, refused with the close); the
barrier watch is told, so the opening is not taken for a forced one, and a single opening is told
to the lane's cameras: a car they never read pulls away, and its plate must not end the next car's
trigger. The lane counts as held only
once its relays hold it: a failed hold must not switch off forced-open alarms, and its relays are
released, so that none raises the barrier later (a board plugged back) of a lane held nowhere on
record; a failed hold of a lane already held leaves that hold as it was. A relay that fails is
recorded as `<action>_failed` (audit, with the guard's reason, and upstream, with the relay's error),
that record waiting in memory, as a single opening's does, while the disk takes no writes
(hand_opens.py). A single opening of a vehicle exit lets out the car held there to pay that the lane
shows (none held, the car it refused a moment ago: ParkingDesk.car_at_barrier), once a relay took
it: its stay closes then, dated at the opening (LetOutByHand), and the lane's camera reading it
again as it pulls away takes it for that passage (DecidedAgain). Those records, and a release's,
are in hand_lane_records.py.
A single opening is told to the lane's displays too (_tell_lane): let through, or the barrier's fault;
a relay that did not take it (a Modbus module's write unanswered: lane_boards.taken) fails it, as one
that raised does. A hold is judged the same way (lane_boards.held: a Modbus module never raises, its
adapter unplugged) and told to them as let through once held, the barrier's fault if not. A release
is judged so too (lane_boards.released): a barrier left up is not reported let down; once taken
(or written later: _down_later), the displays show the lane's idle line, and a closed lane its
refusal (_tell_shut), not a 请通行 left at a lowered arm; an exit whose barrier a car is at being
asked (held there to pay, while it still owes; refused a moment ago) is told again what its
decision told it (_tell_released), which the hold's 一路平安 replaced. One thing told per action: a
close says it is closed, a hold that reopens a closed lane says 请通行, neither the idle line first;
a close refused because its release was not taken told nothing, and that release, written later,
is told as any release is.
Openings, holds and releases of one lane take turns (a lock per lane, held while a hold waits for
its relay's answer): a release pressed while a Modbus module had not yet answered the hold was
done first, and the hold's late "taken" then kept the lane held, on the pages and the board, at a
barrier the release had shut. The decisions never take these locks: a car is not kept waiting.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from drivers.relays.control import WrittenLater
from gateway.core.tickets import NO_PLATE
from gateway.errors import Conflict, GatewayError, NotFound, Refused
from gateway.parking.book import month_ran_out
from gateway.parking.service import ParkingDesk
from gateway.runtime.devices import Devices
from gateway.runtime.hand_lane_records import (
    Gone,
    LetOutByHand,
    OnWorkerNow,
    OpenedByHand,
    ReleasedByHand,
)
from gateway.runtime.hand_opens import Kept, LaneRecord, Recorded, WaitingRecords
from gateway.runtime.kept_records import AlarmChange
from gateway.runtime.lane_boards import JoinedByHand, LaneBoards, held, released, taken
from gateway.runtime.lanes import BarrierWatch
from gateway.runtime.texts import (
    closed_lines,
    fault_lines,
    idle_lines,
    let_through_lines,
    pay_lines,
    refusal_lines,
)
from gateway.runtime.worker import StillRunning, wait_or_call_off
from gateway.site import Site
from gateway.store.alarms import clear_alarm
from gateway.store.database import transaction
from gateway.store.holds import Held, Told, last_told
from gateway.store.lanes import LANE_MODES, ModeOnRecord, forget_hold, set_lane_mode
from gateway.store.parking import Owed

log = logging.getLogger(__name__)

T = TypeVar("T")

LANE_RECORD_WAIT_S = 10.0  # a lane held, released, closed by hand waits this long for its record


class HandLanes:
    def __init__(
        self,
        site: Site,
        devices: Devices,
        barriers: BarrierWatch,
        now: Callable[[], datetime],
        on_worker_now: OnWorkerNow,
        waiting: WaitingRecords,
        pulse_seconds: dict[str, float],
        lane_modes: dict[str, str],
        desk: ParkingDesk,
        gone: Gone,
        boards: LaneBoards,
        passages: Callable[[str], JoinedByHand],
        on_opened: Callable[[str, Recorded], None] = lambda lane, done: None,
    ):
        self.site = site
        self._on_opened = on_opened  # an opening by hand on record: its clip (event_clips.py)
        self.devices = devices
        self._boards = boards  # the gateway's: what a lane's displays were last told
        self.barriers = barriers
        self.now = now
        self._on_worker_now = on_worker_now
        # Lane records that wait for storage: single opens by hand, and relays that failed by hand.
        self._waiting = waiting
        self._pulse_seconds = pulse_seconds
        # The gateway's own dict, changed here in place: its decisions refuse everyone at a closed lane.
        self.lane_modes = lane_modes
        self.held: dict[str, str] = {}  # lane -> who holds it open by hand
        # One action by hand at a time per lane (taken after _check_lane: a lane of the site config),
        # the last one asked last on the relays, on record and in `held`. Reentrant: setting a mode
        # holds or releases, a hold reopens a closed lane.
        self._turns = {lane: threading.RLock() for lane in site.lanes}
        self._desk = desk  # the gateway's: the car a lane shows held to pay, let out by an opening
        self._gone = gone  # the car let out by a single opening, told to the same-passage memory
        # The cars let out at an exit whose decision's pulse still waits (a Modbus module): an
        # opening or a hold joins their passages (Gateway.opened_by_hand), its outcome told to them.
        self._passages = passages
        # The cars single openings let out whose records are not written yet (waiting for storage,
        # or on their way to the worker): by lane. Added as the relay takes the opening (the HTTP
        # server's thread), taken out once written or dropped (the worker's).
        self._leaving: dict[str, list[LetOutByHand]] = {}
        self._leaving_lock = threading.Lock()
        # lane -> the release its relays did not take, still wanted (_down_later): a token, replaced
        # by a later one, dropped by a hold or a release that takes. With `held` and the barrier
        # watch's hold, changed under _held_lock (a relay's bus thread tells it, outside the turns).
        self._releasing: dict[str, object] = {}
        self._held_lock = threading.Lock()
        # lane -> holds written on record in this run, counted on the decision worker once written:
        # a release that waited for storage ends the hold on record only if none was written since
        # it was made (ReleasedByHand).
        self._holds_written: dict[str, int] = {}
        # Told each lane record by hand as it is written or kept to wait for storage (subscribe).
        self._listeners: list[Callable[[LaneRecord, Recorded], None]] = []

    def subscribe(self, listener: Callable[[LaneRecord, Recorded], None]) -> None:
        """`listener(record, how it went)` for each lane record by hand as it is written, or kept to
        wait for storage: a guard's, the centre's (its commands), the gateway's own (a hold again at
        start). The live pages list each as it comes (gateway/api/guard.py), whoever did it: the
        centre's opening was listed only once the page was reloaded."""
        self._listeners.append(listener)

    def _made(self, record: LaneRecord, done: Recorded) -> Recorded:
        for listener in self._listeners:
            try:
                listener(record, done)
            except Exception:
                log.exception("lane record listener failed lane=%s action=%s", record.lane, record.action)
        return done

    def open_lane(self, lane: str, actor: str, reason: str) -> Recorded:
        """Open a lane once by hand; returns how its record went: its audit row's id, its time (the
        live pages show each action once by these). On a disk that takes no writes, or a database
        another process holds locked (past HAND_OPEN_WAIT_S), it opens all the same (the guard is
        signed in and means it: residents must not be locked out), no audit id yet and why it
        waits: its record waits in memory and is written, with this time, as soon as storage
        takes writes again. At a vehicle exit, the car held there to pay that the lane shows
        leaves by it, once a relay took the opening:
        its stay closes then (ParkingDesk.let_out_by_hand), and, read again as it pulls away, it is
        that passage (LetOutByHand). A car the lane's camera let out a moment ago, its pulse not
        answered yet (a Modbus module), is out on this opening once a relay takes it: the decision's
        pulse answered "not taken" after it does not put the car back inside (Gateway.opened_by_hand),
        and the opening is for that car: it lets out no car held there before it (one that backed
        away and parked), nor names one on the display."""
        self._check_lane(lane, "open", reason)
        with self._turns[lane]:
            took: list[object] = []
            joined = self._passages(lane)  # before the car is looked for (Gateway.opened_by_hand)
            arm = _once(joined.opened)  # told once: by _open as the relays answered, or here
            try:
                return self._open(lane, actor, reason, took, joined.since, arm)
            finally:
                arm(bool(took))

    def _open(
        self,
        lane: str,
        actor: str,
        reason: str,
        took: list[object],
        since: datetime | None,
        arm: Callable[[bool], Future[bool]],
    ) -> Recorded:
        record = LaneRecord(self.now(), lane, "open", actor, reason.strip())
        rules = self.site.lanes[lane]
        if rules.direction == "exit" and rules.type == "vehicle":
            record = OpenedByHand.of(record, self._desk, self._leaving_cars, since)
        done = self._write_or_keep(record)
        self._on_opened(lane, done)
        ref = done.ref
        # Named, the car it lets out is no longer the lane's last refused: a car that follows it
        # under the same arm-up is not alarmed 跟车通过 in its name (Review 57n).
        self.barriers.commanded(lane, time.monotonic(), _held_plate(record) or "")

        def pulse(relay: Any) -> None:
            # Not taken, it fails as a write that raised does: lane.open_failed, and the guard (or
            # the centre's command reply) is told, not told the barrier opened.
            if not taken(relay, self._pulse_seconds[lane], ref):
                raise OSError(f"did not take the pulse: {relay.health.last_error or 'no answer'}")
            took.append(relay)

        try:
            self._drive(lane, actor, reason, "open", pulse)
        finally:
            rose = arm(bool(took))
            ticket = self._tell_lane(lane, bool(took), _held_plate(record))
            if took and since is None:  # a joined passage's fault is the gateway's to show
                rose.add_done_callback(partial(self._arm_known, lane, ticket, _held_plate(record)))
            if took and isinstance(record, OpenedByHand):
                self._let_out_once_up(LetOutByHand(record, self._gone, self._no_longer_leaving), ref, rose)
        for camera in self.devices.lanes[lane].cameras:  # a car they never read may be leaving
            camera.opened_by_hand()
        return done

    def _arm_known(self, lane: str, ticket: int, plate: str | None, rose: Future[bool]) -> None:
        """An opening the relay took whose arm never rose (its contact watched: LaneInputs.rising,
        which raised barrier_no_response): the board sends the driver to the guard, as a
        decision's does, unless something newer was shown meanwhile (Review 57p)."""
        if not rose.result():
            language, kind = self.site.config.site.language, self.site.lanes[lane].type
            self._boards.show_unless_newer(lane, ticket, fault_lines(plate, language, kind))

    def _let_out_once_up(self, let_out: LetOutByHand, ref: str, rose: Future[bool]) -> None:
        """The car the opening lets out, let out once its arm rose where that is watched
        (LaneInputs.rising): on the relay's word alone, a guard's 开闸 at a dead barrier controller
        closed the stay of a car still sitting at the shut arm and ended its hold, and read again a
        minute on it was a car with no entry record (Review 57p). Not risen, it stays held, its
        stay open. Waiting for the arm (1-6 s), the lane's next openings pass over it already; the
        guard's answer does not wait for it (he sees the arm), nor for its record."""
        if rose.done():
            if rose.result():
                self._let_out(let_out, ref)
            return
        if let_out.opened.found == [None]:
            return  # none held there
        self._leave(let_out)

        def arm_known(up: Future[bool]) -> None:
            if up.result():
                self._write_let_out(let_out, wait=False)
            else:
                self._no_longer_leaving(let_out)

        rose.add_done_callback(arm_known)

    def _let_out(self, let_out: LetOutByHand, ref: str) -> None:
        """The car the opening let out, on record now that a relay took it. Its opening's record
        written, the guard's answer waits for this one too (at most HAND_OPEN_WAIT_S), so that the
        pages read the car as gone; the opening's record waiting for storage, this one waits in
        turn behind it (and any before it), and the guard is not kept waiting twice. Sent to the
        worker apart from the queue, it was written first once storage took writes again: before
        its opening's record, and, with the lane opened again meanwhile, by the later opening.
        Until it is written, the lane's next openings pass over the car (_leaving_cars)."""
        if let_out.opened.found == [None]:
            return  # none held there
        self._leave(let_out)
        self._write_let_out(let_out, wait=ref.startswith("audit:"))

    def _leave(self, let_out: LetOutByHand) -> None:
        with self._leaving_lock:
            self._leaving.setdefault(let_out.lane, []).append(let_out)

    def _write_let_out(self, let_out: LetOutByHand, wait: bool) -> None:
        """Written in turn, the guard not waiting for it, unless `wait` (its opening's record
        written, the guard not answered yet): its opening's record waits for storage, or the
        guard was answered already (the arm waited for)."""
        if not wait:
            # The car has gone through: read again as it pulls away, it is that passage, before
            # its record is written (as when the write is tried and fails: LetOutByHand.write).
            self._on_worker_now(lambda _conn: let_out.left())
            written = self._waiting.write_in_turn(let_out, self._on_worker_now)
            written.add_done_callback(
                lambda done: self._not_written(let_out, None if done.cancelled() else done.exception())
            )
            return
        try:
            self._waiting.write_or_keep(let_out, self._on_worker_now)
        except sqlite3.Error as exc:  # not storage: the barrier is up, the guard told it opened
            self._not_written(let_out, exc)

    def _not_written(self, let_out: LetOutByHand, exc: BaseException | None) -> None:
        """A let-out that failed for a reason other than storage's (not kept: it would fail again):
        the barrier is up, the guard told it opened, the car's stay left open."""
        if exc is None:
            return
        log.error(
            "%s not on record %s at=%s error=%s fix=%s",
            let_out.what,
            let_out.details(),
            let_out.at.isoformat(),
            exc,
            let_out.if_never() or "nothing to close: the car had no stay",
        )

    def _leaving_cars(self, lane: str) -> frozenset[tuple[str, datetime]]:
        """The cars earlier openings let out at `lane` whose records are not written yet, by their
        hold key and when their hold (or refusal) began (ParkingDesk.car_at_barrier)."""
        with self._leaving_lock:
            waiting = list(self._leaving.get(lane, ()))
        cars = (let_out.car() for let_out in waiting)
        return frozenset((found[0].car, found[0].at) for found in cars if found is not None)

    def _no_longer_leaving(self, let_out: LetOutByHand) -> None:
        with self._leaving_lock:
            waiting = self._leaving.get(let_out.lane, [])
            waiting[:] = [w for w in waiting if w is not let_out]

    def _tell_lane(self, lane: str, opened: bool, plate: str | None) -> int:
        """The lane's displays after an opening by hand: left as they were, the driver let out
        was still asked for the fee (临时车 请缴费 7元), a car let in still read 禁止入内. A
        barrier that did not open sends him to the guard, as a decision's does (Gateway._act).
        Displays return at once (a serial board writes on its own thread): the guard waits for none."""
        rules, language = self.site.lanes[lane], self.site.config.site.language
        if opened:
            lines = let_through_lines(plate, language, rules.direction)
        else:
            lines = fault_lines(plate, language, rules.type)
        return self._boards.show(lane, lines)

    def _tell_shut(self, lane: str, closed: bool = False) -> None:
        """The lane's displays once its barrier is down again by hand (a release, a closed lane
        reopened: idle_lines) or it is closed (closed_lines, what its decisions tell everyone now).
        Left reading 请通行 (一路平安 at an exit) from the hold, the board told the next driver to
        go at a lowered arm, as a failed hold's would (_hold)."""
        self._boards.show(lane, self._shut_lines(lane, closed))

    def _shut_lines(self, lane: str, closed: bool = False) -> list[str]:
        rules, language = self.site.lanes[lane], self.site.config.site.language
        return closed_lines(language, rules.direction) if closed else idle_lines(language, rules.type)

    def _tell_released(self, lane: str) -> None:
        """The lane's displays once a release by hand is taken: the idle line (_tell_shut), unless
        a car is at its barrier being asked (_car_asked): a car held behind a convoy to pay, the
        guard releasing the lane so that it pays, was told 一车一杆 减速慢行 as if nobody were being
        decided, and no longer asked for its fee. It is told again what it is asked: the hold's
        一路平安 replaced what it was told before the hold, and stayed over the lowered arm."""
        try:
            asked = _answer(self._car_asked(lane), LANE_RECORD_WAIT_S)
        except Exception as exc:  # the words only: the release is done, its barrier down
            log.warning("lane %s released: its barrier's car not looked for (%s): idle line shown", lane, exc)
            asked = None
        self._boards.show(lane, asked or self._shut_lines(lane))

    def _car_asked(self, lane: str) -> Future[list[str] | None]:
        """What the car at the barrier of the exit `lane` is asked, now (on the worker), in its
        decision's words (_asked_lines); None: nobody is asked. The car there held to pay, or
        refused a moment ago (ParkingDesk.car_at_barrier, the car an opening by hand would let
        out), while it still owes: one that paid at the booth since is asked nothing (still told
        请缴费 7元, its driver would pay twice), its next decision lets it out. So is a car let out
        at a barrier that did not open (道闸故障, its stay put back), which was never refused: it is
        asked what its stay owes now, if anything (told 禁止通行 临时车 by its exit's reason, a
        driver owing nothing was refused). A car its camera watching the lane no longer sees has
        gone, through the barrier held up (still held on record for a while): nobody is asked."""
        rules, at = self.site.lanes[lane], self.now()
        if rules.direction != "exit" or rules.type != "vehicle":
            none: Future[list[str] | None] = Future()
            none.set_result(None)
            return none

        def asked(conn: sqlite3.Connection) -> list[str] | None:
            found = self._desk.car_at_barrier(conn, lane, at, self._leaving_cars(lane))
            if found is None or not self._still_seen(lane, found[0]):
                return None
            held, account = found
            told = last_told(conn, lane, held, self.site.lanes)
            if told is None:
                return None
            if not _refused(held, told) and account.quote.due_fen <= 0:
                return None  # paid since it was held (at the booth), or put back owing nothing
            return self._asked_lines(lane, held, account, told, at)

        return self._on_worker_now(asked)

    def _still_seen(self, lane: str, car: Held) -> bool:
        """Whether the car found at the barrier is still there: seen by the lane's camera (by the
        text it read), or the lane has none watching it to tell."""
        plate = car.plate_read or car.plate
        return not self.devices.watches(lane) or (plate is not None and self.devices.sees(lane, plate))

    def _asked_lines(self, lane: str, held: Held, account: Owed, told: Told, at: datetime) -> list[str]:
        """What its decision's display told the car at the barrier (texts.display_lines), built
        again from what the desk finds now: a refusal's words, or the fee it still owes (less what
        it paid at the booth since) as whose car it is, 月租到期 for a month that has run out."""
        rules, language = self.site.lanes[lane], self.site.config.site.language
        if _refused(held, told):
            return refusal_lines(told.reason, held.plate, language, rules.direction)
        # As Gateway._monthly_ended tells it at its decision: its stay's period, the register's now.
        until = account.stay.monthly_until if account.stay is not None else None
        lapsed = "monthly_expired" in told.flags or month_ran_out(told.billing, until, at) is not None
        no_plate = NO_PLATE in told.flags
        return pay_lines(
            account.quote.due_fen, held.plate, told.holder_kind, language, lapsed=lapsed, no_plate=no_plate
        )

    def hold_lane(self, lane: str, actor: str, reason: str) -> Recorded:
        """Keep a lane open (a convoy, an ambulance) until release_lane, across restarts too (the
        hold is on record with its audit row; hold_again). A closed lane is reopened first, on
        record (held up, it is not closed), and closed again if its barrier cannot be held. Once
        held, a held_open alarm already raised for the lane clears (the barrier watch tells the
        lane's inputs, LaneInputs): the guard has answered it. A lane already held (the central
        server sends open again, a second guard presses hold) is held by this actor once the relays
        take it; if they fail, the standing hold stays as it was, on record and on the relays.
        Returns the hold's record (its audit row id and time)."""
        self._check_lane(lane, "hold", reason)
        with self._turns[lane]:  # a release pressed meanwhile waits for the relay's answer
            joined, held_up = self._passages(lane), False  # as an opening's (open_lane)
            try:
                done = self._hold_by_hand(lane, actor, reason)
                held_up = True
                return done
            finally:
                joined.known(held_up)

    def _hold_by_hand(self, lane: str, actor: str, reason: str) -> Recorded:
        standing = lane in self.held
        reopened = self.lane_modes.get(lane) == "closed"
        if reopened:  # told nothing: the hold's 请通行 (or its fault) is what the lane says
            self._set_mode(lane, "normal", actor, reason, tell=False)
        try:
            # A standing hold keeps its row (holder, since) until this one has taken.
            done = self._record_lane(
                lane,
                actor,
                "hold",
                reason,
                None if standing else self._held_by(lane, actor),
                None if standing else partial(self._hold_written, lane),
            )
            self._hold(lane, actor, reason)
        except GatewayError:
            if not standing:
                self._forget_hold(lane)
            if reopened:
                self.set_lane_mode(lane, "closed", actor, f"{reason.strip()}: the barrier was not held up")
            raise
        if standing:
            self._on_record(
                lane,
                self._held_by(lane, actor),
                "still on record as held by its last holder",
                partial(self._hold_written, lane),
            )
        return done

    @staticmethod
    def _held_by(lane: str, actor: str) -> Callable[[sqlite3.Connection, datetime], None]:
        return lambda conn, at: set_lane_mode(conn, lane, "open", at, actor)

    def _hold_written(self, lane: str) -> None:
        """A hold of the lane is on record (on the decision worker, once its transaction is
        committed): a release made before it and written after it leaves it there."""
        self._holds_written[lane] = self._holds_written.get(lane, 0) + 1

    def _no_hold_since(self, lane: str) -> Callable[[], bool]:
        """Whether no hold of the lane has been written on record since now (read on the worker,
        where holds are counted: _hold_written). Made in the lane's turn, after any hold made
        before it was written or refused."""
        seen = self._holds_written.get(lane, 0)
        return lambda: self._holds_written.get(lane, 0) == seen

    def modes_again(self, on_record: dict[str, ModeOnRecord]) -> None:
        """At start, before the barriers' inputs are watched: the lanes closed or held open when the
        gateway stopped. One whose lane has gone from the site config (renamed, removed) is off
        record (_drop_gone); the others held open are held again (hold_again), and the closed ones
        are in `lane_modes` already (the gateway read them before any decision)."""
        held = {}
        for lane, was in on_record.items():
            if lane not in self.site.lanes:
                self._drop_gone(lane, was)
            elif was.mode == "open":
                held[lane] = (was.by, was.since)
        self.hold_again(held)

    def hold_again(self, on_record: dict[str, tuple[str, datetime]]) -> None:
        """The lanes held open when the gateway stopped are held again, on record (actor `gateway`)
        and still shown as held by whoever held them. One whose relay has gone from the site config,
        or cannot hold, is no longer held, on record nor on its relays; the log says so.
        On a disk that takes no writes (a power cut while the card was full) the relays hold it all
        the same, as a single opening goes ahead: the hold is on record already, by its holder, and
        this record of it waits in memory until storage takes writes (WaitingRecords). Its write
        failing stopped the start for good, the barrier dropped on the convoy."""
        for lane, (holder, since) in on_record.items():
            local = since.astimezone(self.site.tz)  # stored UTC: the pages read the site's time
            reason = f"held again after a restart (held by {holder} since {local:%Y-%m-%d %H:%M})"
            try:
                self._check_lane(lane, "hold", reason)
            except GatewayError as exc:  # its relay taken out of the config: dropped on record
                if self._drop_on_record(lane, "hold_failed", f"{reason}: {exc}", "held open"):
                    log.error("lane %s no longer held open after the restart: %s", lane, exc)
                continue
            try:
                with self._turns[lane]:
                    self._write_or_keep(LaneRecord(self.now(), lane, "hold", "gateway", reason))
                    self._hold(lane, holder, reason)
            except (GatewayError, sqlite3.Error) as exc:  # sqlite3: a fault that is not storage's
                self._forget_hold(lane)
                log.error("lane %s no longer held open after the restart: %s", lane, exc)
                continue
            self._answered_held_open(lane)

    def _answered_held_open(self, lane: str) -> None:
        """A lane held again at start: the held_open alarm the last run left open for it (its
        clearing not written: a full disk) is answered. The hold clears one through the lane's
        inputs (LaneInputs._held_by_guard), which load the alarms left open only after this (Gateway.
        start); kept, it would say for as long as the lane stays held that no guard holds it.
        Queued on the worker before they are loaded, it is cleared first; on a disk that takes no
        writes, once it does (WaitingRecords.write_in_turn)."""
        cleared = partial(clear_alarm, kind="held_open", source=lane, at=self.now())
        self._waiting.write_in_turn(AlarmChange(cleared), self._on_worker_now)

    def _drop_gone(self, lane: str, was: ModeOnRecord) -> None:
        """A lane closed or held open on record that the site config no longer has: no command can
        set it back (set_lane_mode knows only configured lanes), so, kept, it would be reported
        upstream for ever. Its mode is dropped, on record (`lane.reopen` for a closed lane,
        `lane.hold_failed` for a held one, by `gateway`); the same barrier under a new id is normal."""
        what = "closed" if was.mode == "closed" else "held open"
        since = f"{was.since.astimezone(self.site.tz):%Y-%m-%d %H:%M}"  # on the pages, the site's time
        why = f"no lane {lane!r} in the site config ({what} by {was.by} since {since})"
        action = "reopen" if was.mode == "closed" else "hold_failed"
        if self._drop_on_record(lane, action, why, what):
            log.error(
                "lane %s no longer %s after the restart: %s; fix: if the lane was renamed, %s it again "
                "under its new id",
                lane,
                what,
                why,
                "close" if was.mode == "closed" else "hold",
            )

    def _drop_on_record(self, lane: str, action: str, why: str, what: str) -> bool:
        """A mode the start cannot keep (its lane or its relay gone from the site config) set back to
        normal on record, by `gateway`, and upstream (`lane_action`): dropped by deleting its row
        alone, the hold vanished from the audit page and the centre's records. False, logged, when
        it could not be written (still on record: tried again at the next start)."""
        try:
            self._record_lane(
                lane, "gateway", action, why, lambda c, at: set_lane_mode(c, lane, "normal", at, "gateway")
            )
        except (GatewayError, sqlite3.Error) as exc:
            log.error("lane %s %s on record could not be dropped: %s (%s)", lane, what, exc, why)
            return False
        return True

    def _hold(self, lane: str, holder: str, reason: str) -> None:
        self.barriers.commanded(lane, time.monotonic())

        def hold(relay: Any) -> None:
            # Not held (a Modbus module that did not take the write), it fails as a hold that
            # raised does: lane.hold_failed, and the guard (or the centre's command reply) is told.
            if not held(relay):
                raise OSError(f"did not take the hold: {relay.health.last_error or 'no answer'}")

        try:
            self._drive(lane, holder, reason, "hold", hold)
        except GatewayError:
            if lane not in self.held:
                self._let_go(lane)
                # A convoy told 一路平安 at a barrier held by no relay would drive into it: sent to
                # the guard, as a single opening that did not open is (_tell_lane). A standing hold
                # keeps what its lane shows.
                self._tell_lane(lane, False, None)
            raise
        with self._held_lock:
            self.held[lane] = holder
            self._releasing.pop(lane, None)  # held again: a release written later no longer ends it
        self.barriers.held(lane, True, time.monotonic())
        # Opened for whoever is there, as a single opening is: a board left reading 禁止入内 (the
        # card refused before) would tell every walker through the open door to stay out.
        self._tell_lane(lane, True, None)

    def _let_go(self, lane: str) -> None:
        """A hold that failed is not held on the relays either. A relay wants its state before it
        writes it, so that a board replugged is sent what it should be (drivers/relays/control.py):
        a hold whose write failed (an LCUS board not back yet after a power cut), or that one relay
        of two took, would raise the barrier of a lane held nowhere on record once the board is back."""
        for relay in self.devices.lanes[lane].relays:
            try:
                relay.release()
            except Exception as exc:  # wanted "off" all the same: sent when the board is back
                log.warning(
                    "lane %s relay %s not released after a failed hold: %s", lane, relay.health.device, exc
                )

    def _forget_hold(self, lane: str) -> None:
        """A hold that did not take (or cannot at start) is off record: not tried at every start."""
        # Kept on record, it is tried again (and fails again) at start.
        self._on_record(
            lane,
            lambda conn, _at: forget_hold(conn, lane),
            "not held, but still on record as held (tried again at start)",
        )

    def _on_record(
        self,
        lane: str,
        change: Callable[[sqlite3.Connection, datetime], None],
        if_not: str,
        then: Callable[[], None] | None = None,
    ) -> None:
        """A lane's mode changed on record after its relays moved: a failure is logged, not raised
        (the relays have done what was asked). `then`, on the worker once it is written."""

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                change(conn, self.now())
            if then is not None:
                then()

        try:
            _answer(self._on_worker_now(write), LANE_RECORD_WAIT_S)
        except (GatewayError, sqlite3.Error, TimeoutError) as exc:
            log.error("lane %s %s: %s", lane, if_not, exc)

    def release_lane(self, lane: str, actor: str, reason: str) -> Recorded:
        """Let a held lane's barrier down. Judged as a hold is (lane_boards.released: a Modbus
        module never raises, its adapter unplugged): a relay that did not take it fails it
        (`lane.release_failed`), and the lane is still shown held, its barrier up, until that
        relay writes the release, still wanted, once it answers again (_down_later). On a disk that
        takes no writes it goes ahead as a single opening does, its record (the hold off record with
        it) waiting in memory (ReleasedByHand). A lane not held open (released meanwhile on another
        tablet) is 409 already_done, nothing written (_still_held). Returns how its record went, as
        open_lane does."""
        self._check_lane(lane, "release", reason)
        with self._turns[lane]:  # read once a hold or release under way is done
            self._still_held(lane)
            return self._release(lane, actor, reason)

    def _release(
        self, lane: str, actor: str, reason: str, stored_first: bool = False, tell: bool = True
    ) -> Recorded:
        """release_lane; `stored_first`: its record written before any relay moves, or refused
        (sqlite3.Error) with nothing moved, as a close's is (_set_mode). `tell`: the lane's displays
        told once it is down (_tell_released); not by a close, which tells them it is closed, one
        announcement, not the idle line and then the closed one. A release not taken, written
        later, is told once written whatever `tell` says: its close is refused (_down_later)."""
        self._check_lane(lane, "release", reason)
        not_taken: list[WrittenLater] = []
        unknown: list[Any] = []

        def release(relay: Any) -> None:
            try:
                took = released(relay)
            except Exception:
                unknown.append(relay)
                raise
            if not took:  # only a relay written later answers so (lane_boards.released)
                not_taken.append(relay)
                raise OSError(f"did not take the release: {relay.health.last_error or 'no answer'}")

        with self._turns[lane]:  # after a hold under way: the release is the last word
            record = ReleasedByHand(
                self.now(), lane, "release", actor, reason.strip(), no_hold_since=self._no_hold_since(lane)
            )
            done = self._write_lane(record) if stored_first else self._write_or_keep(record)
            try:
                self._drive(lane, actor, reason, "release", release)
            except GatewayError:
                if not_taken and not unknown:  # a relay that raised says nothing of a later write
                    # Told once written, whoever asked: a close that began with this release is
                    # refused with it, and would tell the board nothing ever (一路平安 for good).
                    self._down_later(lane, not_taken)
                raise
            with self._held_lock:
                self.held.pop(lane, None)
                self._releasing.pop(lane, None)
                self.barriers.held(lane, False, time.monotonic())
            if tell:
                self._tell_released(lane)
        return done

    def _still_held(self, lane: str) -> None:
        """A release of a lane not held open (released meanwhile on another tablet, or on a page
        drawn before) is said so (Conflict already_done), nothing written nor moved, as a close of a
        lane closed already is (_set_mode): done again, it was a second lane.release row and
        lane_action record upstream, the centre counting two releases of one hold. A release its
        relays did not take, still wanted (_down_later), may be pressed again. Not asked of a close
        that lets a hold down (_set_mode): its relays' late release meanwhile is no reason to refuse it.
        Its `state` says why, for the pages to word it (通道未处于常开状态): a lane never held open was
        released by nobody, and 已由他人处理 was false."""
        with self._held_lock:
            standing = lane in self.held or lane in self._releasing
        if not standing:
            raise Conflict(
                f"lane {lane} is not held open: there is nothing to release",
                fix="nothing to do",
                code="already_done",
                data={"state": "not_held"},
            )

    def _down_later(self, lane: str, relays: list[WrittenLater]) -> None:
        """A release its Modbus relays did not take (the adapter unplugged) is still wanted, and
        written once they answer again: the lane is then no longer held, in `held` (the pages:
        常开中, the centre's lane_modes) nor in the barrier watch. Kept held, a barrier down and its
        hold off record (a restart showed it normal) was shown held by the guard for good, and a car
        forcing the arm up raised no forced_open alarm. Unless the lane was held again meanwhile
        (a hold that took), or released again (this release's wait is then that one's). Told on the
        relays' bus thread: the turns are not taken there (a hold under way waits on that thread).
        Its displays are told once it is written, as a release's (_tell_released), the car at the
        barrier looked for then, the bus thread not waiting for the worker (_tell_written): also
        after a close refused because of it, which told them nothing."""
        token = object()
        with self._held_lock:
            self._releasing[lane] = token
        offs = [relay.off_written() for relay in relays]
        # Shown once written, unless a car decided meanwhile has been told something since.
        ticket = self._boards.reserve(lane)

        def written(_: Future[bool]) -> None:
            if not all(off.done() and not off.cancelled() and off.result() for off in offs):
                return  # another relay still to write it (or closed: the gateway stops)
            with self._held_lock:
                if self._releasing.get(lane) is not token:
                    return
                del self._releasing[lane]
                was = self.held.pop(lane, None)
                self.barriers.held(lane, False, time.monotonic())
            self._car_asked(lane).add_done_callback(partial(self._tell_written, lane, ticket))
            log.warning(
                "lane %s released after all: its relays took the release once they answered again "
                "(held by %r until then; lane.release_failed on record)",
                lane,
                was,
            )

        for off in offs:
            off.add_done_callback(written)

    def _tell_written(self, lane: str, ticket: int, asked: Future[list[str] | None]) -> None:
        """A release written later (_down_later), once its barrier's car was looked for: what that
        car is asked (_car_asked), else the idle line, or what the lane is then, closed, under the
        ticket reserved when the release failed."""
        closed = self.lane_modes.get(lane) == "closed"
        lines = None if closed else _asked(asked)
        self._boards.show_unless_newer(lane, ticket, lines or self._shut_lines(lane, closed))

    def set_lane_mode(self, lane: str, mode: str, actor: str, reason: str) -> None:
        """normal; open (held open, as hold_lane); or closed: everyone at the lane is refused
        (reason lane_closed) until it is set back to normal, across restarts too."""
        if mode not in LANE_MODES:
            raise Refused(
                f"lane mode {mode!r} is not one of {list(LANE_MODES)}", fix="use normal, open or closed"
            )
        self._known_lane(lane)  # before "normal" on a lane not closed is taken for done
        if mode == "open":
            self.hold_lane(lane, actor, reason)
            return
        with self._turns[lane]:  # `held` and the mode read once a hold under way is done
            self._set_mode(lane, mode, actor, reason)

    def set_closed(self, lane: str, closed: bool, actor: str, reason: str) -> Recorded | None:
        """A guard's 关闭通道 (closed) or 开放通道 (not): the central server's set_lane_mode, with
        the same records; returns its record (None: none was made). A lane closed already (or
        reopened when it is not closed), on another tablet or by the centre, is said so (Conflict
        already_done), not recorded twice; and a reopen of a lane that is not closed does not
        release a lane held open, as set_lane_mode normal would. Checked in the lane's turn:
        checked before it, two tablets pressing at once were both done (two lane.close rows and
        records upstream, or a reopening answered done and shown on every page that nothing
        recorded)."""
        self._known_lane(lane)
        with self._turns[lane]:
            mode = "closed" if closed else "normal"
            return self._set_mode(lane, mode, actor, reason, done_is_conflict=True)

    def _set_mode(
        self, lane: str, mode: str, actor: str, reason: str, done_is_conflict: bool = False, tell: bool = True
    ) -> Recorded | None:
        """set_lane_mode and set_closed, in the lane's turn. The lane's displays told once, what it
        is now: a close, 禁止入内 通道已关闭 alone (a hold it lets down tells nothing); a reopening, the
        idle line, unless `tell` is off (a hold reopening a closed lane: its 请通行 is what is said)."""
        if done_is_conflict and (self.lane_modes.get(lane) == "closed") == (mode == "closed"):
            state = "closed already" if mode == "closed" else "not closed: there is nothing to reopen"
            raise Conflict(f"lane {lane} is {state}", fix="nothing to do", code="already_done")
        if lane in self.held:
            # A close lets the hold down first, its release stored first as the close is: refused
            # for a full disk, nothing has moved. Gone ahead with its record waiting (release_lane),
            # the barrier came down and the close was then refused, "nothing of it was changed".
            # A close is told below; a held lane set to normal is told by its release.
            told = tell and mode != "closed"
            self._release(lane, actor, reason, stored_first=self.needs_record(lane, mode), tell=told)
        if mode == "normal" and self.lane_modes.get(lane) != "closed":
            return None
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

        done = self._write_lane(record, write)
        if tell:
            self._tell_shut(lane, closed=mode == "closed")
        return done

    def needs_record(self, lane: str, mode: str) -> bool:
        """Whether set_lane_mode(lane, mode) is done only once its record is stored: a hold, a close
        and a closed lane's reopening are; a held lane let down (normal) goes ahead with its record
        waiting (ReleasedByHand), and a lane neither held nor closed has nothing to do."""
        return mode != "normal" or self.lane_modes.get(lane) == "closed"

    def _known_lane(self, lane: str) -> None:
        if lane not in self.site.lanes:
            raise NotFound(f"no lane {lane!r}", fix=f"use one of {sorted(self.site.lanes)}")

    def _check_lane(self, lane: str, action: str, reason: str, needs_relay: bool = True) -> None:
        self._known_lane(lane)
        if not reason.strip():
            raise Refused(f"a reason is needed to {action} a lane by hand", fix="say why, e.g. 救护车")
        if needs_relay and not self.devices.lanes[lane].relays:
            raise Refused(
                f"lane {lane} has no relay to {action}",
                fix="add a relay device for this lane to the site config",
                code="no_relay",
            )

    def _record_lane(
        self,
        lane: str,
        actor: str,
        action: str,
        reason: str,
        with_it: Callable[[sqlite3.Connection, datetime], None] | None = None,
        then: Callable[[], None] | None = None,
    ) -> Recorded:
        """The lane's record, and `with_it` (its mode on record) in the same transaction; `then`,
        on the worker once they are written."""
        record = LaneRecord(self.now(), lane, action, actor, reason.strip())
        mode = None if with_it is None else (lambda conn: with_it(conn, record.at))

        def write(conn: sqlite3.Connection) -> int:
            audit_id = record.write(conn, mode)
            if then is not None:
                then()
            return audit_id

        return self._write_lane(record, write)

    def _write_lane(
        self, record: LaneRecord, write: Callable[[sqlite3.Connection], int] | None = None
    ) -> Recorded:
        # Audited before any relay moves: a gate never opens by hand without its record on disk,
        # but for a single opening or a release when storage takes no writes (_write_or_keep). A
        # relay's failure is recorded after it moved, kept in memory too then (_drive).
        audit_id = _answer(self._on_worker_now(write or record.write), LANE_RECORD_WAIT_S)
        log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return self._made(record, Recorded(f"audit:{audit_id}", record.at))

    def _write_or_keep(self, record: LaneRecord) -> Recorded:
        """A record of what the relays do whether or not it can be written (WaitingRecords)."""
        done = self._waiting.write_or_keep(record, self._on_worker_now)
        if done.audit_id is not None:
            log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return self._made(record, done)

    def keep(self, record: Kept, why: object) -> None:
        """A record of a lane command (the central server's acceptance of it, hand_opens.Kept) that
        storage did not take: it waits in memory with the lane records, ahead of those it comes
        before (the opening's own), and is written in turn once storage takes writes."""
        self._waiting.keep(record, why)

    def call_off(self, record: Kept) -> bool:
        """A record kept (keep) taken back unwritten: True if it still waited
        (WaitingRecords.call_off)."""
        return self._waiting.call_off(record)

    def in_turn(self, record: Kept) -> Future[None]:
        """A record of a lane command (its answer) written behind the records that wait, or kept
        behind them (WaitingRecords.write_in_turn)."""
        return self._waiting.write_in_turn(record, self._on_worker_now)

    def unwritten(self) -> list[LaneRecord]:
        """The lane records by hand that still wait for storage, oldest first (their audit rows not
        written yet): the live pages list them as the stream's `action` did (gateway/api/lanes.py)."""
        return [r for r in self._waiting.kept_now() if isinstance(r, LaneRecord)]

    def unrecorded_opens(self) -> int:
        """Records that still wait for storage: lane records by hand (single opens, holds again at
        start, relays that failed: `<action>_failed`), and the alarms and patrol taps that wait in
        the same queue, in turn with them (kept_records.py)."""
        return self._waiting.waiting()

    def _drive(self, lane: str, actor: str, reason: str, action: str, act: Callable[[Any], None]) -> None:
        failed = []
        relays = self.devices.lanes[lane].relays
        for relay in relays:
            try:
                act(relay)
            except Exception as exc:
                relay.health.set_offline(f"{action} by hand failed: {exc}")
                failed.append(f"{relay.health.device}: {exc}")
        if failed:
            error = f"{action} on lane {lane} failed: {'; '.join(failed)}"
            fix = "check the relay's cable and power; the device list shows which one is offline"
            # On record with the guard's reason, as its attempt is: the guard pages list it. The
            # relay's error, for the installer, goes upstream with it and to the journal. Taken by
            # a relay of two, the barrier moved all the same: the reason says so, `(took=1 of 2)`
            # (a 纠正并重新判断 reads it: api/corrections.py, _OPENED).
            took = len(relays) - len(failed)
            said = f"{reason.strip()} (took={took} of {len(relays)})" if took else reason.strip()
            failure = LaneRecord(self.now(), lane, f"{action}_failed", actor, said, error)
            log.error(
                "lane %s by hand failed actor=%r reason=%r error=%s fix=%s", action, actor, reason, error, fix
            )
            self._write_or_keep(failure)
            raise GatewayError(error, fix=fix, code="relay_failed")  # worded on the pages: err.relay_failed


def _once(tell: Callable[[bool], Future[bool]]) -> Callable[[bool], Future[bool]]:
    """`tell`, called the first time only; later calls return that first outcome."""
    told: list[Future[bool]] = []

    def once(took: bool) -> Future[bool]:
        if not told:
            told.append(tell(took))
        return told[0]

    return once


def _held_plate(record: LaneRecord) -> str | None:
    """The plate of the car held to pay that a single opening let out, if one was found by the time
    the opening went ahead (its record written, or waiting with the car found); never a QR or card
    it was held on (either opens the gate to whoever holds it)."""
    if not isinstance(record, OpenedByHand) or not record.found or record.found[0] is None:
        return None
    return record.found[0][0].plate


def _asked(found: Future[list[str] | None]) -> list[str] | None:
    """_car_asked's answer; not known (storage failed, the gateway stopping): nobody asked, the
    idle line shown, as before a car could be asked."""
    return None if found.cancelled() or found.exception() is not None else found.result()


def _refused(held: Held, told: Told) -> bool:
    """Whether the car at the barrier was refused there (car_at_barrier), not held to pay nor let
    out at a barrier that did not open (its exit admitted it: its stay put back, its fee asked)."""
    return held.refused is not None and not told.admitted


def _answer(future: Future[T], timeout_s: float) -> T:
    """The result of a write on the worker: one not begun within `timeout_s` is called off
    (wait_or_call_off), one under way is waited for (the busy timeout bounds it)."""
    try:
        return wait_or_call_off(future, timeout_s)
    except StillRunning:
        return future.result()
