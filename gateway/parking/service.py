"""The parking desk: fees at exit lanes, payments, host validations and occupancy corrections.

The decision worker calls prepare() before a vehicle decision (what the car owes goes into the facts)
and settle() after its row is written (charge, payments applied, shared-slot handover), all in the
decision's transaction. Guard and admin actions build on the same functions through
Gateway.decide_after() and Gateway.on_worker().
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from gateway.config.common import most_allowed
from gateway.config.parking import Parking as ParkingConfig
from gateway.core import TYPED_BY, Billing, Decision, Facts, LaneRules, Presented, Reason
from gateway.events import AccessEvent
from gateway.ids import uuid7
from gateway.parking.book import UNTIMED, Quote, Rules, StayFacts
from gateway.parking.desk_checks import (
    check_amount,
    check_method,
    fee_until,
    host_unit,
    let_out_already,
    missed_entry,
    named_car,
    no_fee_for_a_shut_barrier,
    no_stay,
    paid_again,
    paid_up_to,
    paid_while_held,
    plate_or_holder,
    prepaid_already,
    quote_json,
    recorded_since,
    settled_at,
    still_open,
    typed_plate,
    version_paid,
)
from gateway.parking.fees import Tariff, yuan
from gateway.parking.tariffs import known_since, tariffs_from_config
from gateway.privacy import mask_numbers_in
from gateway.site import Site
from gateway.store.audit import audit
from gateway.store.config_seen import tariffs_first_seen, tariffs_seen_for_good
from gateway.store.holds import (
    Held,
    HeldOn,
    car_held,
    car_of,
    end_hold_by_hand,
    held_at_lane,
    held_on_holder,
    holder_shown,
    holds_at_lane,
    left_since,
    pass_car,
    refused_at_lane,
)
from gateway.store.lookup import lookup, subject_of
from gateway.store.outbox import enqueue
from gateway.store.parking import (
    HANDED_OVER_LATE,
    Owed,
    ParkingError,
    carry_reentry,
    handover,
    is_billable,
    keep_what_was_paid,
    open_stay,
    owed,
    put_back,
    settle_exit,
    stay_by_id,
)
from gateway.store.payments import check_receipt, record_payment
from gateway.store.units import resident_lives_in, same_unit
from gateway.timefmt import elapsed, from_db, later, to_db

log = logging.getLogger(__name__)


# A stay never ends before it began (a clock behind the car's entry: store/record.py). It names the
# hold's last decision as the exit it left on, as the opening does (end_hold_by_hand).
_CLOSED_BY_HAND = """
UPDATE stays SET exited_at = max(?, entered_at), exit_event = ?, closed_by = 'hand'
WHERE id = ? AND exited_at IS NULL
"""
# An admin's close (a car that left unseen), on such a clock too (ParkingDesk.close_stay).
_CLOSED_BY_ADMIN = """
UPDATE stays SET exited_at = max(?, entered_at), closed_by = 'admin' WHERE id = ? AND exited_at IS NULL
"""
# The first exit that let the stay's car out after its entry under another plate, corrected to
# the stay's since (the by-hand repair of docs/parking.md *Misread plates*, step 2 after step 1):
# the car left there, so an admin's close of its stay ends it there, not when 已离场 is pressed.
# Guards' corrections are few: read whole, each record found by its id (as parking/inside.py
# _LEFT_BY_CORRECTED_EXIT).
_LEFT_BY_CORRECTED_EXIT = """
SELECT a.at FROM stays s CROSS JOIN latest_plate_corrections c
CROSS JOIN access_log a ON a.event_id = c.event_id
WHERE s.id = :stay AND c.plate = s.plate AND a.car IS NOT s.plate AND a.at > s.entered_at AND a.at <= :at
  AND a.admitted = 1 AND a.direction = 'exit' AND a.lane_type = 'vehicle'
  AND NOT EXISTS (SELECT 1 FROM exits_put_back x WHERE x.event_id = a.event_id)
ORDER BY a.at, a.id LIMIT 1
"""
_BOOTH = LaneRules("booth", "exit", "vehicle", None)
# The last booth payment of an amount by a car with no stay (charges carried: ParkingDesk._debt_paid),
# taken since a moment, on the payments' time index.
_DEBT_PAID_SINCE = """
SELECT receipt, at FROM payments INDEXED BY payments_at
WHERE subject = ? AND stay_id IS NULL AND lane = 'booth' AND amount_fen = ? AND at >= ?
ORDER BY at DESC, id DESC LIMIT 1
"""


# The last exit a car settled (ParkingDesk.left_settled): paid for (its fee taken at the lane, or
# ahead at the booth: payments linked to that exit's charge), or a stay's exit that owed nothing (a
# temporary car out within its free minutes: its charge 0, nothing paid), let out there within the
# grace period before `:at`, no stay of its own begun since. A resident's exit writes no charge:
# never one. A free exit of a stay that began as a re-entry (closing another open stay of its
# subject: gateway/store/record.py, `reentry`, at the entry, never before that stay began) is
# not: two cars on one plate (a clone) made it, the other still about, and a free exit is no
# payment of that one's fee to let it out on. On the charges' time index: the last few minutes only.
# How far back a settled exit is looked for: the longest grace a payment can have been given
# (parking.grace_minutes' most); each is then judged by its own (ParkingDesk._within_its_grace).
LONGEST_GRACE = timedelta(minutes=most_allowed(ParkingConfig, "grace_minutes"))
_SETTLED_EXIT = """
SELECT a.event_id, a.at, a.lane, a.reason, a.billing, a.slot_id,
  (SELECT max(g.grace_s) FROM payments p JOIN payment_graces g ON g.payment_id = p.id
   WHERE p.charge_id = c.id) FROM charges c INDEXED BY charges_at
