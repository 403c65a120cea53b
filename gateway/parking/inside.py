"""Cars already inside that no entry of the gateway's let in: recorded by hand.

An estate's first day replacing an old system starts with hundreds of cars parked, and a car an
admin finds parked may have come in past a camera that was down. Unrecorded, occupancy read low, a
fixed slot whose car was on it read free (its shared slot's second car came in as the slot's own),
and each such car left as `no_entry_record` (a stranger charged a day's fee under
exit_without_entry = "charge", whatever its real time). One function records one car, for the admin
API and `gateway import-inside` alike: the stay an entry of that plate at `entered_at` would have
opened, decided by the decision core as such an entry is (a slot of its own free then, else as the
slot's second car, handed the slot when the car on it then was seen leaving; monthly, visitor's or
temporary, billed from `entered_at`), marked as recorded by whom,
audited and sent upstream in the caller's transaction. A record made with a wrong, earlier time
that made the slot's first car its second car, closed by the admin (已离场) and made again at the
true, later time, gives that car back what it was (restore_displaced): the record made again says
the time was typed wrong, which the close alone cannot tell from a car that left unseen. A car
with no plate is recorded as 无牌车 and given a ticket, as the entrance gives one; a ticket typed is
refused (422 `ticket_typed`), as one may be owed on or never given.

The car is inside, whatever a lane would have said: what would have refused it at the barrier (a
full zone, `policy.no_slot` or `shared_slot_second_car` or `unknown_vehicle` = "refuse", a pass or
registration not valid then, a block) does not keep it out of the record. A car the lane would
have refused for its credential is recorded as a temporary car, paying by time, as it would pay had
it come in unregistered.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from gateway.core import (
    TYPED_BY,
    Billing,
    CredentialFacts,
    Decision,
    Facts,
    LaneRules,
    Policy,
    Presented,
    SlotFacts,
    decide,
)
from gateway.core.model import VehicleClass
from gateway.core.tickets import as_ticket_or_number, meant_as_ticket, says_no_plate
from gateway.parking.desk_checks import typed_plate
from gateway.privacy import mask_numbers_in
from gateway.site import Site
from gateway.store.audit import audit
from gateway.store.csv_rows import ProvinceLeftOut
from gateway.store.lookup import OWN_HOUSEHOLD_FIRST, SLOT_PREFERENCE, lookup, subject_of
from gateway.store.outbox import enqueue
from gateway.store.parking import ParkingError, handover, void_charge
from gateway.store.tickets import next_ticket
from gateway.timefmt import FORMS, gives_offset, parse_local, to_db
from plates.grammar import province_left_out

CLASSES = ("car", "motorcycle", "bicycle")
# The lane an entry at `entered_at` is decided at: no lane of the config (its hours, its class).
_LANE_ID = "inside"

# entered_typed: a time given is a true one, kept when a stale boot clock is set right (redate.py).
# redecided_flags: the record's decision's flags, which an entry's access record keeps for its stay
# (a recorded stay has no entry record): a renewal while parked finds by them the car that pays
# because its month had run out (store/renewals.py). Its redecided_reason stays NULL: no entry of it
# is decided again (the report counts no entry for a record). handed_over_at and billed_until: the
# slot handed it when the car on it then left (_SLOT_AT_ENTRY), as store/parking.py _HANDED_OVER does.
_OPEN = """
INSERT INTO stays (subject, plate, vehicle_id, class, zone, slot_id, billing, entered_at, recorded_by,
                   entered_typed, redecided_flags, handed_over_at, billed_until)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# The plate's (or its car's) stay still open: a car is inside once. Among the open stays alone: left
# to itself, SQLite walked every stay kept newest first for the order, and a car not inside (the one
# an admin records) read them all.
_INSIDE = """
SELECT id, entered_at FROM stays INDEXED BY stays_open_subject
WHERE exited_at IS NULL AND (subject = :subject OR plate = :plate)
ORDER BY id DESC LIMIT 1
"""
# A stay of the plate that ended after the time given: the car was seen leaving since it came in
# then. Read from the exits after that time (the partial index on exited_at), not the whole table.
# An admin's close is not a car seen leaving (its time is when the admin pressed 已离场): a stay
# recorded with a wrong time, closed to record it again at the true one, does not refuse that;
# nor does an exit a guard corrected to another plate since (another car left there).
_LEFT_SINCE = """
SELECT id, exited_at FROM stays
WHERE exited_at > :entered AND (plate = :plate OR subject = :subject) AND closed_by IS NOT 'admin'
  AND coalesce((SELECT l.plate FROM latest_plate_corrections l WHERE l.event_id = exit_event), plate) = plate
ORDER BY exited_at DESC LIMIT 1
"""
# The settled charge an admin's close of the car's stay after the time given kept its booth payments
# against (kind `exit`, no decision: ParkingDesk.close_stay), not undone: read from the exits after
# that time (the partial index on exited_at), as _LEFT_SINCE. Only one whose payments were all made
# since that time: a payment made before it was the closed stay's own (the car did leave unseen and
# came back: cameras down), and taken onto the new stay, that stay went unpaid and the new one was
# paid for with its money.
_KEPT_BY_CLOSE = """
SELECT s.id, c.id, c.plate FROM stays s JOIN charges c ON c.stay_id = s.id
WHERE s.exited_at > :entered AND (s.plate = :plate OR s.subject = :subject) AND s.closed_by IS 'admin'
  AND c.kind = 'exit' AND c.event_id IS NULL AND c.voided_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id AND p.at < :entered)
ORDER BY s.exited_at, s.id
"""
# Its payments, back unlinked (void_charge), onto the stay recorded now.
_PAID_ONTO = """
UPDATE payments SET stay_id = :stay, subject = :subject WHERE voided_charge_id = :charge AND charge_id IS NULL
"""
# The plate a guard corrected access record `a` to (纠正车牌: its latest correction), if any.
_CORRECTED = """(SELECT pc.plate FROM plate_corrections pc WHERE pc.event_id = a.event_id
    ORDER BY pc.id DESC LIMIT 1)"""
