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
HandLanes is here, with its openings, its lane modes and the start; its other parts are its records and
relays (hand_lane_writes.py), the car a single opening lets out (hand_let_outs.py), what the lane's
displays are told (hand_lane_displays.py), and its holds and releases (hand_holds.py).
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
from typing import Any

from gateway.errors import Conflict, GatewayError, Refused
from gateway.parking.service import ParkingDesk
from gateway.runtime.devices import Devices
from gateway.runtime.hand_holds import LaneHolds, ReleaseAfterCar
from gateway.runtime.hand_lane_records import Gone, LetOutByHand, OnWorkerNow, OpenedByHand
from gateway.runtime.hand_let_outs import LetOutsByHand
from gateway.runtime.hand_opens import LaneRecord, Recorded, WaitingRecords
from gateway.runtime.kept_records import AlarmChange
from gateway.runtime.lane_boards import JoinedByHand, LaneBoards, taken
from gateway.runtime.lanes import BarrierWatch
from gateway.site import Site
from gateway.store.alarms import clear_alarm
from gateway.store.lanes import LANE_MODES, ModeOnRecord, set_lane_mode

log = logging.getLogger(__name__)


class HandLanes(LaneHolds, LetOutsByHand):
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
        # lane -> a release on record whose relays wait for the car on its loop to leave
        # (hand_holds.py _down_after_car): changed in the lane's turn.
        self._after_car: dict[str, ReleaseAfterCar] = {}
        self._held_lock = threading.Lock()
        # lane -> holds written on record in this run, counted on the decision worker once written:
        # a release that waited for storage ends the hold on record only if none was written since
        # it was made (ReleasedByHand).
        self._holds_written: dict[str, int] = {}
        # Told each lane record by hand as it is written or kept to wait for storage (subscribe).
        self._listeners: list[Callable[[LaneRecord, Recorded], None]] = []

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