JOIN access_log a ON a.event_id = c.event_id
WHERE c.at > :since AND c.at <= :at AND c.subject = :subject AND c.kind IN ('exit', 'no_entry')
  AND c.voided_at IS NULL AND a.admitted = 1 AND a.direction = 'exit'
  AND (EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
       OR (c.kind = 'exit' AND c.amount_fen = 0 AND NOT EXISTS (
             SELECT 1 FROM stays r JOIN stays o ON o.subject = r.subject
             WHERE r.id = c.stay_id AND o.closed_by = 'reentry' AND o.exited_at >= r.entered_at
               AND o.exited_at = max(r.entered_at, o.entered_at))))
  AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.subject = c.subject AND s.entered_at > c.at)
ORDER BY c.at DESC, c.id DESC LIMIT 1
"""
# The exit a car with no entry record paid its day's fee for at a barrier that did not open, kept
# as put back with no stay (gateway/store/parking.py put_back), within a day of `:at` (the day it
# paid for), that it has not left on since: not let out by the guard's opening by hand on it or on
# a repeat of it (flag again: read again at the shut arm, its pulse taken by no relay either, kept
# put back too: store put_back), nor by a later exit of the same car (the car the record names, on
# the log's index of exits) whose barrier opened (not itself put back), no stay of its own begun
# since. The few exits put back are read, each with its charge on the charges' time index
# (written at the decision's moment).
_PAID_EXIT_WAITED_ON = """
SELECT a.event_id, a.at, a.lane, a.reason, a.billing, a.slot_id FROM exits_put_back x
JOIN access_log a ON a.event_id = x.event_id
JOIN charges c INDEXED BY charges_at ON c.at = a.at AND c.event_id = a.event_id
WHERE x.stay_id IS NULL AND a.at > :since AND a.at <= :at AND c.subject = :subject
  AND c.kind = 'no_entry' AND c.voided_at IS NULL
  AND EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM let_outs_by_hand o INDEXED BY let_outs_by_hand_at
                  JOIN exits_put_back h ON h.event_id = o.held_event AND h.stay_id IS NULL
                  JOIN access_log r ON r.event_id = h.event_id
                  WHERE o.at >= :since AND r.car = a.car AND r.id >= a.id)
  AND NOT EXISTS (SELECT 1 FROM access_log l INDEXED BY access_log_exits
                  WHERE l.car = a.car AND l.at > a.at AND l.at <= :at
                    AND l.admitted = 1 AND l.direction = 'exit' AND l.lane_type = 'vehicle'
                    AND NOT EXISTS (SELECT 1 FROM exits_put_back y WHERE y.event_id = l.event_id))
  AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.subject = c.subject AND s.entered_at > c.at)
ORDER BY a.at DESC, a.id DESC LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class SettledExit:
    """An exit a car settled (paid for, or owed nothing on) and was let out on
    (ParkingDesk.left_settled): its decision's record."""

    event_id: str
    lane: str
    at: datetime
    decision: Decision


@dataclass(frozen=True, slots=True)
class Before:
    """What a vehicle decision found before it was taken, for settle() to finish the job."""

    account: Owed | None = None  # exits: the car's account
    reentered: StayFacts | None = None  # entrances of a car recorded inside: the stay that closes


@dataclass(slots=True)
class FeeTaken:
    """A fee taken at an exit lane (ParkingDesk.pay_at_lane). Called in the exit decision's
    transaction (Gateway.decide_after), it records the payment and names the car to let out; then
    it holds what the guard hands the driver: the receipt number (the one typed, or made by the
    gateway) and the tariff version charged, which the receipt names."""

    prepare: Callable[[sqlite3.Connection], Presented]
    receipt: str = ""
    tariff_version: str | None = None

    def __call__(self, conn: sqlite3.Connection) -> Presented:
        return self.prepare(conn)


# Whether a plate camera of a lane still has a plate in view (Devices.sees).
Sees = Callable[[str, str], bool]
# Whether a lane has a plate camera that can tell so (Devices.watches).
Watches = Callable[[str], bool]


