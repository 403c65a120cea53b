"""The car a guard's single opening by hand (开闸) of a vehicle entrance lets in: the car that
entrance refused a moment ago (ParkingDesk.refused_at_entrance), on record as let in at the
opening, as the exit's opening lets out, on the same records, the car it refused a moment ago
(docs/parking.md, *Let out by hand*, *Let in by hand*).

Written as an entry of its own, on the decision worker, once a relay of the lane took the opening
(HandLanes): an access record flagged `let_in_by_hand`, at the opening's time, with the stay its
entry opens, as the car's decision would have opened it had nothing kept it out (a temporary car
billed from then, a resident's car on its slot or not as the rules say), audited (`stay.record`,
by the guard, with the reason) and sent upstream as any entry (`access`). Left as nothing (Review
65 D), the car the guard let in was reported turned away, and at the exit held as a car with no
entry record: a temporary car left unbilled, or paid a day's fee.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from dataclasses import replace
from datetime import datetime
from functools import partial

from gateway.core import Billing, Decision, Facts, LaneRules, Policy, Presented, Reason, decide
from gateway.events import AccessEvent
from gateway.parking.inside import _as_inside
from gateway.runtime.gateway_base import GatewayBase
from gateway.store.audit import audit
from gateway.store.database import transaction
from gateway.store.record import qr_over_listed_car, write_event

log = logging.getLogger("gateway.runtime.gateway")  # its journal lines stay gateway.py's

# What the entrance's refusal was shown and read as: the car is decided again on it.
_REFUSAL = "SELECT kind, value, confidence, device, class FROM access_log WHERE event_id = ?"
# The stay the entry opened (none for a car that re-entered on the stay it has: a pass's QR whose
# car is listed inside, store/record.py qr_over_listed_car). On the index of open stays by subject.
_STAY_OPENED = "SELECT id FROM stays WHERE subject = ? AND exited_at IS NULL AND entry_event = ?"


def _as_let_in(p: Presented, facts: Facts, policy: Policy) -> Decision:
    """The decision for the car a guard let in by hand at an entrance: as it would have been with
    nothing that keeps a car out (the lane's hours and its closing, a full zone, a closed-management
    period, anti-passback, a site that refuses cars without a slot or strangers: those are the
    guard's to judge, and he let it in), so a stranger comes in as a temporary car, a resident's car
    on its slot, or as its second car as the site's rules have it. One still refused so (blocked,
    a pass expired or not begun) is a temporary car: it is inside, and pays by time."""
    lane = replace(facts.lane, hours=())
    free = replace(facts, lane=lane, zone=None, lane_closed=False, previous_here=None)
    decision = decide(replace(p, again=False), free, _as_inside(policy))
    if not decision.admitted:
        decision = Decision(Reason.TEMPORARY, Billing.TEMPORARY, flags=decision.flags)
    return replace(decision, flags=(*decision.flags, "let_in_by_hand"))


class LettingInByHand(GatewayBase):
    def let_in_refused(self, lane: str, at: datetime, actor: str, reason: str) -> Future[AccessEvent | None]:
        """The guard's single opening of the vehicle entrance `lane` at `at` was taken by a relay
        (HandLanes, any thread): the car the lane refused a moment ago is let in on record, on the
        decision worker (let_in_by_hand). Not written (a full disk, the database locked), the car
        is inside all the same and nothing says so: the journal names it, and the fix."""
        done = self.worker.submit_or_run(lambda _conn: self.let_in_by_hand(lane, at, actor, reason))
        done.add_done_callback(partial(_not_written, lane, at))
        return done

    def let_in_by_hand(self, lane_id: str, at: datetime, actor: str, reason: str) -> AccessEvent | None:
        """(Worker thread only.) The car the vehicle entrance `lane_id` refused within 30 s before
        the opening by hand at `at`, the latest one (ParkingDesk.refused_at_entrance), let in on
        record at `at`: its access record (flag let_in_by_hand), its stay, the audit row and the
        upstream record in one transaction. Remembered as the lane's last decision on it, so that
        the camera reading it again as it drives through lets it through again (flag again), not
        refused again. None, and nothing written, where no such car was refused there."""
        lane = self.site.lanes[lane_id]
        with transaction(self.conn):
            ev = self._let_in(lane, at)
            if ev is None:
                return None
            stay = self.conn.execute(_STAY_OPENED, (ev.subject, ev.event_id)).fetchone()
            said = f"{ev.plate or ''}: let in by hand at {lane_id}: {reason.strip()}"
            audit(self.conn, at, actor, "stay.record", f"stay:{stay[0]}" if stay else lane_id, said)
        self._again.remember(ev.value, ev, ev.kind)
        log.info(
            "let in by hand lane=%s kind=%s plate=%s reason=%s billing=%s actor=%r",
            lane_id,
            ev.kind,
            ev.plate or "-",
            ev.reason,
            ev.billing or "-",
            actor,
        )
        for listener in self._listeners:  # the live pages, the uplink: as for any decision
            try:
                listener(ev)
            except Exception:
                log.exception("event listener failed")
        return ev

    def _let_in(self, lane: LaneRules, at: datetime) -> AccessEvent | None:
        car = self.parking.refused_at_entrance(self.conn, lane.id, at)
        if car is None or car.refused is None:
            return None
        kind, value, confidence, device, vclass = self.conn.execute(_REFUSAL, (car.refused,)).fetchone()
        p = Presented(lane.id, kind, value, confidence, at, device, vehicle_class=vclass)
        facts = self._facts(p, lane)
        facts, before = self.parking.prepare(self.conn, p, lane, facts)
        ev = AccessEvent.of(p, facts, _as_let_in(p, facts, self.site.policy))
        if before is not None and before.reentered is not None and qr_over_listed_car(self.conn, ev):
            before = None  # the car listed inside stays on its stay (Deciding._decide_one)
        write_event(self.conn, ev, lane.direction, lane.type)
        self.parking.settle(self.conn, ev, lane, before)  # a stay it re-enters on, a slot handed on
        return ev


def _not_written(lane: str, at: datetime, done: Future[AccessEvent | None]) -> None:
    exc = done.exception()
    if exc is None:
        return
    log.error(
        "car let in by hand at %s not on record at=%s error=%s fix=record it inside on the 车位 "
        "Occupancy page (登记场内车辆, POST /api/parking/stays) with the time of the opening, or its "
        "exit holds it as a car with no entry record",
        lane,
        at.isoformat(),
        exc,
    )
