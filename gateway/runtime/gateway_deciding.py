"""Deciding presentations (Gateway, gateway/runtime/gateway.py), on the worker thread: a batch in
one transaction, each in its savepoint, looked up, decided, recorded with its stay and fee, then
acted on after the commit; a guard's payment and its decision together (decide_after); refused
storage_failed when nothing can be recorded.

Which car a presentation is comes first (gateway_which_car.py); acting after the commit is
gateway_acting.py's.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from gateway.core import BUTTON, Decision, Facts, LaneRules, Policy, Presented, Reason, decide
from gateway.core.model import NEIGHBOUR_LANE, REFUSED_AGAIN, is_passage
from gateway.events import AccessEvent
from gateway.parking.service import Before
from gateway.runtime.gateway_acting import ActingOnDecisions
from gateway.runtime.gateway_which_car import WhichCar
from gateway.runtime.worker import Job
from gateway.store.database import StorageCause, begin_immediate, storage_cause, storage_fix
from gateway.store.lookup import lookup
from gateway.store.record import car_of_pass, qr_over_listed_car, write_event

log = logging.getLogger("gateway.runtime.gateway")  # its journal lines stay gateway.py's


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


class Deciding(WhichCar, ActingOnDecisions):
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
                self._again.remember(job.presented.value, ev, job.presented.kind)
                events.append((ev, job))
            self.conn.execute("COMMIT")
            self._again.end_batch()
            self.storage.took_writes()  # the disk has room again, the lock was let go
        except BaseException as exc:
            self._roll_back()
            # Not on record: the car stays remembered as the decision that is (let in a moment ago,
            # read again once the disk takes writes, it is still that passage, not a new arrival).
            self._again.undo_batch()
            if not isinstance(exc, sqlite3.Error):
                raise
            # Never open a gate for a decision that is not on disk; the guard can still open by hand.
            self.storage_failures += len(jobs)
            cause = storage_cause(exc, self.data_dir)
            self.storage.failed(exc, cause)
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
        if self._neighbour_read(p, lane) is not None:
            return self._neighbours_car(p, lane)
        hold = self._held_car(p, lane)
        if hold is not None:  # a card or QR shown for the car held to pay there: its plate again
            p = replace(p, kind="plate", value=hold.value)
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
            if hold is None:
                p, facts = self._lookalike(p, lane, facts)
                passage, facts, car = self._same_passage(p, lane, facts)
            else:  # one hold, its plate's: asked its fee again (refused_again)
                passage = hold
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

    def _neighbours_car(self, p: Presented, lane: LaneRules) -> AccessEvent:
        """The car of the lane of the other direction beside this one, read by this lane's camera
        a moment after its decision there (WhichCar._neighbour_read): no passage here. Recorded
        as a refusal `wrong_lane` flagged neighbour_lane, so that the read is on record and the
        guard's live panel says whose car it was; no stay opened, closed or moved, nothing held or
        charged, not remembered as the car's last decision (DecidedAgain.remember), not counted
        in the report (REPEATS), and nothing shown, said or opened at the lane (_act)."""
        facts = self._facts(p, lane)
        seen = Decision(Reason.WRONG_LANE, flags=(NEIGHBOUR_LANE,))
        ev = AccessEvent.of(p, facts, seen, snapshot=p.snapshot)
        write_event(self.conn, ev, lane.direction, lane.type)
        return ev

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
        self._again.remember(p.value, ev, p.kind)
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
        (docs/guard-app.md). A car the camera decides again while it stands there (`p.again`) is
        refused again (refused_again): the lane does not say 系统故障 请联系保安 at every repeat, four
        prompts a minute, where a disk with room tells it its words once (Review 66C)."""
        lane = self.site.lanes[p.lane]
        if p.kind == BUTTON:
            # Nobody is kept in for a record that cannot be written: the door opens, logged by _after.
            return _pressed(p, lane, self.site.policy, flags=(f"storage:{cause}",))
        try:
            facts = lookup(self.conn, p, lane, self.site.capacity)
        except Exception:  # the database cannot even be read: the event names the credential only
            facts = Facts(lane=lane)
        again = (REFUSED_AGAIN,) if p.again else ()
        refused = Decision(Reason.STORAGE_FAILED, flags=(f"storage:{cause}", *again))
        return AccessEvent.of(p, facts, refused, p.snapshot)
