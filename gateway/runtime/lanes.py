"""Lane inputs: loop detectors and barrier contacts (forced_open, held_open alarms); guard commands
are hand_lanes.py's, a door's exit button exit_buttons.py's.

- A car over the loop asks the lane's cameras for a fresh read (a car that stopped at the
  barrier is read again, even if its plate was seen a moment ago). Once the lane's last loop is
  off (a loop whose module went offline no longer counts as on), its cameras know it. Such a loop
  on at its module's first report once back is the car it fired for, still there: not read anew.
- A barrier that opens with no decision or guard command behind it in the last few seconds
  raises a `forced_open` alarm for the lane, cleared once the barrier has stayed closed
  FORCED_OPEN_SETTLE_S: an opening within it (a loose limit-switch wire flapping, an arm that
  meets something and goes up again) goes on with the same alarm, unless a guard acknowledged it
  (closed: the next forcing is a new alarm). A contact reported open again while known open (a
  module's first poll once back from a missed one) is no new opening.
- A barrier or door still open `held_open_s` after it opened, or after the last decision or
  command on its lane, raises a `held_open` alarm (propped open, stuck up), also cleared when it
  closes. A guard holding the lane open is the one case that needs no alarm: the hold clears one
  already raised. The sensors report their state as they are watched (a Modbus module at its
  first poll), so a barrier open when the gateway starts is watched too; an alarm the run before
  left (held_open, forced_open) is judged once every sensor of its lane with a barrier contact
  has reported, whichever reports last: found closed, it clears. A loop detector's own module is
  not waited for: it cannot report the barrier.
- A lane with two contacts (a wide gate's two arms, a double door's leaves) is open while either
  is: its alarms clear only once the last one closes.
- An alarm raised or cleared while the disk takes no writes waits in memory and is written, in
  order and at its own time, once it does (kept_records.py).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from concurrent.futures import Future
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from drivers.base import InputEmit, LaneInput
from gateway.alarm_texts import AlarmText, Param
from gateway.runtime.arm_rise import DEFAULT_RISE_WITHIN_S, ArmRise
from gateway.runtime.devices import Devices
from gateway.runtime.exit_buttons import ExitButtons
from gateway.runtime.kept_records import AlarmChange
from gateway.runtime.lane_boards import Pulsed
from gateway.runtime.loops_on import LoopsOn
from gateway.runtime.tailgating import Tailgate, Tailgating
from gateway.runtime.worker import Unwaited
from gateway.store.alarms import clear_alarm, clear_open_alarms, open_alarm_sources, raise_alarm
from gateway.store.lanes import openings_since
from gateway.timefmt import later

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 10.0
DEFAULT_HELD_OPEN_S = 120.0
# How long a lane's barrier contacts must stay closed before its forced_open alarm clears: longer
# than an arm takes to come down (1-4 s), so that one that meets something on its way down and goes
# up again, or a chafed limit-switch wire that flaps open and closed many times a second, is one
# alarm, not one raised and cleared (and sent upstream) per flap.
FORCED_OPEN_SETTLE_S = 5.0
# The alarms a barrier contact raises and clears, judged again at start from what it reports.
LEFT_FROM_BEFORE = ("held_open", "forced_open")
# A pulse taken at a vehicle lane whose barrier contact did not open in time (arm_rise.py): cleared
# as the contact next opens; at start, on a lane whose contact is no longer wired.
NO_RESPONSE = "barrier_no_response"


class BarrierWatch:
    """Per lane: when it was last told to open and whether a guard holds it open, so that an opening
    with nothing behind it is told apart (opened: forced open); and since when each of its barrier
    contacts has been open, to tell when it has been open too long (held_open_in). A lane with two
    contacts (a wide gate's two arms, a double door's leaves) is open while either is. Time is a
    parameter (monotonic seconds)."""

    def __init__(
        self,
        grace_s: dict[str, float] | None = None,
        default_s: float = DEFAULT_GRACE_S,
        on_hold: Callable[[str], None] | None = None,
    ):
        self._grace = grace_s or {}
        self._default = default_s
        self._on_hold = on_hold  # told when a guard's hold takes effect (LaneInputs)
        self._last: dict[str, float] = {}
        self._held: set[str] = set()
        self._forced: set[str] = set()
        self._open_since: dict[str, dict[str, float]] = {}  # lane -> contact -> opened at
        self._lock = threading.Lock()
        # The same openings and holds count the cars each arm-up may let through (跟车通过).
        self.tailgating = Tailgating(self._grace, default_s)
        # A car on a loop of the lane now: a guard's release waits for it to leave (hand_holds.py).
        self.loops = LoopsOn()

    def commanded(self, lane: str, now: float, car: str = "") -> None:
        """An opening told to the lane: a decision letting `car` through, or a guard's (the car held
        there that it lets out, where known)."""
        with self._lock:
            self._last[lane] = now
        self.tailgating.opening(lane, now, car)

    def held(self, lane: str, on: bool, now: float) -> None:
        with self._lock:
            self._last[lane] = now
            (self._held.add if on else self._held.discard)(lane)
        self.tailgating.held(lane, on, now)
        if on and self._on_hold is not None:
            self._on_hold(lane)

    def opened(self, lane: str, now: float, contact: str = "") -> bool:
        """A barrier contact went up: True if nothing told it to (forced open). Each contact is
        judged alike: another already open does not cover it."""
        with self._lock:
            last = self._last.get(lane)
            expected = lane in self._held or (
                last is not None and now - last <= self._grace.get(lane, self._default)
            )
            if not expected:
                self._forced.add(lane)
            self._open_since.setdefault(lane, {}).setdefault(contact, now)
            return not expected

    def closed(self, lane: str, contact: str = "") -> bool:
        """A barrier contact came down: True if it was the lane's last one open and this opening had
        been forced (LaneInputs clears the alarm once the barrier has stayed closed
        FORCED_OPEN_SETTLE_S, whatever opened it meanwhile)."""
        with self._lock:
            still_open = self._open_since.get(lane, {})
            still_open.pop(contact, None)
            if still_open:
                return False
            self._open_since.pop(lane, None)
            was = lane in self._forced
            self._forced.discard(lane)
            return was

    def is_open(self, lane: str) -> bool:
        with self._lock:
            return lane in self._open_since

    def contact_open(self, lane: str, contact: str) -> bool:
        """Whether this contact of the lane is known open (reported open, not closed since)."""
        with self._lock:
            return contact in self._open_since.get(lane, {})

    def open_contacts(self, lane: str) -> set[str]:
        """The lane's contacts known open (reported open, not closed since)."""
        with self._lock:
            return set(self._open_since.get(lane, {}))

    def open_longest(self, lane: str, unseen: Collection[str] = ()) -> str:
        """The lane's contact open the longest ("" once all are closed), but those `unseen`."""
        with self._lock:
            since = {c: at for c, at in self._open_since.get(lane, {}).items() if c not in unseen}
            return min(since, key=since.__getitem__, default="")

    def held_open_in(
        self, lane: str, now: float, limit_s: float, unseen: Collection[str] = ()
    ) -> float | None:
        """Seconds until a contact of the lane has been open `limit_s` with nothing behind it (<= 0:
        one has), counted from its opening or the lane's last command, whichever is later; None once
        all are closed, or all open are `unseen` (their module offline: last seen open, no longer
        known to be). A lane a guard holds open is looked at again `limit_s` later."""
        with self._lock:
            opened = self._open_since.get(lane, {})
            since = min((at for c, at in opened.items() if c not in unseen), default=None)
            if since is None:
                return None
            if lane in self._held:
                return limit_s
            return max(since, self._last.get(lane, since)) + limit_s - now