# A vehicle exit that let the car out after the time given, with no stay to close (no entry
# record: a registered car always leaves, a stranger where exit_without_entry lets it): it left
# then too. The car a record names (access_log.car: the plate read, or a card's car by its plate; a
# resident's own card, its subject), on the log's index of exits (migration 34); not one a guard
# corrected to another plate since (a misread: another car left there).
_LEFT_BY_EXIT = f"""
SELECT at, lane FROM access_log a INDEXED BY access_log_exits
WHERE car IN (:plate, :subject) AND at > :entered
AND admitted = 1 AND direction = 'exit' AND lane_type = 'vehicle'
AND coalesce({_CORRECTED}, car) IN (:plate, :subject)
ORDER BY at DESC LIMIT 1
"""
# Such an exit under a plate the lane misread, corrected to the car's since (docs/parking.md,
# *Misread plates*: the record is the car's): access_log.car keeps the plate read. Guards' corrections
# are few: read whole, each record they correct found by its id (CROSS JOIN keeps that order; the
# log's time index from the time given reads a day of a busy estate's decisions for each car).
_LEFT_BY_CORRECTED_EXIT = f"""
SELECT a.at, a.lane FROM plate_corrections c CROSS JOIN access_log a ON a.event_id = c.event_id
WHERE c.plate = :plate AND a.at > :entered
AND a.admitted = 1 AND a.direction = 'exit' AND a.lane_type = 'vehicle' AND {_CORRECTED} = :plate
ORDER BY a.at DESC LIMIT 1
"""
# A guard's opening by hand (开闸) that let the car out after the time given, where the exit had
# refused it or held it to pay with no entry record (no stay to close): it writes no access record,
# it names the refusal or hold it ended (let_outs_by_hand, schema migration 22). The car that
# decision names, as corrected. Openings by hand are few: read on their time index.
_LET_OUT_BY_HAND = f"""
SELECT o.at, o.lane FROM let_outs_by_hand o INDEXED BY let_outs_by_hand_at
JOIN access_log a ON a.event_id = o.held_event
WHERE o.at > :entered AND coalesce({_CORRECTED}, a.car) IN (:plate, :subject)
ORDER BY o.at DESC LIMIT 1
"""
# How each kind of let-out with no stay to close is named in the 409's message.
_LET_OUT = (
    ("let out", _LEFT_BY_EXIT),
    ("let out (plate corrected)", _LEFT_BY_CORRECTED_EXIT),
    ("let out by hand", _LET_OUT_BY_HAND),
)
# The zones of a registered car's fixed slots (car slots only): where it parks, when none is given.
_SLOT_ZONES = """
SELECT DISTINCT s.zone FROM credentials c JOIN vehicles v ON v.id = c.vehicle_id AND v.class = 'car'
JOIN slot_vehicles sv ON sv.vehicle_id = v.id JOIN slots s ON s.id = sv.slot_id
WHERE c.kind = 'plate' AND c.value = ?
"""
_SLOT_NUMBER = "SELECT number FROM slots WHERE id = ?"
# The car on a slot of the car recorded (in its zone) that came in after the time given and is on
# it by the gateway not knowing the car recorded now was there first: it came in on the slot free,
# or came in as its second car and was handed it when the car the gateway thought on it left
# (handed_over_at). Had the record been made in time, it was the slot's second car. A car that came
# in before the time given keeps it. The car recorded took a slot of its own household's first
# (OWN_HOUSEHOLD_FIRST, as the lane chooses: docs/parking.md, *Several slots*): the car on one of
# those is the one it kept out. Of several such cars on them (a family with two slots and three
# cars), the last in: the lane, knowing the car recorded, let the others onto the slots free and
# made the last its second car. Taken from the slot the lookup picked alone, the first car in was
# made the second car and the last kept its slot free; taken as the last in on all its slots, a
# neighbour's car recorded on its own household's slot made the owner of the slot lent to it the
# second car of his own slot.
_CAME_IN_AFTER = f"""
SELECT t.id, t.plate, t.zone, t.class, t.entered_at, t.entry_event FROM slot_vehicles sv
JOIN vehicles v ON v.id = sv.vehicle_id
JOIN slots s ON s.id = sv.slot_id AND s.zone = :zone
JOIN stays t ON t.slot_id = s.id AND t.exited_at IS NULL
WHERE sv.vehicle_id = :vehicle AND t.entered_at > :at AND t.plate IS NOT NULL
  AND (t.billing = 'slot' OR t.handed_over_at > :at)
ORDER BY {OWN_HOUSEHOLD_FIRST}, t.entered_at DESC, t.id DESC LIMIT 1
"""
_OFF_SLOT = "UPDATE stays SET slot_id = NULL WHERE id = ?"
# The slot of its own, in the zone, that the car recorded takes, of those no car is on now; with
# `left` the last exit from it, since the time given, of a car of it that came in before that time
# (NULL: it was free then). First one free then (NULL sorts first), as the lane would have chosen
# it (SLOT_PREFERENCE): the car came in on it free. Judged by the slot the lookup picks now alone,
# a family's car with its other slot free then was billed as the second car of the slot its
# slot-mate was on. Else, every slot taken then, the one left first: the car came in as the second
# car and was handed it when the last car ahead of it on it left (store/slot_handover.py handover: the
# car waiting longest is handed the slot freed first). A car seen leaving only: an admin's close
# says when the admin pressed 已离场, and closes a record typed wrong as well as a car gone unseen.
# Read from the exits after that time (the partial index on exited_at), as _LEFT_SINCE; as there,
# not an exit a guard corrected to another plate since (that car left, not this slot's), nor a stay
# of the car recorded itself (closed by such an exit: it was on the slot, not another car ahead of it).
_SLOT_AT_ENTRY = f"""
SELECT s.id, s.zone, s.number, (SELECT max(t.exited_at) FROM stays t
        WHERE t.exited_at > :entered AND t.slot_id = s.id AND t.entered_at < :entered
          AND t.closed_by IS NOT 'admin' AND t.vehicle_id IS NOT :vehicle
          AND coalesce((SELECT l.plate FROM latest_plate_corrections l WHERE l.event_id = t.exit_event),
                       t.plate) IS t.plate) AS left
FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id JOIN vehicles v ON v.id = sv.vehicle_id
WHERE sv.vehicle_id = :vehicle AND s.zone = :zone
  AND NOT EXISTS (SELECT 1 FROM stays o WHERE o.exited_at IS NULL AND o.slot_id = s.id)
ORDER BY left, {SLOT_PREFERENCE} LIMIT 1
"""
# Decided again as the slot's second car: a handover that never was (the recorded car was on the
# slot) stopped no billing. It is billed on from it, as from its entry, and the daily report counts
# no handover; a renewal's stop is the renewal's, kept (billed_until_cause). The report counts its
# entry as decided again (redecided_reason and _flags, schema migration 35), the entry's access
# record kept as written: counted from that, a car that leaves temporary came in resident.
_SECOND_CAR = """
UPDATE stays SET slot_id = ?, billing = ?, handed_over_at = NULL,
    billed_until = CASE WHEN billed_until_cause IS 'renewal' THEN billed_until END,
    redecided_reason = ?, redecided_flags = ?
WHERE id = ?
"""
# When a car's month had run out, where it had by its entry: its entry is decided again with its
# period as it stood then, not as the register has it after a renewal since (decided monthly, a car
# that came in paying left free). Renewed while parked so (billed_until_cause: only a car that came
# in with its month run out is stopped so, on its slot too, store/renewals.py), by its entry itself;
# on its slot, not renewed, the end kept by schema migration 40's trigger.
_RAN_OUT_AT_ENTRY = """
SELECT CASE WHEN billed_until_cause IS 'renewal' THEN entered_at
    WHEN billing = 'slot' AND monthly_until <= entered_at THEN monthly_until END
FROM stays WHERE id = ?
"""

