"""Stays corrected by hand: a host unit's validation, an admin's close of a car that left unseen,
and the guard's opening by hand that lets out the car at an exit's barrier."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from typing import Any

from gateway.core import Billing
from gateway.ids import uuid7
from gateway.parking.book import StayFacts
from gateway.parking.desk_base import DeskBase
from gateway.parking.desk_checks import fee_until, host_unit, no_stay, recorded_since, still_open
from gateway.parking.fees import yuan
from gateway.privacy import mask_numbers_in
from gateway.store.audit import audit, done_already
from gateway.store.holds import Held, end_hold_by_hand, left_since
from gateway.store.outbox import enqueue
from gateway.store.parking import (
    HANDED_OVER_LATE,
    Owed,
    ParkingError,
    handover,
    is_billable,
    keep_what_was_paid,
    owed,
    stay_by_id,
)
from gateway.store.report_rebuilds import rebuild_reports_holding
from gateway.store.units import host_units, named_unit, same_unit
from gateway.timefmt import elapsed, to_db

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


class StayDesk(DeskBase):
    def validate(
        self, conn: sqlite3.Connection, stay_id: int, building: str, unit: str, actor: str, at: datetime
    ) -> dict[str, Any]:
        """The host unit confirms its visitor (业主确认): the stay gets the visitor free time."""
        stay = stay_by_id(conn, stay_id)
        if stay is None:
            raise no_stay(stay_id)
        # Sent again (the host's app retried after a lost answer, or validated as the guard did): a
        # change of state done already, by whom and when, as a pass checked out again
        # (docs/guard-app.md). Asked first: the car that drove out on it, or paid for the time past
        # its free hours, was refused "no car is inside" or already_paid (Review 65A2).
        done = conn.execute("SELECT actor, at FROM validations WHERE stay_id = ?", (stay_id,)).fetchone()
        if done is not None:
            raise done_already(conn, f"stay {stay_id} was validated", done[0], done[1], actor, at)
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
        # A pass that names no host (registered outside closed management) is validated as a
        # stranger's car is, by any unit where a resident lives: refused, no unit ever could. The
        # validation names the unit that validated. A host named is read as the visitor form took it
        # (三栋 / 二单元 is 3栋 2单元; a building alone or a room, one of the building's units): where
        # nobody lives (or lives no longer: moved out), no unit validates, never any unit (review
        # 64F). A refusal names the units that do validate it as the register writes them, which,
        # typed as named, are taken: the host as the pass writes it (3栋 301) may name no unit.
        units = host_units(conn, *host, at) if host is not None and any(host) else None
        if units == [] and host is not None:
            named = f"{host[0]} {host[1]}".strip()
            raise ParkingError(
                f"the visitor was registered for {named}, where no resident lives: no unit validates it",
                fix="the car pays at the exit as a visitor; if its host confirms the visit, "
                "the guard opens the barrier by hand (audited)",
                code="not_host_unit",
                data={"host_unit": named, "state": "nobody_lives"},
            )
        # The unit as the pages show it (8栋 1单元), as the centre sent its residents (8 1), or as a
        # pass writes its host (三栋 二单元): read as the visitor form reads a host, where a resident
        # lives now, and kept as the register writes it. Read as typed, the unit a refusal named
        # (the pass's host) was refused as one where nobody lives (review 64Rh).
        validating = named_unit(conn, building, unit, at)
        if validating is None:
            raise ParkingError(
                f"no resident lives in {building} {unit}",
                fix="give the host's building and unit",
                code="no_such_unit",
                data={"unit": f"{building} {unit}"},
            )
        building, unit = validating
        if units is not None and not any(same_unit(u, validating) for u in units):
            named = " / ".join(f"{b} {u}" for b, u in units)
            raise ParkingError(
                f"the visitor was registered for {named}, not {building} {unit}",
                fix="the host unit of the visitor's pass validates it",
                code="not_host_unit",
                data={"host_unit": named},
            )
        try:
            conn.execute(
                "INSERT INTO validations (stay_id, building, unit, at, actor) VALUES (?, ?, ?, ?, ?)",
                (stay_id, building, unit, to_db(at), actor),
            )
        except sqlite3.IntegrityError as exc:  # validated since the look-up above, by another writer
            by, done_at = conn.execute(
                "SELECT actor, at FROM validations WHERE stay_id = ?", (stay_id,)
            ).fetchone()
            raise done_already(conn, f"stay {stay_id} was validated", by, done_at, actor, at) from exc
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
        if left is not None:  # ended on a day maybe reported already: its report is built again
            rebuild_reports_holding(conn, [ended], at)
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