class ParkingDesk:
    def __init__(self, site: Site, sees: Sees, watches: Watches):
        cfg = site.config
        self.site = site
        self._sees = sees
        self._watches = watches
        # The config's, its tariff versions as written (what the start keeps and compares); a fee
        # is worked out by _rules(), with when each version was first seen.
        self.rules = Rules(
            tariffs=tariffs_from_config(cfg.parking),
            grace=timedelta(minutes=cfg.parking.grace_minutes),
            tz=site.tz,
            reentry=cfg.policy.reentry,
            exit_without_entry=cfg.policy.exit_without_entry,
        )
        self._tariffs: tuple[Tariff, ...] | None = None

    def tariffs(self, conn: sqlite3.Connection, at: datetime) -> tuple[Tariff, ...]:
        """The tariff versions, each with when the gateway first saw it (tariffs.known_since): a car
        pays the prices published when it came in, not a version added to the config since and
        dated back. The fees and the price table read these, so the table shows, at `at`, the
        version a car coming in then pays. As the start kept them (config_edits.say_at_start), in
        the records' own time (config_seen.tariffs_first_seen): read from the store until no record
        nor clock can move them (config_seen.tariffs_seen_for_good), then kept."""
        if self._tariffs is not None:
            return self._tariffs
        for_good = tariffs_seen_for_good(conn)  # asked first: a record written between is not missed
        known = known_since(self.rules.tariffs, tariffs_first_seen(conn, at))
        if for_good:
            self._tariffs = known  # a second thread meanwhile keeps the same
        return known

    def _rules(self, conn: sqlite3.Connection, at: datetime) -> Rules:
        return replace(self.rules, tariffs=self.tariffs(conn, at))

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
            until = fee_until(held_at_lane(conn, lane.id, p.at, held_on, self.site.lanes), p.at)
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
                no_fee_for_a_shut_barrier(conn, ev)
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

    def left_settled(self, conn: sqlite3.Connection, subject: str, at: datetime) -> SettledExit | None:
        """The exit `subject` (a car not recorded inside) settled and was let out on less than the
        grace period (parking.grace_minutes) before `at`: paid for, its fee taken at the lane, or
        ahead at the booth (its payments linked to that exit's charge), also a day's fee for a car
        with no entry record; or a stay's exit that owed nothing (out within its free minutes, fee
        0). Its driver turned back under the raised arm (the car in front stalled, a passenger
        forgotten) and is at an exit again: that same passage (Gateway._turned_back), as the grace
        after paying promises (缴费后请在 15 分钟内离场). Decided afresh, it was a car with no entry
        record: refused (禁止通行 未登记), or asked a day's fee, the car that left free as much as
        the one that paid. A free exit has no payment to have kept a grace: it has the config's
        (parking.grace_minutes), the grace a payment taken at that moment would have been given,
        so a car that left free is let back out for as long as one that paid 5元 then. So is, later
        than that, a car with no entry record that paid its day's fee at a barrier that did not
        open and has not left on it (_PAID_EXIT_WAITED_ON): still at the shut arm once the relay
        works, or back at the barrier, within the day it paid for. Once an exit lets it out there
        (its barrier opened), it has left on it: read again later, it is a car with no entry record
        again. None for any other car."""
        args = {"since": to_db(later(at, -LONGEST_GRACE)), "at": to_db(at), "subject": subject}
        row = self._within_its_grace(conn.execute(_SETTLED_EXIT, args).fetchone(), at)
        if row is None:
            args["since"] = to_db(later(at, -UNTIMED))
            row = conn.execute(_PAID_EXIT_WAITED_ON, args).fetchone()
        if row is None:
            return None
        event_id, left_at, lane, reason, billing, slot_id = row[:6]
        decision = Decision(Reason(reason), Billing(billing) if billing else None, slot_id)
        return SettledExit(event_id, lane, from_db(left_at) or at, decision)

    def _within_its_grace(self, row: Any, at: datetime) -> Any:
        """The settled exit `row` if `at` is within its grace: the longer of the one its payment was
        given (its receipt's leave_by) and the config's now, as fee_end judges it (a free exit, no
        payment: the config's). With the config's
        alone, a grace lowered since held a driver who turned back within his receipt's time for a
        day's fee (30元 on top of the 9元 paid)."""
        if row is None:
            return None
        grace = max(self.rules.grace, timedelta(seconds=row[6] or 0))  # none kept: paid before 52
        left_at = from_db(row[1])
        return row if left_at is not None and at - left_at < grace else None

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

    # ---- guard actions: each returns what Gateway.decide_after() runs in one transaction ----------

    def pay_at_lane(
        self,
        lane_id: str,
        plate: str,
        amount_fen: int,
        method: str,
        receipt: str,
        actor: str,
        at: datetime,
        pass_id: int | None = None,
        resident_id: int | None = None,
    ) -> FeeTaken:
        """The guard took the fee for the car at an exit lane: record it, then the car's exit opens.
        The car is named by its plate or, as the lane's quote names one that no plate names, by the
        pass without a plate it was let in on (`pass_id`), or by the resident whose card that names
        no car it was held on (`resident_id`)."""
        lane = self._exit_lane(lane_id)
        plate = plate_or_holder(plate, pass_id, resident_id)
        check_method(method)

        def prepare(conn: sqlite3.Connection) -> Presented:
            on = self._held_on(conn, lane.id, at, pass_id, resident_id)
            check_receipt(conn, receipt, on.subject if on else plate, amount_fen, self.site.tz)
            # A pass's car whose stay carries the plate the camera read is held on that plate.
            held = held_at_lane(conn, lane.id, at, on.car if on else plate, self.site.lanes)
            if held is not None and held.let_out_at is not None:
                car = named_car(on.holder_kind, on.holder_id) if on else plate
                let_out_already(conn, held, car, self.site.tz)
            if held is None and on is None:
                self._not_corrected(conn, lane.id, plate, at)
            held_as = held.vehicle_class if held else None
            # Decided as the car was held: on its pass's QR (or the resident's card), the car let in
            # on it leaves.
            kind: Literal["plate", "qr", "card"] = on.kind if on else "plate"
            value = on.value if on else plate
            p = Presented(lane.id, kind, value, 1.0, at, f"{TYPED_BY}{actor}", vehicle_class=held_as)
            subject, vclass, unregistered = self._who(conn, p, lane)
            until = fee_until(held, at)
            rules = self._rules(conn, at)
            account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
            paid_while_held(conn, held, account, self.site.tz)
            check_amount(account, amount_fen)
            stay = account.stay
            taken.tariff_version = version_paid(account)
            taken.receipt = record_payment(
                conn,
                subject=subject,
                plate=None if on else plate,
                stay_id=stay.id if stay else None,
                lane=lane.id,
                at=at,
                fee_until=paid_up_to(account, until),
                amount_fen=amount_fen,
                method=method,
                receipt=receipt,
                actor=actor,
                tz=self.site.tz,
                pass_id=pass_id,
                grace=self.rules.grace,
            )
            return p

        taken = FeeTaken(prepare)  # filled in as it runs: prepare() is called after this line
        return taken

    def prepay(
        self,
        conn: sqlite3.Connection,
        plate: str,
        amount_fen: int,
        method: str,
        receipt: str,
        actor: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Paying ahead at the booth: the car then has the grace period to leave. A car not
        inside that owes charges carried from before (one let out by hand unpaid) pays them off
        (_debt_paid)."""
        plate = typed_plate(plate, conn)
        check_method(method)
        p = Presented(_BOOTH.id, "plate", plate, 1.0, at, f"{TYPED_BY}{actor}")
        subject, vclass, unregistered = self._who(conn, p, _BOOTH)
        check_receipt(conn, receipt, plate, amount_fen, self.site.tz)
        until = self._booth_fee_until(conn, plate, at)
        rules = self._rules(conn, at)
        # As the quote asks it (unregistered: a stranger's missed entry), so the two agree.
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        if account.stay is None:
            return self._debt_paid(conn, rules, account, plate, amount_fen, (method, receipt, actor), at)
        prepaid_already(conn, account, amount_fen, at, rules.grace, self.site.tz)
        check_amount(account, amount_fen)
        receipt = record_payment(
            conn,
            subject=subject,
            plate=plate,
            stay_id=account.stay.id,
            lane="booth",
            at=at,
            fee_until=paid_up_to(account, until),
            amount_fen=amount_fen,
            method=method,
            receipt=receipt,
            actor=actor,
            tz=self.site.tz,
            grace=self.rules.grace,
        )
        leave_by = later(at, rules.grace)
        return {
            "plate": plate,
            "amount_fen": amount_fen,
            "receipt": receipt,
            "tariff_version": version_paid(account),
            "leave_by": leave_by.isoformat(),
        }

    def _debt_paid(
        self,
        conn: sqlite3.Connection,
        rules: Rules,
        account: Owed,
        plate: str,
        amount_fen: int,
        how: tuple[str, str, str],
        at: datetime,
    ) -> dict[str, Any]:
        """The booth takes what a car not recorded inside owes from before: the charges carried on
        its plate or ticket (a car let out by hand unpaid, policy.reentry = "charge"), settled now
        as an exit settles them, and sent upstream so, with the payment linked to the oldest. A
        car with no plate never comes in again on its ticket, so the exit never takes them: asked
        by the quote and refused here, they stood unpaid for ever, and the cash matched nothing. A
        stranger's plate whose quote asks a day's fee for a missed entry pays at the exit, where
        that fee is charged."""
        if account.quote.charge is not None:
            raise ParkingError(
                f"{plate} is not recorded inside", fix="take the fee at the exit lane when the car leaves"
            )
        if account.quote.due_fen != amount_fen:
            # Sent again after its answer was lost: the receipt it made, as for a prepayment.
            paid_again(conn, _DEBT_PAID_SINCE, account.subject, amount_fen, at, rules.grace, self.site.tz)
        if not account.carried_ids:
            raise ParkingError(
                f"{plate} is not recorded inside and owes nothing",
                fix="take nothing; a car pays ahead here while it is inside (find it on 车位)",
            )
        check_amount(account, amount_fen)
        method, receipt, actor = how
        receipt = record_payment(
            conn,
            subject=account.subject,
            plate=plate,
            stay_id=None,
            lane="booth",
            at=at,
            fee_until=at,
            amount_fen=amount_fen,
            method=method,
            receipt=receipt,
            actor=actor,
            tz=self.site.tz,
            grace=self.rules.grace,
        )
        # Read again with the payment just taken: it pays the charges carried, oldest first.
        paid = owed(conn, rules, account.subject, at, vehicle_class=account.vehicle_class)
        keep_what_was_paid(conn, rules, paid, None, at)
        settled = [c for c in paid.carried_ids if settled_at(conn, c, at)]
        return {
            "plate": plate,
            "amount_fen": amount_fen,
            "receipt": receipt,
            "tariff_version": None,  # no price of a tariff is in it: charges carried only
            "leave_by": None,  # no car inside to leave
            "charges_settled": settled,
        }

    def quote(self, conn: sqlite3.Connection, plate: str, at: datetime) -> dict[str, Any]:
        """What a car owes now, or held at an exit, its hold's fee (read-only: runs on any connection)."""
        plate = typed_plate(plate, conn)
        p = Presented(_BOOTH.id, "plate", plate, 1.0, at, "quote")
        subject, vclass, unregistered = self._who(conn, p, _BOOTH)
        until = self._booth_fee_until(conn, plate, at)
        rules = self._rules(conn, at)
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        return quote_json(account, plate, at, self.site.tz)

    def lane_quote(self, conn: sqlite3.Connection, lane_id: str, at: datetime) -> dict[str, Any] | None:
        """The car held at an exit lane for payment, and what it owes (held_car). A car held on the
        QR of a pass without a plate is named by that pass (`pass`: its id, holder and unit visited;
        `plate` null), one held on a resident's card that names no car by that resident
        (`resident`), never by the QR or card (holder_shown)."""
        found = self.held_car(conn, lane_id, at)
        if found is None:
            return None
        held, account = found
        shown = holder_shown(conn, held)
        return {
            "lane": lane_id,
            **quote_json(account, held.plate, held.at, self.site.tz),
            "pass": shown if held.kind == "qr" else None,
            "resident": shown if held.kind == "card" else None,
        }

    def held_car(self, conn: sqlite3.Connection, lane_id: str, at: datetime) -> tuple[Held, Owed] | None:
        """The car held at an exit lane for payment that the lane shows, and what it owes (as of when
        it was read there). Two cars held there at once (a queue, or a car that backed away from the
        barrier and the next one): the first held that the lane's camera still sees, usually the
        car at the barrier (one held earlier that came back behind it counts from its first hold:
        the guard checks the plate the dialog names); if it sees none of them (no camera, or a
        plate a guard typed), the last held."""
        lane = self._exit_lane(lane_id)
        held = self._shown(lane.id, holds_at_lane(conn, lane.id, at, self.site.lanes))
        return None if held is None else (held, self._account(conn, lane, held, at))

    def car_at_barrier(
        self,
        conn: sqlite3.Connection,
        lane_id: str,
        at: datetime,
        leaving: Collection[tuple[str, datetime]] = (),
        since: datetime | None = None,
    ) -> tuple[Held, Owed] | None:
        """The car a guard's single opening by hand of an exit lane at `at` lets out, and what it
        owes (let_out_by_hand): of the cars held there to pay and those the lane refused a moment
        ago (refused_at_lane: outside the lane's hours, the lane closed, the car blocked; or let
        through on record at its barrier that did not open, 道闸故障, its stay put back:
        not_let_out), the one at the barrier, which the guard opens for and which drives out. A
        hold does not beat a fresh refusal: a car held that backed away is still held for half an
        hour (PENDING_FOR), and the guard opening for the resident refused behind it let out that
        car on record instead.
        The first that the lane's camera still sees (in the order held, or first refused of those
        refused again and again: the car standing at the barrier, not the one refused behind it);
        if it sees none (no camera, or cars it did not read), the one decided last: the car held
        that the lane shows (held_car, so that the guard's "Take the fee" quote names the car an
        opening lets out) or the last refused, whichever the lane decided more recently. A refusal
        the lane's camera read is of a car at the barrier only while that camera still sees it
        (_still_there); the camera is asked about the text it read (`plate_read`: a misread plate a
        guard corrected since, a look-alike taken for a registered plate), the one it holds.
        `leaving`: the cars (hold key, and when their hold or refusal began: Held.car, Held.at) an
        earlier opening let out whose record waits in memory for storage (hand_lanes.py): gone
        through the barrier, still held on record. Picked again, the next opening let that car out
        once more, on its own record and reason, and the lane's display named its plate.
        `since`: when the lane let out a car whose pulse still waits (a Modbus module), the opening
        made for it (JoinedByHand): a car held or refused there before is not at the barrier (it
        backed away, or waits behind), so not this opening's car."""
        lane = self._exit_lane(lane_id)

        def there(car: Held) -> bool:
            return (car.car, car.at) not in leaving and (since is None or (car.decided_at or car.at) >= since)

        held = [h for h in holds_at_lane(conn, lane.id, at, self.site.lanes) if there(h)]
        refused = [
            r for r in refused_at_lane(conn, lane.id, at) if there(r) and self._still_there(lane.id, r)
        ]
        seen = [h for h in [*held, *refused] if self._sees_car(lane.id, h)]
        if seen:
            car: Held | None = min(seen, key=lambda h: h.at)  # the first held or refused of them
        else:
            car = max(held[-1:] + refused[-1:], key=lambda h: h.decided_at or h.at, default=None)
        return None if car is None else (car, self._account(conn, lane, car, at))

    def _still_there(self, lane: str, refused: Held) -> bool:
        """Whether a car refused at an exit a moment ago may still be at its barrier. Refused on its
        plate as the lane's camera read it, only while that camera still sees it: the car that
        backed away seconds after it was refused (the camera forgets a plate unread for 3 s) is not
        the one the guard opens for (a tricycle). Refused on a card or QR, or on a plate a guard
        typed (one the camera could not read), or at a lane with no plate camera: the camera cannot
        tell, and the refusal stands for REFUSED_JUST_NOW."""
        if not (refused.plate_read and self._watches(lane)):
            return True
        return self._sees(lane, refused.plate_read)

    def _sees_car(self, lane: str, car: Held) -> bool:
        """Whether the lane's camera sees the car held or refused there: by the text it read
        (`plate_read` of a refusal, or of a hold's last decision: a look-alike's own reading, the
        plate before a guard corrected it), else by the car's plate."""
        plate = car.plate_read or car.plate
        return plate is not None and self._sees(lane, plate)

    def _shown(self, lane: str, cars: list[Held]) -> Held | None:
        """Of the cars held at an exit lane (in the order held), the one at the barrier: the first
        that the lane's camera still sees; if it sees none of them, the last."""
        seen = [h for h in cars if self._sees_car(lane, h)]
        return seen[0] if seen else cars[-1] if cars else None

    def _account(self, conn: sqlite3.Connection, lane: LaneRules, held: Held, at: datetime) -> Owed:
        """What the car `held` at the exit `lane` owes at `at`: to the start of its hold (fee_until).
        Nothing for a car with no stay that is let out again on an exit it settled (left_settled: one
        that paid its day's fee at a barrier that did not open): asked it, its driver paid twice."""
        p = Presented(lane.id, held.kind, held.value, 1.0, held.at, "quote", vehicle_class=held.vehicle_class)
        subject, vclass, unregistered = self._who(conn, p, lane)
        until = fee_until(held, at)
        rules = self._rules(conn, at)
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        if account.stay is None and account.quote.due_fen > 0 and self.left_settled(conn, subject, at):
            return replace(account, quote=Quote(0, None, 0, 0), payment_ids=(), carried_ids=())
        return account

    def validate(
        self, conn: sqlite3.Connection, stay_id: int, building: str, unit: str, actor: str, at: datetime
    ) -> dict[str, Any]:
        """The host unit confirms its visitor (业主确认): the stay gets the visitor free time."""
        stay = stay_by_id(conn, stay_id)
        if stay is None:
            raise no_stay(stay_id)
        if conn.execute("SELECT exited_at FROM stays WHERE id = ?", (stay_id,)).fetchone()[0]:
            raise ParkingError(
                f"no car is inside on stay {stay_id}", fix="pick a stay from the open stays list"
            )
        if not is_billable(stay.billing):
            raise ParkingError(f"stay {stay_id} does not pay ({stay.billing})", fix="nothing to validate")
        if stay.subject.startswith("vehicle:"):
            raise ParkingError(
                f"stay {stay_id} is a resident's own car ({stay.plate}), not a visitor's",
                fix="a resident's second car pays as temporary; register a visitor's car as a visitor",
            )
        paid = conn.execute(
            "SELECT coalesce(sum(amount_fen), 0) FROM payments WHERE charge_id IS NULL AND "
            "(stay_id = ? OR (stay_id IS NULL AND subject = ?))",
            (stay_id, stay.subject),
        ).fetchone()[0]
        if paid:
            # There is no refund: made free now, the money taken would stand against no charge.
            raise ParkingError(
                f"stay {stay_id} has paid {yuan(paid)} already; a paid stay cannot be made free",
                fix="validate a visitor's stay before taking its fee at the booth",
                status=409,
                code="already_paid",
            )
        # The unit as the pages show it (8栋 1单元) or as the centre sent its residents (8 1).
        if not resident_lives_in(conn, building, unit):
            raise ParkingError(
                f"no resident lives in {building} {unit}",
                fix="give the host's building and unit",
                code="no_such_unit",
                data={"unit": f"{building} {unit}"},
            )
        host = host_unit(conn, stay.subject)
        # Decided by how the stay pays, not by who holds the plate now: a visitor's pass withdrawn
        # while the car is parked leaves its stay a stranger's plate, which any unit validated.
        if host is None and stay.billing == Billing.VISITOR:
            raise ParkingError(
                f"stay {stay_id} is a visitor's ({stay.plate}) whose pass was withdrawn: "
                "the unit it visits is no longer known",
                fix="the car pays at the exit as a visitor; if its host confirms the visit, "
                "the guard opens the barrier by hand (audited)",
            )
        # A pass that names no unit (registered outside closed management), or one where nobody
        # lives (host_unit), is validated as a stranger's car is, by any unit where a resident
        # lives: refused, no unit ever could. The validation names the unit that validated.
        if host is not None and any(host) and not same_unit(host, (building, unit)):
            raise ParkingError(
                f"the visitor was registered for {host[0]} {host[1]}, not {building} {unit}",
                fix="the host unit of the visitor's pass validates it",
                code="not_host_unit",
                data={"host_unit": f"{host[0]} {host[1]}"},
            )
        try:
            conn.execute(
                "INSERT INTO validations (stay_id, building, unit, at, actor) VALUES (?, ?, ?, ?, ?)",
                (stay_id, building, unit, to_db(at), actor),
            )
        except sqlite3.IntegrityError as exc:
            raise ParkingError(f"stay {stay_id} is already validated", fix="nothing to do") from exc
        audit(conn, at, actor, "stay.validate", f"stay:{stay_id}", f"{building} {unit}")
        # The centre takes the host's complaint about a visitor charged: without this it had the
        # charge and a daily count of validations, never whether this stay was validated, when, for
        # which unit or by whom. The unit as validated; no one's name, phone or ID.
        validated = {"stay_id": stay_id, "plate": stay.plate, "building": building, "unit": unit}
        said = {"at": at.astimezone(self.site.tz).isoformat(), "change": "validated", **validated}
        enqueue(conn, "stay", {**said, "actor": actor}, at)
        return {"stay_id": stay_id, "building": building, "unit": unit}

    def close_stay(
        self, conn: sqlite3.Connection, stay_id: int, reason: str, actor: str, at: datetime
    ) -> dict[str, Any]:
        """Admin correction: a car left unseen (camera down). Audited; a shared slot passes on.
        A car let out under another plate, that exit corrected to its plate since, left there: its
        stay ends at that exit and its slot passes on from then (_LEFT_BY_CORRECTED_EXIT). Ended at
        the press, a car of the slot that came in after it had gone was billed as its second car
        for hours the slot stood empty. The reason's phone- or ID-like numbers are masked here, for
        every caller, as record_inside's (docs/mqtt.md)."""
        reason = mask_numbers_in(reason)
        row = conn.execute(
            "SELECT plate, zone, class, slot_id, exited_at, subject FROM stays WHERE id = ?", (stay_id,)
        ).fetchone()
        if row is None:
            raise no_stay(stay_id)
        if row[4] is not None:  # ended meanwhile (closed on another tablet, or its exit): done
            raise ParkingError(
                f"no car is inside on stay {stay_id}: it has ended already",
                fix="nothing to do",
                code="already_done",
            )
        plate, zone, vclass, slot_id, _, subject = row
        # Its fee is let go (no exit read it), but what it paid ahead at the booth is kept. Closed on a
        # clock behind the car's entry, the stay and the charge keeping that money end at its entry
        # (_charged_as_paid), never before it began; the close is dated as the clock reads it.
        rules = self._rules(conn, at)
        account = owed(conn, rules, subject, at, vehicle_class=vclass, stay=stay_by_id(conn, stay_id))
        keep_what_was_paid(conn, rules, account, None, at)
        left = conn.execute(_LEFT_BY_CORRECTED_EXIT, {"stay": stay_id, "at": to_db(at)}).fetchone()
        ended = at if left is None else datetime.fromisoformat(left[0]).astimezone(at.tzinfo)
        conn.execute(_CLOSED_BY_ADMIN, (to_db(ended), stay_id))
        said = "" if left is None else f" (left at {ended:%Y-%m-%d %H:%M}, an exit corrected to its plate)"
        audit(conn, at, actor, "stay.close", f"stay:{stay_id}", f"{plate or ''}: {reason}{said}")
        # Handed on as at an exit, also from a car recorded inside that made the slot's first car its
        # second car: the close cannot tell a car that left unseen from a time typed wrong. The car
        # recorded again at a later time says it was the latter (inside.py restore_displaced).
        # From the exit it left on: a car of the slot that came in since came in on it free.
        since = elapsed(ended, at) + HANDED_OVER_LATE
        moved = handover(conn, slot_id, ended, "admin", entered_within=since) if slot_id is not None else None
        enqueue(
            conn,
            "stay",
            {
                "at": at.isoformat(),
                "change": "closed_by_admin",
                "stay_id": stay_id,
                "exited_at": ended.isoformat(),
                "plate": plate,
                "zone": zone,
                "class": vclass,
                "reason": reason,
                "actor": actor,
            },
            at,
        )
        return {"stay_id": stay_id, "plate": plate, "handover_to": moved}

    def let_out_by_hand(
        self,
        conn: sqlite3.Connection,
        lane: str,
        held: Held,
        account: Owed,
        actor: str,
        reason: str,
        at: datetime,
    ) -> bool:
        """The car at the exit's barrier (car_at_barrier: held there to pay, the one the lane shows,
        or refused there a moment ago, the one the lane's camera sees, else the one decided last)
        has left by the guard's opening (a host who confirms a withdrawn visitor's visit, a clock
        behind the car's entry, a resident leaving at night outside the exit's hours): its stay
        closes now, by hand, on the audit trail and upstream, as an admin's close (close_stay). Its
        fee to the hold (to the refusal, for a car refused) is what a missed
        exit's is (policy.reentry): carried to its next exit as an unsettled charge, written now
        (the daily report of now counts it, not that of the hold, maybe sent already), or void (what
        it paid ahead at the booth is kept, against a settled charge of it). Left open, the stay kept
        a space taken, and the car, back days later, was billed for the days it was gone. Its hold
        ends (end_hold_by_hand), also for a car held with no entry record and no stay to close, so
        the lane then shows the car held behind it, and the next opening lets that one out.
        Runs in a transaction of its own once a relay took the opening (gateway/runtime/
        hand_lanes.py), with the car and account found as the opening's record was written: the
        relay's answer (a Modbus module's, about a second) leaves time for another tablet. So the
        hold and the stay are read again here. A car let out since on another record (its fee
        taken at the lane: paid, its exit charged) is not let out again, nothing written; a stay
        closed since (an admin's close) is not closed again, the hold only ending; a car found with
        no stay that was recorded inside meanwhile (_stay_let_out) has that stay closed; a payment
        taken at the booth meanwhile counts. Otherwise one exit was on record twice: paid, and carried
        unpaid to the next visit or reported closed by hand with its fee let go. Returns whether
        the car was let out on this record."""
        if left_since(conn, lane, held, self.site.lanes):
            log.info(
                "car held at %s not let out by hand on record: it left since on another record "
                "(its fee taken at the lane, or another opening) stay=%s actor=%r",
                lane,
                account.stay.id if account.stay else None,
                actor,
            )
            return False
        held_by = end_hold_by_hand(conn, lane, held, at, self.site.lanes) or uuid7()
        stay = self._stay_let_out(conn, lane, account, actor, at)
        if stay is None:
            return True
        until = fee_until(held, at)
        rules = self._rules(conn, at)
        account = owed(conn, rules, account.subject, until, vehicle_class=account.vehicle_class, stay=stay)
        charge_id = self._missed_exit(conn, stay, held_by, at, until, account)
        conn.execute(_CLOSED_BY_HAND, (to_db(at), held_by, stay.id))
        audit(
            conn,
            at,
            actor,
            "stay.close",
            f"stay:{stay.id}",
            f"{stay.plate or ''}: let out by hand at {lane}: {reason}",
        )
        charge = account.quote.charge
        enqueue(
            conn,
            "stay",
            {
                "at": at.isoformat(),
                "change": "closed_by_hand",
                "stay_id": stay.id,
                "plate": stay.plate,
                "class": stay.vehicle_class,
                "lane": lane,
                "reason": reason,
                "actor": actor,
                "fee_fen": charge.amount_fen if charge else 0,
                "paid_fen": account.quote.paid_fen,
                "charge_id": charge_id,
            },
            at,
        )
        if stay.slot_id is not None:
            handover(conn, stay.slot_id, at, "exit")
        return True

    def _stay_let_out(
        self, conn: sqlite3.Connection, lane: str, account: Owed, actor: str, at: datetime
    ) -> StayFacts | None:
        """The stay a guard's opening by hand at `at` closes, read again in its transaction: the one
        found as the opening was written, if still open; where none was (held or refused with no
        entry read), the car's stay recorded inside since (登记场内车辆 during the relay's answer, or
        `gateway import-inside` writing as the guard opened), in before the opening. Closed on the
        stay found then (none), the car that left was on record inside for good: counted in
        occupancy, and back days later, its entry closed that stay as a missed exit."""
        if account.stay is None:
            return recorded_since(conn, account.subject, at)
        stay = still_open(conn, account.stay.id)
        if stay is None:
            log.info(
                "stay %s not closed by hand at %s: closed since (an admin's close); its hold ended actor=%r",
                account.stay.id,
                lane,
                actor,
            )
        return stay

    # ---- helpers -------------------------------------------------------------------------------

    def _missed_exit(
        self,
        conn: sqlite3.Connection,
        stay: StayFacts,
        event_id: str,
        at: datetime,
        priced_until: datetime | None = None,
        account: Owed | None = None,
    ) -> int | None:
        """The fee of a stay closed with no exit read (its car back in: a re-entry; or let out by
        hand), as policy.reentry says: "charge" carries it, less what was paid ahead, to the car's
        next exit; "void" drops it, and what it paid ahead at the booth is kept against a settled
        charge of what was paid (there is no refund), as an admin's close keeps it. Left unlinked, the
        daily report counted that money for ever as paid ahead by a car not seen leaving, and the
        central server got a payment for the stay and never a charge. `priced_until`: where the fee
        ends, if not at `at`; `account`: the stay's, if worked out already. The charge's id, if any."""
        rules = self._rules(conn, at)
        if rules.reentry == "charge":
            carried = carry_reentry(conn, rules, stay, event_id, at, priced_until=priced_until)
            if carried is not None:  # none is carried for a stay that owes nothing
                return carried
        if account is None:
            until = priced_until or at
            account = owed(conn, rules, stay.subject, until, vehicle_class=stay.vehicle_class, stay=stay)
        return keep_what_was_paid(conn, rules, account, event_id, at)

    def _exits(self) -> list[str]:
        return sorted(k for k, v in self.site.lanes.items() if v.direction == "exit" and v.type == "vehicle")

    def _exit_lane(self, lane_id: str) -> LaneRules:
        lane = self.site.lanes.get(lane_id)
        if lane is None or lane.direction != "exit" or lane.type != "vehicle":
            status, code = (404, "unknown_lane") if lane is None else (422, "wrong_lane")
            raise ParkingError(
                f"{lane_id!r} is not a vehicle exit lane",
                fix=f"use one of {self._exits()}",
                status=status,
                code=code,
            )
        return lane

    def _booth_fee_until(self, conn: sqlite3.Connection, plate: str, at: datetime) -> datetime:
        """Where the fee of a car paying at the booth ends: a car standing held at an exit's barrier
        pays its hold's fee, the one the lane display showed, which the exit charges when the camera
        lets it out on that hold (a fee to `at`, a period later, would stand against nothing)."""
        holds = [held_at_lane(conn, lane, at, plate, self.site.lanes) for lane in self._exits()]
        standing = [h for h in holds if h is not None and h.let_out_at is None]
        return fee_until(max(standing, key=lambda h: h.at, default=None), at).astimezone(self.site.tz)

    def _held_on(
        self,
        conn: sqlite3.Connection,
        lane: str,
        at: datetime,
        pass_id: int | None,
        resident_id: int | None,
    ) -> HeldOn | None:
        """The car a guard takes the fee for by its pass or its resident (pay_at_lane), None for one
        named by its plate; 404 if the lane holds no such car."""
        if pass_id is not None:
            on = pass_car(conn, lane, at, pass_id, self.site.lanes)
            named = f"pass {pass_id}"
        elif resident_id is not None:
            on = held_on_holder(conn, lane, at, "card", resident_id, self.site.lanes)
            named = f"a card of resident {resident_id}"
        else:
            return None
        if on is None:
            raise ParkingError(
                f"no car is held at {lane} on {named}",
                fix="take the fee for the car the lane's quote names: by its plate if the quote "
                "gives one, else by the pass or resident it names",
                status=404,
                code="not_found",
            )
        return on

    def _not_corrected(self, conn: sqlite3.Connection, lane: str, plate: str, at: datetime) -> None:
        """A fee for `plate` at the exit `lane`, whose hold there a guard corrected to another plate
        (a misread: docs/parking.md, Misread plates), is refused, naming the car held there now:
        the hold is the corrected car's from the correction on. Taken as a car presenting now, it
        charged the misread plate a day's fee with no entry record, let "it" out, and left the real
        car's stay open (a quote opened on another tablet before the correction)."""
        held_now = car_of(conn, "plate", plate, None, None, None, lane=lane, at=at)
        if held_now is not None and held_now != plate:
            raise ParkingError(
                f"the car held at {lane} as {plate} was corrected to {held_now}: its fee was not taken",
                fix=f"take the fee for {held_now}: ask the lane's quote again",
                code="plate_corrected",
            )

    def _who(self, conn: sqlite3.Connection, p: Presented, lane: LaneRules) -> tuple[str, str, bool]:
        facts = lookup(conn, p, lane, {})
        cred = facts.credential
        return subject_of(p, cred, "vehicle"), facts.vehicle_class, missed_entry(p, cred)