# A record of the plate on a slot, closed by an admin (已离场), that began before the time given now
# and was closed after it: the car recorded again as inside when that record was closed, the close
# was no car leaving, and that record's time was typed wrong. A car that left unseen and is recorded
# back came in after its close. Typed wrong twice: the one closed last. Only a record made by hand
# that was on a slot may have made the slot's first car its second car (_CAME_IN_AFTER); an entry's
# stay never did.
_REDONE = """
SELECT slot_id, entered_at FROM stays
WHERE plate = :plate AND recorded_by IS NOT NULL AND closed_by IS 'admin' AND slot_id IS NOT NULL
  AND entered_at < :entered AND exited_at > :entered
ORDER BY exited_at DESC, id DESC LIMIT 1
"""
# The car of the slot decided again as its second car (redecided_reason) by a record of an earlier
# time: the first still inside that came in after the record's time, off the slot or handed it
# since (the record's close hands the slot on, as at an exit).
_DISPLACED = """
SELECT s.id, s.plate, s.zone, s.class, s.entered_at, s.entry_event, s.billing, s.slot_id FROM stays s
JOIN slot_vehicles sv ON sv.vehicle_id = s.vehicle_id AND sv.slot_id = :slot
WHERE s.exited_at IS NULL AND s.redecided_reason IS NOT NULL AND s.entered_at > :recorded
  AND (s.slot_id IS NOT :slot OR s.handed_over_at IS NOT NULL) AND s.plate IS NOT NULL
ORDER BY s.entered_at, s.id LIMIT 1
"""
# A car of the slot inside since before the displaced car came in, in the shared spaces or on the
# slot: with the record closed, that car was the slot's first, and the displaced car its second.
_CAME_IN_BEFORE = """
SELECT 1 FROM stays s JOIN slot_vehicles sv ON sv.vehicle_id = s.vehicle_id AND sv.slot_id = :slot
WHERE s.exited_at IS NULL AND s.id != :displaced AND s.entered_at < :entered AND s.class = 'car'
  AND (s.slot_id IS NULL OR s.slot_id = :slot)
LIMIT 1
"""
# A car on the slot when the displaced car came in, gone since: the displaced car came in as its
# second car and was handed the slot when it went (store/slot_handover.py handover), which its
# displacement forgot (handed_over_at = NULL). Only a stay on record then (a smaller id: stays are
# numbered as they are written): a car recorded since with an earlier time (the record closed now,
# or one closed before it, typed wrong twice) is not what it came in as.
_ON_SLOT_AT_ENTRY = """
SELECT max(exited_at) FROM stays
WHERE slot_id = :slot AND id < :displaced AND entered_at < :entered
  AND exited_at IS NOT NULL AND exited_at > :entered
"""
# Back as it was before the record made it the second car: on its slot free from its entry, or the
# second car handed the slot at :handed (billed to then, as store/parking.py _HANDED_OVER bills it,
# a renewal's stop kept). No longer decided again: the report counts its entry as its access
# record says.
_RESTORED = """
UPDATE stays SET slot_id = :slot, billing = :billing, handed_over_at = :handed,
    billed_until = CASE WHEN billed_until_cause IS 'renewal' THEN billed_until ELSE :handed END,
    redecided_reason = NULL, redecided_flags = NULL
WHERE id = :id
"""