def expected_opening_s(devices: Devices) -> dict[str, float]:
    """Per lane with a barrier contact, how long after a decision or a guard's command its barrier
    may open without being forced, and the openings given count for its arm-up (Tailgating): its
    `open_grace_s`, or at a vehicle lane its `rise_within_s` where longer. The rise check lets out a
    car under an arm up within `rise_within_s` (raised for a slow barrier, as docs/hardware.md
    says); judged by `open_grace_s` alone, that arm raised forced_open on every car, and the car
    was alarmed 跟车通过 under its own opening (Review 57n)."""
    return {
        lane: seconds
        if lane in devices.doors
        else max(seconds, devices.rise_within_s.get(lane, DEFAULT_RISE_WITHIN_S))
        for lane, seconds in devices.open_grace_s.items()
    }


Worker = Callable[[Callable[[Any], Any]], "Future[Any]"]
Record = Callable[[AlarmChange], None]


class LaneInputs:
    def __init__(
        self,
        devices: Devices,
        on_worker: Worker,
        now: Callable[[], datetime],
        record: Record | None = None,
        buttons: ExitButtons | None = None,
        shut: Callable[[str], None] | None = None,
    ):
        self.devices = devices
        self._buttons = buttons  # doors' exit buttons, told each report of them (exit_buttons.py)
        # Told a lane's barrier is down again, its last contact closed: its board's idle line
        # replaces a greeting left over the lowered arm (LaneBoards.arm_down).
        self._shut = shut
        self.barriers = BarrierWatch(expected_opening_s(devices), on_hold=self._held_by_guard)
        self._on_worker = on_worker
        # The lane's alarms, written in turn with the records that wait for storage (the gateway's:
        # WaitingRecords.write_in_turn): a barrier forced up while the disk is full is alarmed once
        # it takes writes, and a clearing never goes before its raise.
        self._record: Record = record or self._write_once
        self._now = now
        self._held_open_timers: dict[str, threading.Timer] = {}
        self._held_open_raised: set[str] = set()
        # Lanes whose forced_open alarm an earlier run left open (BarrierWatch knows only this run's).
        self._forced_left: set[str] = set()
        # Lanes whose forced_open alarm this run raised (or found open, forced up again) and has not
        # cleared, nor a guard closed: an opening goes on with it. With the barrier closed, the
        # check that clears it once the barrier has stayed closed FORCED_OPEN_SETTLE_S, and the
        # openings it counted.
        self._forced_on: dict[str, int] = {}
        self._forced_settle_timers: dict[str, threading.Timer] = {}
        # Per lane with an alarm an earlier run left open: its sensors with a barrier contact not
        # yet heard from since start (a Modbus module reports at its first poll, after start()
        # has returned).
        self._unheard: dict[str, set[str]] = {}
        self._timers_lock = threading.Lock()
        self._stopped = False
        # Per lane, its loop detectors (device ids) that see a car now: a lane with an arming loop and
        # a safety loop under the arm is clear (its cameras told, loop_cleared) once both are off.
        self._loops_on: dict[str, set[str]] = {}
        # Per lane, its loop detectors whose module went offline with a car on the loop, not heard
        # from since: a first report "on" once back is that car still there (_still_on).
        self._loops_unheard: dict[str, set[str]] = {}
        self._loops_lock = threading.Lock()
        # Pulses taken at a vehicle lane with a barrier contact wait for it to open (arm_rise.py);
        # the lanes whose barrier_no_response alarm is open, cleared as their contact opens again.
        self.arm_rise = ArmRise(devices.rise_within_s, self._no_response)
        self._no_response_raised: set[str] = set()
        # Sensors (device ids) that reported a barrier contact since start: only a lane whose
        # contacts are all heard from and online waits for one to open (rising).
        self._contacts_heard: set[str] = set()
        # Per lane, its barrier contacts last reported open whose module went offline, not heard
        # from since (_contact_lost): not taken for an arm up, nor a door open, until they report.
        self._contacts_lost: dict[str, set[str]] = {}

    def _write_once(self, change: AlarmChange) -> None:
        """Without the gateway's records that wait (inputs watched alone): tried once."""
        self._on_worker(Unwaited(f"{change.what} {change.details()}", change.write))

    def start(self) -> None:
        self._settle_at_start()
        for lane_id, lane in self.devices.lanes.items():
            for sensor in lane.sensors:
                sensor.watch(self.input_handler(lane_id, sensor.health.device))

    def _settle_at_start(self) -> None:
        # A held_open or forced_open alarm an earlier run left open is judged again from the
        # barrier's input, which the sensors report as they are watched or at their first poll:
        # still open, it stays; closed while the gateway was down (power back after a blackout), it
        # clears, judged once every sensor of the lane with a barrier contact has reported
        # (_heard_from): a double door's shut leaf, heard before its propped leaf, must not clear
        # the alarm. A loop-only sensor reports no barrier: a dead loop module would keep the alarm
        # on a lane whose arm is down and working, and is not waited for. Only a lane whose
        # barrier contact is no longer wired (taken out of the config) has nothing to judge it by:
        # cleared now.
        watched = self.devices.barrier_contacts
        now, mono = self._now(), time.monotonic()
        grace = max(expected_opening_s(self.devices).values(), default=DEFAULT_GRACE_S)

        def recall(conn: sqlite3.Connection) -> tuple[list[tuple[str, str]], dict[str, datetime]]:
            left = open_alarm_sources(conn, LEFT_FROM_BEFORE)
            return left, openings_since(conn, later(now, -timedelta(seconds=grace)))

        left_open, opened = self._on_worker(recall).result(timeout=30)
        self._no_response_raised = self._on_worker(
            lambda conn: {lane for _, lane in open_alarm_sources(conn, (NO_RESPONSE,)) if lane in watched}
        ).result(timeout=30)
        for kind, lane in left_open:
            if lane in watched:
                (self._held_open_raised if kind == "held_open" else self._forced_left).add(lane)
        for lane in self._held_open_raised | self._forced_left:
            self._unheard[lane] = self._contacts(lane)
        # An opening told just before a restart still covers the barrier it finds up (not forced).
        for lane, at in opened.items():
            self.barriers.commanded(lane, mono - max((now - at).total_seconds(), 0.0))
        self._on_worker(
            Unwaited(
                "the clearing of held_open, forced_open and barrier_no_response alarms left from before "
                "the start",
                lambda conn: clear_open_alarms(
                    conn, (*LEFT_FROM_BEFORE, NO_RESPONSE), self._now(), keep=watched
                ),
            )
        )

    def _contacts(self, lane: str) -> set[str]:
        """The lane's sensors (device ids) that may report its barrier: all but its loop-only ones."""
        sensors = {s.health.device for s in self.devices.lanes[lane].sensors}
        return sensors - self.devices.loop_only

    def input_handler(self, lane: str, device: str) -> InputEmit:
        def on_input(name: LaneInput, active: bool) -> None:
            if name == "car_present":
                self.car_present(lane, device, active)
            elif name == "barrier_open":
                self.barrier(lane, device, active)
            elif name == "exit_button" and self._pressed(lane, device, active):
                # Expected from the press on, not from its decision on the worker: the door pushed
                # open within the same poll of a Modbus module (the button cutting the lock's
                # power itself) is reported right after it (drivers' input order).
                self.barriers.commanded(lane, time.monotonic())
            # After its report (an opening is on record first). A sensor with a barrier contact
            # reports it after its loop (drivers' input order): until then it is not heard from.
            if name == "barrier_open":
                self._contacts_heard.add(device)
                self._heard_from(lane, device)

        return on_input

    def _pressed(self, lane: str, device: str, on: bool) -> bool:
        return self._buttons is not None and self._buttons.reported(lane, device, on)

    def _heard_from(self, lane: str, device: str) -> None:
        """The last of the lane's sensors with a barrier contact to report since start (a double
        door's other leaf may answer after the shut one) has the alarms an earlier run left judged
        now."""
        with self._timers_lock:
            unheard = self._unheard.get(lane)
            if unheard is None:
                return
            unheard.discard(device)
            if unheard:
                return
            del self._unheard[lane]
        self._end_open_alarms(lane, self._now())

    def car_present(self, lane: str, device: str, active: bool) -> None:
        """A loop detector of the lane sees a car arrive (its cameras read it), or sees none now:
        once the lane's last loop is off, its cameras know that a loop stuck on is no longer
        (OpenCvCamera.loop_cleared). One loop going off while another is still on (stuck, or a car
        on it) clears nothing. A loop on when its module went offline, on at its first report once
        back, is the same car: its cameras count the loop on again without reading it anew."""
        log.debug("loop lane=%s device=%s car=%s", lane, device, active)
        with self._loops_lock:
            on = self._loops_on.setdefault(lane, set())
            was_clear = not on
            (on.add if active else on.discard)(device)
            cleared = not on
            still = self._still_on(lane, device, active)
            # The lane's first loop on (a car arrives) or its last off (a car passed): a car through
            # under an arm raised for another is alarmed (tailgating.py). Not the car back on a
            # loop whose module was away: no new arrival.
            edge = was_clear != cleared and not still
            tailgate = self.barriers.tailgating.loop(lane, active, time.monotonic()) if edge else None
            self.barriers.loops.now(lane, not cleared)
        self._tailgated(tailgate)
        if still:
            log.info("loop lane=%s device=%s back, still on: the same car, no new arrival", lane, device)
        for camera in self.devices.lanes[lane].cameras:
            if still:
                camera.loop_still_on()
            elif active:
                camera.request_read()
            elif cleared:
                camera.loop_cleared()

    def _still_on(self, lane: str, device: str, active: bool) -> bool:
        """Whether this is a loop's first report since its module went offline with a car on it,
        and on: the car it fired for has not left (a Modbus module that missed one poll reports
        every input at its first poll back: ModbusModule._forget_inputs). Read anew, a refused car
        standing there was decided as a new arrival, refused a second time. The caller holds
        _loops_lock."""
        unheard = self._loops_unheard.get(lane, set())
        if device not in unheard:
            return False
        unheard.discard(device)
        return active

    def device_offline(self, lane: str, device: str) -> None:
        """A device of the lane gone offline (Gateway._device_changed). A loop detector's module
        whose last report was a car on its loop no longer counts as on: kept, it was on for good,
        and the lane's cameras, never told its loop went off, read the street once a second and
        decided the cars passing in it. Its first report once back counts again (car_present):
        on, as the same car (_still_on). Its exit buttons are forgotten: one found pressed at its
        first report once back (stuck while it was away) is no press (ExitButtons.forget). A
        barrier contact last reported open no longer counts as open (_contact_lost)."""
        if self._buttons is not None:
            self._buttons.forget(lane, device)
        self._contact_lost(lane, device)
        with self._loops_lock:
            on = self._loops_on.get(lane)
            if on is None or device not in on:
                return
            on.discard(device)
            cleared = not on
            self._loops_unheard.setdefault(lane, set()).add(device)
            if cleared:
                self.barriers.tailgating.loop_lost(lane)
                self.barriers.loops.now(lane, False)
        log.info("loop lane=%s device=%s offline: its last report (car on) no longer counts", lane, device)
        if cleared:
            for camera in self.devices.lanes[lane].cameras:
                camera.loop_cleared()

    def _contact_lost(self, lane: str, device: str) -> None:
        """A barrier contact last reported open whose module went offline: the arm (or door) is no
        longer known to be up. Believed up until the module came back, hours later, every car
        refused or held there that backed off the loop was alarmed as a tailgate under an arm long
        down, and a door shut behind a visitor raised held_open (Review 65c). Until its first report
        back (barrier) the lane is judged by its other contacts alone: with none seen open, no car
        through is judged (Tailgating.unseen: the arm-up keeps its openings) and no held-open check
        runs. Kept open in BarrierWatch: its first report once back, still open, is no new opening
        (no forced_open) and the same arm-up; closed, the arm-up ends."""
        if not self.barriers.contact_open(lane, device):
            return
        with self._timers_lock:
            self._contacts_lost.setdefault(lane, set()).add(device)
            up = self._seen_open(lane)
            if not up:
                self._watch_held_open(lane, None)
        if not up:
            self.barriers.tailgating.unseen(lane)
        log.info("barrier lane=%s device=%s offline: its last report (open) no longer counts", lane, device)

    def _seen_open(self, lane: str) -> bool:
        """Whether a contact of the lane is open and its module not offline since it said so; the
        caller holds _timers_lock."""
        return bool(self.barriers.open_contacts(lane) - self._contacts_lost.get(lane, set()))

    def stop(self) -> None:
        """No held-open check or forced_open clearing runs after this (the worker they write on is
        stopping; an alarm left open is judged again at the next start)."""
        self.arm_rise.stop()
        self.barriers.loops.stop()  # a release waiting for a car gives up: the gateway stops
        with self._timers_lock:
            self._stopped = True
            for timer in [*self._held_open_timers.values(), *self._forced_settle_timers.values()]:
                timer.cancel()
            self._held_open_timers.clear()
            self._forced_settle_timers.clear()

    def barrier(self, lane: str, device: str, is_open: bool) -> None:
        at = self._now()
        with self._timers_lock:
            lost = self._contacts_lost.get(lane, set())
            back = device in lost
            lost.discard(device)
        if is_open and self.barriers.contact_open(lane, device):
            # Its state reported again, not a new opening: a Modbus module's first poll once back
            # from a missed one reports every input (ModbusModule._forget_inputs). Judged as one, an
            # arm a guard opened for a slow car, up past open_grace_s, was alarmed forced_open.
            log.debug("barrier lane=%s device=%s still open: no new opening", lane, device)
            if back:  # seen up again (_contact_lost): the same arm-up judged, the open time watched
                self.barriers.tailgating.arm(lane, True, time.monotonic())
                self._check_held_open(lane)
            return
        if is_open:
            self._rose(lane, at)
            forced = self.barriers.opened(lane, time.monotonic(), device)
            self.barriers.tailgating.arm(lane, True, time.monotonic())
            self._forced_opening(lane, device, forced, at)
            self._check_held_open(lane)
            return
        self.barriers.closed(lane, device)
        with self._timers_lock:
            up = self._seen_open(lane)
        self.barriers.tailgating.arm(lane, up, time.monotonic())
        self._settle_forced_open(lane, at)
        self._end_open_alarms(lane, at, device)
        if not up and self._shut is not None:
            self._shut(lane)

    def _forced_opening(self, lane: str, device: str, forced: bool, at: datetime) -> None:
        """An opening while the lane's forced_open alarm is on goes on with it (its clearing waits
        for the barrier to stay closed again); one forced with none on raises it."""
        with self._timers_lock:
            self._watch_forced_settle(lane, None)
            if lane in self._forced_on:
                self._forced_on[lane] += 1
                log.debug("forced open lane=%s device=%s: the same alarm goes on", lane, device)
                return
            if not forced:
                return
            self._forced_on[lane] = 1
            key = "forced_open.door" if lane in self.devices.doors else "forced_open"  # a door has no arm
            text = AlarmText(key, {"lane": lane, "device": device})
            log.warning("forced open lane=%s device=%s", lane, device)
            self._record(AlarmChange(partial(raise_alarm, kind="forced_open", source=lane, text=text, at=at)))

    def _settle_forced_open(self, lane: str, closed_at: datetime) -> None:
        """The lane's last contact open closed while its forced_open alarm is on: it clears once the
        barrier has stayed closed FORCED_OPEN_SETTLE_S, dated when it closed (on the wall clock as it
        reads then: _clear_forced_open). A closed contact reported again (a module's first poll after
        it came back) does not put the clearing off."""
        closed_mono = time.monotonic()
        with self._timers_lock:
            if lane not in self._forced_on or self.barriers.is_open(lane) or self._stopped:
                return
            if lane in self._forced_settle_timers:  # closed since then: no opening cancelled it
                return
            timer = threading.Timer(
                FORCED_OPEN_SETTLE_S, lambda: self._clear_forced_open(lane, timer, closed_at, closed_mono)
            )
            timer.daemon = True
            self._watch_forced_settle(lane, timer)

    def _clear_forced_open(
        self, lane: str, timer: threading.Timer, closed_at: datetime, closed_mono: float
    ) -> None:
        """The barrier stayed closed since `closed_at` (`closed_mono` on the monotonic clock; no
        opening replaced `timer`): the lane's forced_open alarm clears, the one an earlier run left
        too (the same alarm: cleared once). Dated when it closed on the wall clock as it reads now:
        NTP setting a Pi's stale boot clock in the seconds this waited re-dates the raise
        (gateway/store/redate.py), and a clearing dated on the old clock went days before it."""
        with self._timers_lock:
            if self._forced_settle_timers.get(lane) is not timer:
                return
            del self._forced_settle_timers[lane]
            openings = self._forced_on.pop(lane)
            self._forced_left.discard(lane)
            if openings > 1:
                log.warning(
                    "forced open lane=%s cleared: the barrier contact opened %d times while it was on; "
                    "if nobody lifted the arm, check the limit switch and its wiring",
                    lane,
                    openings,
                )
            stepped = (self._now() - closed_at) - timedelta(seconds=time.monotonic() - closed_mono)
            cleared_at = closed_at + stepped  # closed_at if the wall clock kept to the monotonic one
            self._record(AlarmChange(partial(clear_alarm, kind="forced_open", source=lane, at=cleared_at)))

    def closed_by_guard(self, kind: str, source: str) -> None:
        """A guard's acknowledgement closed this alarm (an event alarm: store/alarms.py EVENT_ALARMS,
        upstream too). A lane's forced_open is over: the barrier forced up again, even within
        FORCED_OPEN_SETTLE_S, is a new forcing with a new alarm, not the closed one going on unseen;
        nothing is left for its clearing to clear."""
        if kind != "forced_open":
            return
        with self._timers_lock:
            self._watch_forced_settle(source, None)
            self._forced_on.pop(source, None)
            self._forced_left.discard(source)
            if source not in self._held_open_raised:  # nothing else waits for the lane's sensors
                self._unheard.pop(source, None)

    def _watch_forced_settle(self, lane: str, timer: threading.Timer | None) -> None:
        """Replace the lane's pending forced_open clearing with `timer` (None: none); the caller holds
        _timers_lock."""
        old = self._forced_settle_timers.pop(lane, None)
        if old is not None:
            old.cancel()
        if timer is not None:
            self._forced_settle_timers[lane] = timer
            timer.start()

    def _end_open_alarms(self, lane: str, at: datetime, closing: str = "") -> None:
        """Once the lane's last contact is closed: no more checks, and its held_open alarm clears,
        and a forced_open an earlier run left; one an earlier run left waits for every sensor of the
        lane but `closing` to have reported since start (one not yet heard from may be the leaf
        still propped open)."""
        # Under the lock: a check or another contact's opening running now either sees the lane
        # closed or comes after this.
        with self._timers_lock:
            if self.barriers.is_open(lane) or self._unheard.get(lane, set()) - {closing}:
                return
            self._watch_held_open(lane, None)
            self._clear_forced_left(lane, at)
            self._clear_held_open(lane, at)

    def _clear_forced_left(self, lane: str, at: datetime) -> None:
        """Clear the forced_open alarm an earlier run left on the lane, if any, unless this run found
        it forced up again (it clears once the barrier has stayed closed); the caller holds
        _timers_lock."""
        if lane in self._forced_left and lane not in self._forced_on:
            self._forced_left.discard(lane)
            self._record(AlarmChange(partial(clear_alarm, kind="forced_open", source=lane, at=at)))

    def _held_by_guard(self, lane: str) -> None:
        """A guard holds the lane open: its held_open alarm (whose words say no guard holds it)
        clears, and the lane is looked at again, counted from the release (held_open_in)."""
        at = self._now()
        with self._timers_lock:
            self._clear_held_open(lane, at)
        self._check_held_open(lane)

    def _clear_held_open(self, lane: str, at: datetime) -> None:
        """Clear the lane's held_open alarm, if raised; the caller holds _timers_lock."""
        if lane not in self._forced_left:  # what waited for them is gone (a guard's hold clears it too)
            self._unheard.pop(lane, None)
        if lane in self._held_open_raised:
            self._held_open_raised.discard(lane)
            self._record(AlarmChange(partial(clear_alarm, kind="held_open", source=lane, at=at)))

    def _check_held_open(self, lane: str) -> None:
        """On opening, then on a timer while the barrier stays open: raise held_open once it has
        been open the lane's `held_open_s` with nothing behind it, else look again when it would."""
        limit_s = self.devices.held_open_s.get(lane, DEFAULT_HELD_OPEN_S)
        with self._timers_lock:
            unseen = self._contacts_lost.get(lane, set())
            due_in = self.barriers.held_open_in(lane, time.monotonic(), limit_s, unseen)
            if due_in is None or self._stopped or lane in self._held_open_raised:
                return
            if due_in <= 0:
                # Raised for good once handed over: a raise the full disk holds up waits in memory
                # and is written in turn, before the clearing that follows it (self._record).
                self._held_open_raised.add(lane)
                at = self._now()
                device = self.barriers.open_longest(lane, unseen)
                text = AlarmText("held_open", {"lane": lane, "device": device, "seconds": limit_s})
                log.warning("held open lane=%s device=%s for %.0f s", lane, device, limit_s)
                self._record(
                    AlarmChange(partial(raise_alarm, kind="held_open", source=lane, text=text, at=at))
                )
                return
            timer = threading.Timer(due_in, self._check_held_open, (lane,))
            timer.daemon = True
            self._watch_held_open(lane, timer)

    def _watch_held_open(self, lane: str, timer: threading.Timer | None) -> None:
        """Replace the lane's pending held-open check with `timer` (None: none); the caller holds
        _timers_lock."""
        old = self._held_open_timers.pop(lane, None)
        if old is not None:
            old.cancel()
        if timer is not None:
            self._held_open_timers[lane] = timer
            timer.start()

    def opening(self, lane: str, car: str = "") -> None:
        """A decision is about to open the lane for `car` (called before its relays are pulsed)."""
        self.barriers.commanded(lane, time.monotonic(), car)

    def rising(self, lane: str, pulses: list[Pulsed]) -> list[Pulsed]:
        """A decision's pulses at the lane, each taken only once the barrier rose (ArmRise.expect):
        at a vehicle lane with a barrier contact that is down now. Unchanged at a door (its contact
        opens only when someone pushes it), a lane without a contact, a barrier already up (held
        open, or up for the car in front), and a lane whose contact cannot be heard: a sensor of it
        offline (its Modbus module unplugged) or not heard from since start. Waited for there, every
        car let out was put back while the arm worked (Review 57i)."""
        contact = lane in self.devices.barrier_contacts and lane not in self.devices.doors
        if not contact or self.barriers.is_open(lane) or not self._contacts_heard_now(lane):
            return pulses
        rising = self.arm_rise.expect(lane, [outcome for outcome, _ in pulses])
        return [(chained, online) for chained, (_, online) in zip(rising, pulses, strict=True)]

    def arm_watched(self, lane: str) -> bool:
        """Whether the lane's barrier will be reported down again (barrier): a vehicle lane whose
        contacts are all heard now. Not a door: it may be let through and never pushed open."""
        contact = lane in self.devices.barrier_contacts and lane not in self.devices.doors
        return contact and self._contacts_heard_now(lane)

    def _contacts_heard_now(self, lane: str) -> bool:
        """Whether every sensor of the lane with a barrier contact is online and has reported since
        start: an edge can come from it."""
        contacts = self._contacts(lane)
        sensors = self.devices.lanes[lane].sensors
        online = all(s.health.online for s in sensors if s.health.device in contacts)
        return online and contacts <= self._contacts_heard

    def _no_response(self, lane: str) -> None:
        """A pulse the relay took and the barrier did not rise for (ArmRise, on its timer)."""
        at = self._now()
        seconds = self.devices.rise_within_s.get(lane, DEFAULT_RISE_WITHIN_S)
        text = AlarmText(NO_RESPONSE, {"lane": lane, "seconds": seconds})
        log.warning(
            "barrier lane=%s did not rise within %.0f s of a pulse its relay took: check the barrier "
            "controller's power and the relay's wiring to its open input",
            lane,
            seconds,
        )
        with self._timers_lock:
            self._no_response_raised.add(lane)
            self._record(
                AlarmChange(partial(raise_alarm, kind="barrier_no_response", source=lane, text=text, at=at))
            )

    def _rose(self, lane: str, at: datetime) -> None:
        """A barrier contact of the lane opened: the pulses waiting for it are taken, and its
        barrier_no_response alarm clears (it moves again)."""
        self.arm_rise.rose(lane)
        with self._timers_lock:
            if lane in self._no_response_raised:
                self._no_response_raised.discard(lane)
                self._record(
                    AlarmChange(partial(clear_alarm, kind="barrier_no_response", source=lane, at=at))
                )

    def refused(self, lane: str, car: str, reason: str) -> None:
        """A decision refused `car` at the lane, or held it to pay: named if it tailgates."""
        self.barriers.tailgating.refused(lane, time.monotonic(), car, reason)

    def _tailgated(self, tailgate: Tailgate | None) -> None:
        """A car went through under an arm raised for another: an event alarm of its own (a guard
        takes the fee or records the car; no stay is made up for it), source `lane@time`, as two
        such cars are two alarms."""
        if tailgate is None:
            return
        at = self._now()
        lane, plate = tailgate.lane, tailgate.plate
        params: dict[str, Param] = {"lane": lane, "passed": tailgate.passed, "openings": tailgate.openings}
        if plate:
            params.update(plate=plate, refusal=tailgate.reason)
        key = "tailgate" if plate else "tailgate.unknown"
        text = AlarmText(key, params)
        source = f"{lane}@{at:%Y-%m-%d %H:%M:%S}"
        log.warning("tailgate lane=%s plate=%s reason=%s", lane, plate or "-", tailgate.reason or "-")
        self._record(AlarmChange(partial(raise_alarm, kind="tailgate", source=source, text=text, at=at)))
