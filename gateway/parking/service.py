"""The parking desk: fees at exit lanes, payments, host validations and occupancy corrections.

The decision worker calls prepare() before a vehicle decision (what the car owes goes into the facts)
and settle() after its row is written (charge, payments applied, shared-slot handover), all in the
decision's transaction. Guard and admin actions build on the same functions through
Gateway.decide_after() and Gateway.on_worker().

ParkingDesk's other parts: desk_fees.py (fees a guard takes), desk_barrier.py (the car at an exit's
barrier), desk_stays.py (stays corrected by hand), on desk_base.py (rules, tariffs, shared helpers).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gateway.core import Billing, Facts, LaneRules, Presented
from gateway.events import AccessEvent
from gateway.parking.book import StayFacts
from gateway.parking.desk_barrier import BarrierDesk
from gateway.parking.desk_checks import fee_until, held_since, missed_entry, no_fee_for_a_shut_barrier
from gateway.parking.desk_fees import FeeDesk
from gateway.parking.desk_stays import StayDesk
from gateway.store.audit import audit
from gateway.store.holds import car_held, held_at_lane
from gateway.store.lookup import lookup, subject_of
from gateway.store.outbox import enqueue
from gateway.store.parking import Owed, handover, open_stay, owed, put_back, settle_exit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Before:
    """What a vehicle decision found before it was taken, for settle() to finish the job."""

    account: Owed | None = None  # exits: the car's account
    reentered: StayFacts | None = None  # entrances of a car recorded inside: the stay that closes


class ParkingDesk(FeeDesk, BarrierDesk, StayDesk):
    # ---- inside the decision's transaction --------------------------------------------------------

    def prepare(
        self, conn: sqlite3.Connection, p: Presented, lane: LaneRules, facts: Facts, held_plate: str = ""
    ) -> tuple[Facts, Before | None]:
        """The fee owed at an exit, or the stay re-entered at an entry. `held_plate`: the plate of
        the car whose hold `p` repeats (a pass scanned as the car waits names no car itself). The
        misread plate of a hold a guard corrected since comes as the corrected car (as_corrected)."""
        if lane.type != "vehicle":
            return facts, None
        cred = facts.credential
        subject = subject_of(p, cred, "vehicle")
        if lane.direction == "exit":
            vclass = facts.vehicle_class
            # A hold is the car's, by its plate: its card, or its pass's QR, shown as it waits asks
            # the hold's fee. A pass without a plate is all that names its car: that car's hold is on
            # the pass's QR; a resident's card that names no car, on the resident (car_held_sql).
            held_on = held_plate or (
                cred.vehicle.plate
                if cred is not None and cred.vehicle is not None
                else car_held(conn, p, cred) or p.value
            )
            held = held_at_lane(conn, lane.id, p.at, held_on, self.site.lanes)
            until = fee_until(held, p.at)
            rules = self._rules(conn, p.at)
            account = owed(
                conn, rules, subject, until, vehicle_class=vclass, unregistered=missed_entry(p, cred)
            )
            stay = account.stay
            billing = Billing(stay.billing) if stay and stay.billing else None
            facts = replace(
                facts,
                fee_due=account.quote.due_fen,
                stay_billing=billing,
                # The schema's CHECK keeps a stay's class a VehicleClass.
                stay_class=stay.vehicle_class if stay else None,  # type: ignore[arg-type]
                # Standing held at the barrier to pay (its fee runs to its hold's start, fee_until,
                # while the hold is kept): the lane's hours judge it at that start.
                held_since=held_since(held, p.at),
            )
            return facts, Before(account=account)
        if facts.inside:
            return facts, Before(reentered=open_stay(conn, subject))
        return facts, None

    def as_corrected(
        self, conn: sqlite3.Connection, p: Presented, lane: LaneRules, facts: Facts
    ) -> tuple[Presented, Facts]:
        """The camera's repeat of a car held at the exit `lane` whose hold there a guard corrected
        since (纠正车牌: the misread plate read again as the car still waits, car_held): that car,
        as the lane's quote names it, looked up under the corrected plate (registered or not,
        inside on its stay or not, what it owes), to be decided and recorded as that car
        (Gateway._decide_one). Decided on the misread plate's facts, it was refused again as a car
        with no entry record, charged a day's fee, while the quote asked nothing of it. `p` and
        `facts` as they are for any other decision."""
        if p.kind != "plate" or lane.type != "vehicle" or lane.direction != "exit":
            return p, facts
        car = car_held(conn, p, facts.credential)
        if car is None or car == p.value:
            return p, facts
        its = replace(p, value=car)
        return its, lookup(conn, its, lane, self.site.capacity)

    def settle(
        self, conn: sqlite3.Connection, ev: AccessEvent, lane: LaneRules, before: Before | None
    ) -> None:
        if before is None:
            return
        if not ev.admitted:
            if before.account is not None:
                no_fee_for_a_shut_barrier(conn, ev, lane)
            return
        if before.account is not None:
            account = before.account
            left = account.stay
            settle_exit(
                conn, self._rules(conn, ev.at), account, ev.event_id, ev.at, "exit" if left else "no_entry"
            )
            if left is not None and left.slot_id is not None:
                handover(conn, left.slot_id, ev.at, "exit")
            return
        old = before.reentered
        if old is None:
            return
        self._missed_exit(conn, old, ev.event_id, ev.at)
        if old.slot_id is not None and ev.slot_id != old.slot_id:
            handover(conn, old.slot_id, ev.at, "reentry")

    def not_let_out(
        self, conn: sqlite3.Connection, ev: AccessEvent, repeats: Sequence[str] = ()
    ) -> int | None:
        """The car `ev` let out at a vehicle exit has not left: no relay of the lane took the pulse
        (its board unplugged or without power), the barrier stayed down, and the lane told the
        driver 道闸故障 请联系保安. The stay the decision closed is open again (store put_back), in a
        transaction of the caller's after the decision's: the car is inside and in the occupancy,
        its next decision at an exit lets it out and charges its stay then, or the guard's opening
        by hand of the lane, once its relay works, lets it out as a car refused there a moment ago
        (car_at_barrier), and what it paid for the exit stands for the stay as paid ahead (within
        its grace it leaves free). Audited (`stay.record` by the gateway: the car recorded inside
        again) and sent upstream (`stay` `reopened`, the exit's `charge` voided). Left closed, the
        car behind the shut arm was off the stays list, and back at the exit it was a car with no
        entry record. A car with no entry record that paid its day's fee there has no stay to put
        back: that exit is kept as put back (store put_back), its fee standing, and the car leaves
        on it (left_settled). `repeats`: the decisions repeating `ev` that pulsed the relay before it
        answered (flag again: Gateway._pulses_known), none of those pulses taken either: put back
        with it. The stay's id, or None where the decision closed none."""
        put = put_back(conn, ev.event_id, ev.at, self.site.tz, repeats)
        if put is None:
            return None
        if put.stay_id is None:
            log.warning(
                "car with no entry record not let out at %s: its barrier did not open; the day's fee "
                "it paid stands plate=%s fix=check the lane's relay board and its power; the car "
                "leaves on what it paid when it is read again, or by the guard's opening of the lane",
                ev.lane,
                put.plate,
            )
            return None
        why = f"not let out at {ev.lane}: its barrier did not open (no relay took the pulse)"
        audit(conn, ev.at, "gateway", "stay.record", f"stay:{put.stay_id}", f"{put.plate or ''}: {why}")
        enqueue(
            conn,
            "stay",
            {
                "at": ev.at.astimezone(self.site.tz).isoformat(),
                "change": "reopened",
                "stay_id": put.stay_id,
                "plate": put.plate,
                "class": put.vehicle_class,
                "slot_id": put.slot_id,
                "lane": ev.lane,
                "reason": "barrier_not_opened",
                "charge_id": put.voided,
                "access_event_id": ev.event_id,
            },
            ev.at,
        )
        log.warning(
            "car not let out at %s: its barrier did not open; stay %s open again plate=%s "
            "fix=check the lane's relay board and its power; the car leaves on its next decision "
            "(the camera, or its plate typed at the lane) or by the guard's opening of the lane",
            ev.lane,
            put.stay_id,
            put.plate,
        )
        return put.stay_id