@dataclass(frozen=True, slots=True)
class CarInside:
    """A car an admin says is inside: its plate as typed, and what the admin knows of it."""

    plate: str  # 无牌车 (or 无牌, 无车牌): a car with no plate, as no_plate
    entered_at: datetime | None = None  # None: now
    vehicle_class: str | None = None  # None: the register's, else car
    zone: str | None = None  # None: its slot's, or the site's only zone
    no_plate: bool = False  # a car with no plate (无牌车): the gateway gives it a ticket

    @property
    def has_no_plate(self) -> bool:
        return self.no_plate or says_no_plate(self.plate)


def typed_car_plate(text: str) -> str:
    """The plate of a car an admin records inside, as the store keeps it: 422 `invalid_plate` for
    none or a malformed one, 422 `ticket_typed` for a ticket (not_a_ticket)."""
    if not text.strip():
        raise ParkingError(
            "no plate was given",
            fix="type the car's plate, or 无牌车 (no_plate) for a car with no plate",
            status=422,
            code="invalid_plate",
        )
    not_a_ticket(text)
    plate = typed_plate(text)
    if province_left_out(text):  # ED12345 for 苏ED12345: recorded so, the car is inside twice
        left_out = ProvinceLeftOut("plate", text, plate)
        raise ParkingError(
            str(left_out), fix=left_out.fix, status=422, code="invalid_plate", data=left_out.data
        )
    return plate


def not_a_ticket(text: str) -> None:
    """422 `ticket_typed` for a ticket typed as the plate of a car recorded inside (无牌-0303-07,
    or its number 0303-07). A ticket is given once, by the gateway, to one car (docs/parking.md,
    *A ticket is given once*): one typed here may be one given before and still owed on, whose
    debt the car recorded was then asked, or one never given. A car with no plate is recorded as
    无牌车 and given a ticket of its own."""
    if as_ticket_or_number(text) is not None or meant_as_ticket(text):
        raise ParkingError(
            f"{text.strip()!r} is a ticket of a car with no plate: the gateway gives each such car "
            "its own, once",
            fix="record a car with no plate as 无牌车 (no_plate: true): it is given a new ticket, in "
            "the answer and on the 车位 list, to write on its paper ticket",
            status=422,
            code="ticket_typed",
        )


def entered_at_of(text: str | None, tz: ZoneInfo) -> datetime | None:
    """When a car came in, as an admin or a CSV gives it (the site's time; the forms a CSV takes:
    timefmt.FORMS), or None for now. 422 `bad_time` naming the forms when it is none of them."""
    if text is None or not text.strip():
        return None
    try:
        if gives_offset(text):  # "07:02Z" meant 07:02 here, not 15:02: refused as gateway import does
            raise ValueError(f"{text.strip()!r} gives an offset: the time is the site's, without one")
        return parse_local(text, tz)
    except ValueError as exc:
        raise ParkingError(
            f"entered_at: {exc}",
            fix=f"write when the car came in, in the site's time: {FORMS}",
            status=422,
            code="bad_time",
        ) from None


def record_inside(
    conn: sqlite3.Connection, site: Site, car: CarInside, reason: str, actor: str, now: datetime
) -> dict[str, Any]:
    """Open the stay of a car already inside (the caller owns the transaction). ParkingError, with
    nothing written, for a car that cannot be recorded so: 422 a bad plate (a ticket typed
    included), class, zone or time, 409 a car inside already or seen leaving since the time given.
    A car with no plate is given the next ticket of the day it came in, as the entrance would have
    given it then (its `plate` in the answer, `no_plate` true). The reason's phone- or ID-like
    numbers are masked here, for every caller (the API's Words did, `gateway import-inside
    --reason` did not: docs/mqtt.md)."""
    reason = mask_numbers_in(reason)
    plate = "" if car.has_no_plate else typed_car_plate(car.plate)
    if not 2 <= len(reason.strip()) <= 200:
        raise ParkingError(
            "a reason is needed",
            fix="say why, in 2 to 200 characters",
            status=422,
            code="reason_required",
            data={"least": 2},
            fields=["reason"],
        )
    at = (car.entered_at or now).astimezone(site.tz)
    if at > now:
        raise ParkingError(
            f"entered_at {at:%Y-%m-%d %H:%M} is after now ({now.astimezone(site.tz):%Y-%m-%d %H:%M})",
            fix="give the time the car came in, in the site's time, or leave it empty for now",
            status=422,
            code="bad_time",
        )
    if car.vehicle_class is not None and car.vehicle_class not in CLASSES:
        raise ParkingError(
            f"vehicle_class {car.vehicle_class!r} is not one of {', '.join(CLASSES)}",
            fix="give car, motorcycle or bicycle, or leave it empty for the register's (else car)",
            status=422,
            code="unknown_class",
        )
    plate = plate or next_ticket(conn, at)
    zone = _zone(conn, site, plate, car.zone)
    given = cast(VehicleClass | None, car.vehicle_class)  # one of CLASSES, checked above
    p = Presented(_LANE_ID, "plate", plate, 1.0, at, f"{TYPED_BY}{actor}", vehicle_class=given)
    lane = LaneRules(_LANE_ID, "entrance", "vehicle", zone)
    facts = lookup(conn, p, lane, site.capacity)
    cred = facts.credential
    registered = _registered_class(cred)
    if given is not None and registered is not None and given != registered:
        raise ParkingError(
            f"{plate} is registered as a {registered}, not a {given}",
            fix="leave vehicle_class empty (the register's is taken), or correct the register first",
            status=422,
            code="wrong_class",
        )
    subject = subject_of(p, cred, "vehicle")
    _not_inside(conn, site, plate, subject, at)
    # Given back first: the car of the slot a record of this car typed wrong displaced is decided
    # again as on the slot, and this record is decided with it there.
    back = _redone(conn, site, plate, at, actor, now)
    # Decided as an entry then, with nothing that keeps a car out: it is inside (a full zone is told
    # by the occupancy page and the import's summary, not by refusing the record).
    policy = _as_inside(site.policy)
    decision = decide(p, replace(facts, zone=None, inside=False), policy)
    later = _came_in_after(conn, site, facts, decision.flags, at)
    if later is not None:  # the slot was this car's first: the later car moves off it, and this one on
        conn.execute(_OFF_SLOT, (later.stay_id,))
        facts = lookup(conn, p, lane, site.capacity)
        decision = decide(p, replace(facts, zone=None, inside=False), policy)
    then = _slot_at_entry(conn, site, facts, decision, at)
    if then is not None:  # the slot it took then: free, or as its second car handed it since
        decision = decide(p, replace(_on_slot(facts, then.slot), zone=None, inside=False), policy)
    handed = then.handed if then is not None else None
    billing, slot_id = decision.billing, decision.slot_id
    if not decision.admitted:  # its credential would have kept it out then: it pays by time
        billing, slot_id = Billing.TEMPORARY, None
    if handed is not None:
        slot_id = handed.slot
    vclass = facts.vehicle_class
    vehicle_id = cred.vehicle.id if cred is not None and cred.vehicle is not None else None
    typed = 1 if car.entered_at is not None else None
    flags = ",".join(decision.flags)
    handed_at = to_db(handed.at) if handed is not None else None
    opened = (subject, plate, vehicle_id, vclass, zone, slot_id, billing, to_db(at), actor, typed, flags)
    cur = conn.execute(_OPEN, (*opened, handed_at, handed_at))
    stay_id = int(cur.lastrowid or 0)
    second = _as_second_car(conn, site, later, actor) if later is not None else None
    named_stay = {"subject": subject, "plate": plate, "entered": to_db(at), "stay": stay_id}
    paid_back = _paid_before_close(conn, named_stay, now.astimezone(site.tz))
    if back is not None and second is not None and second["stay_id"] == back.said["stay_id"]:
        back = None  # given back, then made the second car again by this record's time: that is what it is
    slot = conn.execute(_SLOT_NUMBER, (slot_id,)).fetchone()[0] if slot_id is not None else None
    when = f"{at:%Y-%m-%d %H:%M}"
    named = f"无牌车, ticket {plate}" if car.has_no_plate else plate
    detail = f"{named}: inside since {when}, {zone}: {reason}"
    if handed is not None:
        detail += f"; the slot's second car, handed {slot} at {handed.at:%Y-%m-%d %H:%M}"
    if later is not None:
        since = f"{later.entered_at:%Y-%m-%d %H:%M}"
        detail += f"; {later.plate} (stay {later.stay_id}), in since {since}, made the slot's second car"
    if back is not None:
        detail += f"; {back.detail}"
    if paid_back:
        closed = ", ".join(f"stay {stay} (charge {charge})" for stay, charge in paid_back)
        detail += f"; what it paid ahead at the booth before its close by an admin of {closed} is this stay's"
    audit(conn, now, actor, "stay.record", f"stay:{stay_id}", detail)
    said = {
        "stay_id": stay_id,
        "plate": plate,
        "zone": zone,
        "class": vclass,
        "slot_id": slot_id,
        "slot": slot,
        "billing": billing,
        "entered_at": at.isoformat(),
        "handed_over_at": handed.at.isoformat() if handed is not None else None,
        "second_car": second,
        "restored": back.said if back is not None else None,
        "paid_ahead_from": [{"stay_id": stay, "charge_id": charge} for stay, charge in paid_back],
    }
    change = {"at": now.astimezone(site.tz).isoformat(), "change": "recorded_by_admin"}
    enqueue(conn, "stay", {**change, **said, "reason": reason, "actor": actor}, now)
    refused = None if decision.admitted else str(decision.reason)
    return {**said, "no_plate": car.has_no_plate, "recorded_by": actor, "lane_would_refuse": refused}


def _paid_before_close(
    conn: sqlite3.Connection, named: dict[str, Any], now: datetime
) -> list[tuple[int, int]]:
    """The stays of the car an admin closed (已离场) after the time it is recorded inside since now
    (`named`, with the new stay): the car was inside all along, the close was the admin's mistake
    (标记离场 on the wrong row, undone by recording the car again at its true entry). What such a
    stay paid ahead at the booth, kept by the close against a settled charge (ParkingDesk.close_stay),
    is this stay's: the charge is undone and sent upstream voided, its payments on the new stay, so
    the car leaves within that payment's grace free, later paying the rest. Left on the closed stay,
    the driver was asked the whole fee again, and the daily report counted the stay twice. What of
    them paid carried charges stays with those (they stay settled). A close kept against a payment
    made before this stay began is left as it is (_KEPT_BY_CLOSE). Each close with its charge."""
    moved = []
    for stay, charge, plate in conn.execute(_KEPT_BY_CLOSE, named).fetchall():
        void_charge(conn, (charge, "exit", plate, stay), None, now)
        conn.execute(_PAID_ONTO, {**named, "charge": charge})
        moved.append((int(stay), int(charge)))
    return moved


@dataclass(frozen=True, slots=True)
class _Handed:
    """The slot a car recorded inside was handed after it came in, and when."""

    slot: int
    at: datetime


@dataclass(frozen=True, slots=True)
class _SlotThen:
    """The slot of its own a car recorded inside came in on, and its handover where it came in as
    that slot's second car (None: the slot was free then)."""

    slot: SlotFacts
    handed: _Handed | None


def _slot_at_entry(
    conn: sqlite3.Connection, site: Site, facts: Facts, decision: Decision, at: datetime
) -> _SlotThen | None:
    """Where the car recorded would be on a slot of its own free now: the one of its slots in the
    zone, free now, that it took at `at` (_SLOT_AT_ENTRY). One free then, free (a family's car with
    its other slot free then parks free, as it did); else, every such slot taken then by a car
    gone since, the one first left to it, as its second car handed it then. Judged by the cars on
    the slot now, it was put on it free from `at` and left free: the household paid nothing for the
    hours both cars were inside."""
    vehicle = facts.credential.vehicle if facts.credential is not None else None
    if vehicle is None or decision.slot_id is None or "shared_slot" in decision.flags:
        return None
    named = {"vehicle": vehicle.id, "zone": facts.lane.zone, "entered": to_db(at)}
    row = conn.execute(_SLOT_AT_ENTRY, named).fetchone()
    if row is None:
        return None
    slot_id, zone, number, left = row
    handed = None if left is None else _Handed(slot_id, _local(left, site))
    slot = SlotFacts(id=slot_id, zone=zone, number=number, taken_by_other=handed is not None)
    return _SlotThen(slot, handed)


def _on_slot(facts: Facts, slot: SlotFacts) -> Facts:
    """The facts of a car decided onto a slot of its own, with that slot as it was at its entry:
    free, or taken by another car of it."""
    cred = facts.credential
    vehicle = cred.vehicle if cred is not None else None
    if cred is None or vehicle is None:
        return facts
    return replace(facts, credential=replace(cred, vehicle=replace(vehicle, slot=slot)))


@dataclass(frozen=True, slots=True)
class _Later:
    """The car on a slot that came in after a car recorded inside of that slot."""

    stay_id: int
    plate: str
    zone: str
    vehicle_class: VehicleClass
    entered_at: datetime
    entry_event: str | None  # its entry's access record (None: a car recorded inside itself)


def _came_in_after(
    conn: sqlite3.Connection, site: Site, facts: Facts, flags: tuple[str, ...], at: datetime
) -> _Later | None:
    """The car on a slot of the recorded car's that made it the second car, where it came in after
    `at` free on the slot, or was handed the slot after `at` having come in after it: it and the
    recorded car were both inside only from its entry, so it is the second car, from then, as an
    entry after the record would have made it. Left on the slot, the recorded car paid by the hour
    for the time it was the slot's only car inside (docs/parking.md, *Cars already inside*). Of
    several on its slots, the last in on a slot of its own household's first (_CAME_IN_AFTER): the
    car the lane would have made second."""
    vehicle = facts.credential.vehicle if facts.credential is not None else None
    if "shared_slot" not in flags or vehicle is None or vehicle.slot is None:
        return None
    named = {"vehicle": vehicle.id, "zone": facts.lane.zone, "at": to_db(at)}
    row = conn.execute(_CAME_IN_AFTER, named).fetchone()
    if row is None:
        return None
    stay_id, plate, zone, vclass, entered_at, entry_event = row
    return _Later(stay_id, plate, zone, vclass, _local(entered_at, site), entry_event)


def _as_second_car(conn: sqlite3.Connection, site: Site, later: _Later, actor: str) -> dict[str, Any]:
    """The car moved off the slot, decided again as its entry would have been with the recorded car
    on the slot: the slot's second car (temporary from its entry, or monthly within its period), or
    on another slot of its own that is free. What would have kept it out at the barrier does not
    (it is inside): it is then a temporary car, as the recorded car is. A car handed the slot is
    billed again from that handover (_SECOND_CAR): the recorded car was on the slot, not gone.
    Said upstream with what the daily report now counts: its entry's access record
    (`access_event_id`), as decided again (`reason`, `flags`), and no handover (`handed_over_at`
    null): the centre, with the access record as written and the handover record sent, counted a
    resident's entry and a handover that never was."""
    decision = _decided_again(conn, site, later, actor)
    billing, slot_id, reason = decision.billing, decision.slot_id, str(decision.reason)
    if not decision.admitted:
        billing, slot_id, reason = Billing.TEMPORARY, None, "temporary"
    conn.execute(_SECOND_CAR, (slot_id, billing, reason, ",".join(decision.flags), later.stay_id))
    return {
        "stay_id": later.stay_id,
        "plate": later.plate,
        "entered_at": later.entered_at.isoformat(),
        "slot_id": slot_id,
        "billing": billing,
        "access_event_id": later.entry_event,
        "reason": reason,
        "flags": list(decision.flags),
        "handed_over_at": None,
    }


@dataclass(frozen=True, slots=True)
class Restored:
    """The car of a slot put back as it was when the record that made it the slot's second car
    was made again at a later time: `said` for the answer and the upstream record, `detail` for
    the record's audit row."""

    said: dict[str, Any]
    detail: str


@dataclass(frozen=True, slots=True)
class _Displaced:
    """The car a record made the slot's second car: as it is now (its billing, the slot it is on)."""

    car: _Later
    billing: str | None
    slot_id: int | None


def _redone(
    conn: sqlite3.Connection, site: Site, plate: str, at: datetime, actor: str, now: datetime
) -> Restored | None:
    """The car of a slot given back what it was, where the car recorded now at `at` was recorded
    before at an earlier time on that slot and that record closed after `at` (_REDONE)."""
    row = conn.execute(_REDONE, {"plate": plate, "entered": to_db(at)}).fetchone()
    if row is None:
        return None
    slot, recorded = row
    return restore_displaced(conn, site, slot, recorded, actor, now)


def restore_displaced(
    conn: sqlite3.Connection, site: Site, slot: int, recorded: str, actor: str, at: datetime
) -> Restored | None:
    """A record on `slot` since `recorded`, closed by an admin, is made again at a later time (the
    caller owns the transaction, the new record not written yet). Made at a wrong, earlier time, it
    made the slot's first car its second car (_as_second_car), and its close handed the slot on to
    that car as at an exit (a close cannot tell a car that left unseen). The record made again says
    the time was wrong, and gives that car back what it was: on its slot free from its entry, or
    the second car handed the slot when the car on it then left. Left so, the first car paid for the
    time it stood alone on its own slot; given back at the close, a second car whose first car
    truly left unseen was let off its fee. Nothing is given back where something else makes it the
    second car still: a car of the slot inside from before its entry, another car on the slot, or
    the slot no longer its own (its entry is decided again with the cars inside now, as the
    displacement decided it)."""
    displaced = _displaced_by(conn, site, slot, recorded)
    if displaced is None or not _first_of_its_slot(conn, site, displaced, slot, actor):
        return None
    car = displaced.car
    handed = _handed_over_at(conn, slot, car)
    billing = displaced.billing if handed is not None else "slot"
    stored = None if handed is None else to_db(handed)
    conn.execute(_RESTORED, {"slot": slot, "billing": billing, "handed": stored, "id": car.stay_id})
    if displaced.slot_id not in (None, slot):  # moved onto another slot of its own: that one is free again
        handover(conn, displaced.slot_id, at, "admin")
    number = conn.execute(_SLOT_NUMBER, (slot,)).fetchone()[0]
    how = "free from its entry" if handed is None else f"its second car, handed it at {handed:%Y-%m-%d %H:%M}"
    since = f"{car.entered_at:%Y-%m-%d %H:%M}"
    where = f"back on its slot {number} as it was ({how})"
    detail = f"{car.plate} (stay {car.stay_id}), in since {since}, {where}"
    said = {
        "stay_id": car.stay_id,
        "plate": car.plate,
        "entered_at": car.entered_at.isoformat(),
        "slot_id": slot,
        "billing": billing,
        "handed_over_at": None if handed is None else handed.isoformat(),
        "access_event_id": car.entry_event,  # counted again as its access record says
    }
    return Restored(said, detail)


def _displaced_by(conn: sqlite3.Connection, site: Site, slot: int, recorded: str) -> _Displaced | None:
    """The car of the slot a record of `recorded`'s time made its second car, still inside."""
    row = conn.execute(_DISPLACED, {"slot": slot, "recorded": recorded}).fetchone()
    if row is None:
        return None
    stay_id, plate, zone, vclass, entered, entry_event, billing, on = row
    return _Displaced(_Later(stay_id, plate, zone, vclass, _local(entered, site), entry_event), billing, on)


def _first_of_its_slot(
    conn: sqlite3.Connection, site: Site, displaced: _Displaced, slot: int, actor: str
) -> bool:
    """Whether the car, its entry decided again now, would have come in on the slot: no car of it
    inside came in before it (recorded since, or moved off the slot), none is on it, the slot is
    its own still."""
    car = displaced.car
    named = {"slot": slot, "displaced": car.stay_id, "entered": to_db(car.entered_at)}
    if conn.execute(_CAME_IN_BEFORE, named).fetchone() is not None:
        return False
    decision = _decided_again(conn, site, car, actor)
    return decision.admitted and decision.slot_id == slot


def _handed_over_at(conn: sqlite3.Connection, slot: int, car: _Later) -> datetime | None:
    """When the car was handed the slot, where another car was on it at its entry (it came in as
    its second car): that car's exit. None where it came in on the slot free."""
    named = {"slot": slot, "displaced": car.stay_id, "entered": to_db(car.entered_at)}
    left = conn.execute(_ON_SLOT_AT_ENTRY, named).fetchone()[0]
    return None if left is None else datetime.fromisoformat(left).astimezone(car.entered_at.tzinfo)


def _decided_again(conn: sqlite3.Connection, site: Site, car: _Later, actor: str) -> Decision:
    """The car's entry decided again with the cars inside now (on its slot or not) and the register
    as it is now, as an entry at its time would have been, nothing keeping it out; its month as it
    stood then where it had run out by then (_ran_out_at_entry): renewed since, it came in paying
    all the same, and pays until its renewal (the stay's billed_until, kept by _SECOND_CAR)."""
    by = f"{TYPED_BY}{actor}"
    p = Presented(_LANE_ID, "plate", car.plate, 1.0, car.entered_at, by, vehicle_class=car.vehicle_class)
    lane = LaneRules(_LANE_ID, "entrance", "vehicle", car.zone)
    facts = _with_month_then(lookup(conn, p, lane, site.capacity), _ran_out_at_entry(conn, site, car))
    return decide(p, replace(facts, zone=None, inside=False), _as_inside(site.policy))


def _ran_out_at_entry(conn: sqlite3.Connection, site: Site, car: _Later) -> datetime | None:
    """When the car's month had run out, where it had by its entry (_RAN_OUT_AT_ENTRY), else None
    (its period as the register has it now)."""
    row = conn.execute(_RAN_OUT_AT_ENTRY, (car.stay_id,)).fetchone()
    return None if row is None or row[0] is None else _local(row[0], site)


def _with_month_then(facts: Facts, ran_out: datetime | None) -> Facts:
    """The facts with the car's period ended at `ran_out` (None: as they are)."""
    cred = facts.credential
    vehicle = cred.vehicle if cred is not None else None
    if ran_out is None or cred is None or vehicle is None:
        return facts
    return replace(facts, credential=replace(cred, vehicle=replace(vehicle, monthly_until=ran_out)))


def _local(stored: str, site: Site) -> datetime:
    return datetime.fromisoformat(stored).astimezone(site.tz)


def _registered_class(cred: CredentialFacts | None) -> str | None:
    """The class the register gives the plate: its vehicle's, or the one on its visitor's pass."""
    if cred is None:
        return None
    return cred.vehicle.vehicle_class if cred.vehicle is not None else cred.holder.vehicle_class


def _as_inside(policy: Policy) -> Policy:
    """The site's policy with what keeps a car out at the barrier taken away: a car without a slot,
    a slot's second car and a stranger are temporary cars, as they are where the site admits them."""
    return replace(
        policy,
        no_slot="temporary",
        shared_slot_second_car="temporary",
        unknown_vehicle="temporary",
        anti_passback="off",
        closed_periods=(),
    )


def _zone(conn: sqlite3.Connection, site: Site, plate: str, given: str | None) -> str:
    """The zone the car is in: the one given (a zone of the config), else its fixed slot's, else
    the site's only zone; 422 where that cannot be told."""
    zones = [z.id for z in site.config.zones]
    if given:
        if given not in zones:
            raise ParkingError(
                f"zone {given!r} is not a zone of this site",
                fix=f"give one of {zones}",
                status=422,
                code="unknown_zone",
            )
        return given
    slotted = [z for (z,) in conn.execute(_SLOT_ZONES, (plate,)) if z in zones]
    if len(slotted) == 1:
        return slotted[0]
    if len(zones) == 1:
        return zones[0]
    where = f"its slots are in {sorted(slotted)}" if slotted else "it has no fixed slot"
    raise ParkingError(
        f"the zone of {plate} cannot be told: {where}, and the site has zones {zones}",
        fix=f"give the zone the car is parked in: one of {zones}",
        status=422,
        code="zone_needed",
    )


def _not_inside(conn: sqlite3.Connection, site: Site, plate: str, subject: str, at: datetime) -> None:
    """409 for a car recorded inside already (naming its stay), or seen leaving after `at`: a stay
    of it ended then other than by an admin's close (the two would overlap, counted twice in the
    day's peak), or an exit let it out then with no stay to close, under its plate or one a guard
    corrected to it since, or a guard's opening by hand let it out (it was counted inside, its
    slot taken, after it had gone)."""
    named = {"subject": subject, "plate": plate, "entered": to_db(at)}
    row = conn.execute(_INSIDE, named).fetchone()
    if row is not None:
        since = datetime.fromisoformat(row[1]).astimezone(site.tz)
        raise ParkingError(
            f"{plate} is inside already, on stay {row[0]} (since {since:%Y-%m-%d %H:%M})",
            fix=f"nothing to record; if that stay is wrong, close it first "
            f"(POST /api/parking/stays/{row[0]}/close), then record the car",
            status=409,
            code="already_inside",
        )
    left_at = [(datetime.fromisoformat(at), f"stay {stay}") for stay, at in conn.execute(_LEFT_SINCE, named)]
    for how, sql in _LET_OUT:
        exits = conn.execute(sql, named)
        left_at += [(datetime.fromisoformat(at), f"{how} at lane {lane}") for at, lane in exits]
    if left_at:
        when, how = max(left_at)
        left = when.astimezone(site.tz)
        raise ParkingError(
            f"{plate} was recorded leaving at {left:%Y-%m-%d %H:%M} ({how}), after the "
            f"entered_at given ({at:%Y-%m-%d %H:%M})",
            fix=f"give the time it came in after {left:%Y-%m-%d %H:%M}, or leave entered_at empty for now",
            status=409,
            code="left_since",
            data={"left_at": left.isoformat(timespec="seconds")},  # the pages say it (err.left_since)
        )
