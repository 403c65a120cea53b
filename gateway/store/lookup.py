"""What the store knows about one presented credential: the Facts the decision core needs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from gateway.core import (
    CredentialFacts,
    Facts,
    Holder,
    LaneRules,
    Presented,
    Reason,
    SlotFacts,
    Validity,
    VehicleFacts,
    ZoneFacts,
    vehicle_class_of,
)
from gateway.core.model import SAME_PASSAGE, HolderKind, LaneType
from gateway.core.windows import EACH_OCCUPANT, stored_windows
from gateway.privacy import mask_name
from gateway.store.card_respell import old_spelling
from gateway.store.occupancy import STAYS_LEAVING, cars_leaving
from gateway.store.pass_in_use import ends_after, in_use
from gateway.timefmt import from_db, later, to_db

_CREDENTIAL = """
SELECT id, kind, value, resident_id, pass_id, vehicle_id, valid_from, valid_to, hours, blocked
FROM credentials WHERE kind = ? AND value = ?
"""
_RESIDENT = """
SELECT id, name, building, unit, blocked, valid_from, valid_to, ref FROM residents WHERE id = ?
"""
# A pass counts as blocked when its QR is: that is what a guard blocks (kind "qr") at the booth,
# and then the pass's plate must not open the gate either.
PASS_BLOCKED = """(p.blocked OR EXISTS (SELECT 1 FROM credentials c
        WHERE c.pass_id = p.id AND c.kind = 'qr' AND c.blocked))"""
# A pass's car counts as blocked when its plate is ("Block now" on the plate: a car reported stolen),
# on whichever pass the plate is now: at a vehicle lane the pass's QR brings that car, and must not
# open for it either. Its visitor on foot is not kept out by it (decide.py _blocked).
PASS_VEHICLE_BLOCKED = """EXISTS (SELECT 1 FROM credentials c
        WHERE c.kind = 'plate' AND c.value = p.plate AND c.blocked)"""
# Whether nobody listed in a pass's car (pass_people) lacks an ID number, then a phone: a pass the
# centre sent lists nobody, and its `occupants` is the centre's word for them, numbers and all.
_EVERYONE_IN_THE_CAR_HAS = """
       NOT EXISTS (SELECT 1 FROM pass_people pp WHERE pp.pass_id = p.id AND pp.id_masked = ''),
       NOT EXISTS (SELECT 1 FROM pass_people pp WHERE pp.pass_id = p.id AND pp.phone_masked = '')"""
_PASS = f"""
SELECT p.id, p.kind, p.name, p.host_building, p.host_unit, {PASS_BLOCKED}, p.valid_from, p.valid_to,
       p.hours, p.registered_fields, p.checked_out_at, p.vehicle_class, p.plate, p.ref, p.passengers,
       {PASS_VEHICLE_BLOCKED}, {_EVERYONE_IN_THE_CAR_HAS}
FROM passes p WHERE p.id = ?
"""
# The visit a car recorded inside by its plate is on, and its stay: a pass of that plate (the one it
# came in on, whichever pass holds the plate now), or a pass whose QR let the car in as the lane's
# camera read it, the pass without a plate or registered with another car's (gateway/store/record.py
# car_of_pass).
_VISIT_INSIDE = """
SELECT p.id, p.valid_from, p.valid_to, p.hours, s.subject FROM stays s
JOIN passes p ON p.id = CAST(substr(s.subject, instr(s.subject, ':') + 1) AS INTEGER)
    AND s.subject = p.kind || ':' || p.id
WHERE s.exited_at IS NULL AND s.plate = :plate
ORDER BY s.id DESC LIMIT 1
"""
_PLATE_OF_PASS = "SELECT nullif(plate, '') FROM passes WHERE id = ?"
# A pass whose car is not known yet: no open stay of it carries a plate other than the pass's own.
_CAR_UNKNOWN = """
SELECT 1 FROM passes p WHERE p.id = ? AND NOT EXISTS (
    SELECT 1 FROM stays s
    WHERE s.subject = p.kind || ':' || p.id AND s.exited_at IS NULL AND s.plate IS NOT NULL
    AND s.plate IS NOT nullif(p.plate, ''))
"""
# The passes of a plate that may be in use now, newest first: those whose last night may still run
# (pass_in_use.py), for the door's rule to pick from.
_PASSES_OF_PLATE_NOW = """
SELECT id, valid_from, valid_to, hours FROM passes
WHERE plate = :plate AND id != :pass AND checked_out_at IS NULL
    AND valid_from <= :now AND valid_to > :ends_after
ORDER BY id DESC
"""
_VEHICLE = "SELECT id, plate, class, monthly_until FROM vehicles WHERE id = ?"
# A car's own block and registration period are on its plate credential (vehicles.csv, "Block now").
_VEHICLE_PLATE = """
SELECT blocked, valid_from, valid_to, hours FROM credentials WHERE kind = 'plate' AND vehicle_id = ?
ORDER BY blocked DESC, id LIMIT 1
"""
# Of a car's slots free alike, the one it parks on (docs/parking.md, *Several slots*): its own
# household's (a slot lent to a neighbour is the owner's first), then the one fewest other cars
# list, then the first. Taken by the id, a neighbour's car came home to the lent slot while its own
# stood empty, and the owner's car was refused at home (slot_occupied). Cars only: a fixed slot is a
# car slot, and a motorcycle listed on it never parks on it (counted, a car came home onto the slot
# its slot-mate has alone, and that car was refused at home). `s` the slot, `v` the car.
OWN_HOUSEHOLD_FIRST = "(s.resident_id IS v.resident_id) DESC"
SLOT_PREFERENCE = f"""{OWN_HOUSEHOLD_FIRST},
    (SELECT count(*) FROM slot_vehicles o JOIN vehicles ov ON ov.id = o.vehicle_id
     WHERE o.slot_id = s.id AND ov.class = 'car'), s.id"""
# A car's slot: one in the lane's zone, and of those one no other car is on (a family with two
# slots listing both its cars on both parks both free), by SLOT_PREFERENCE. A car leaving on a slot
# is on it till its barrier confirms: put back, it is back on its slot (store/exits_put_back.py put_back).
_SLOT = f"""
SELECT s.id, s.zone, s.number, EXISTS (SELECT 1 FROM stays t
    WHERE t.exited_at IS NULL AND t.slot_id = s.id AND t.subject != :subject) OR EXISTS (SELECT 1
    FROM {STAYS_LEAVING} WHERE t.slot_id = s.id AND t.subject != :subject) AS taken
FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id JOIN vehicles v ON v.id = sv.vehicle_id
WHERE sv.vehicle_id = :vehicle ORDER BY (s.zone = :zone) DESC, taken, {SLOT_PREFERENCE} LIMIT 1
"""
_STAY_OPEN = "SELECT 1 FROM stays WHERE exited_at IS NULL AND subject = ? LIMIT 1"
# A car recorded inside, and what its entry let it in as: a car leaves as it came in, whoever holds
# its plate by then (NULL once retention has deleted that access record).
_STAY_ENTERED_AS = """
SELECT a.reason FROM stays s LEFT JOIN access_log a ON a.event_id = s.entry_event
WHERE s.exited_at IS NULL AND s.subject = ? ORDER BY s.id DESC LIMIT 1
"""
# The car a card let in that is still inside, by the entry's own record: a card moved to the
# resident's new car while the old one is parked names the new one, yet the old one leaves on it.
# Only a car of the same resident: a card handed to another household is not the old holder's car.
# The entry found under the card's spelling before migration 51 respelled it too (card_respell.py).
_CAR_LET_IN_ON_CARD = f"""
SELECT s.vehicle_id FROM stays s JOIN access_log a ON a.event_id = s.entry_event
JOIN vehicles v ON v.id = s.vehicle_id
WHERE s.exited_at IS NULL AND s.subject = 'vehicle:' || s.vehicle_id AND a.kind = 'card'
  AND a.value IN (:card, {old_spelling(":card")})
  AND v.resident_id = (SELECT resident_id FROM vehicles WHERE id = :named)
ORDER BY s.id DESC LIMIT 1
"""
# The open stay a card or QR let in, by the entry's own record, with whose that entry was and the
# car it named: one the register may no longer name (_struck_off_let_in), so not a registered car's
# (vehicle:N, found by its card: _CAR_LET_IN_ON_CARD). With a holder given, only one that holder's
# entry let in. The log has no index on values: it is read from the open stays other than vehicle:N
# (two ranges of a partial index, as ';' follows ':'), a car park's strangers, visitors and cars
# struck off, not its residents' cars, into the log by its unique event id.
_STAY_LET_IN_ON = """
WITH not_registered_cars AS (
    SELECT id, subject, plate, class, entry_event FROM stays
    WHERE exited_at IS NULL AND subject < 'vehicle:'
    UNION ALL
    SELECT id, subject, plate, class, entry_event FROM stays
    WHERE exited_at IS NULL AND subject > 'vehicle;'
)
SELECT s.subject, s.plate, s.class, a.vehicle_id, a.holder_kind, a.holder_id,
    CASE a.holder_kind WHEN 'resident' THEN EXISTS (SELECT 1 FROM residents r WHERE r.id = a.holder_id)
        ELSE EXISTS (SELECT 1 FROM passes p WHERE p.id = a.holder_id) END
FROM not_registered_cars s CROSS JOIN access_log a ON a.event_id = s.entry_event
WHERE a.kind = :kind AND a.value = :value AND a.holder_kind IS NOT NULL
  AND (:holder_kind IS NULL OR (a.holder_kind = :holder_kind AND a.holder_id = :holder_id))
  AND (:car IS NULL OR (s.class = 'car') = :car)
ORDER BY s.id DESC LIMIT 1
"""
# The car the card names left moments ago (on its plate): the tap is that passage again.
_JUST_LEFT = "SELECT 1 FROM stays WHERE subject = ? AND exited_at >= ? AND exited_at <= ? LIMIT 1"
_PRESENT = "SELECT inside, lane, people FROM presence WHERE subject = ?"
# Where a person checked out at the booth was last seen, in presence.lane (store/record.py
# gone_out): no lane id can be spelt so (config Identifier).
CHECKED_OUT = "(checked out)"
# A card or QR the register no longer knows, at a door: the holder it had when it was struck off,
# if the register has forgotten them too, and whether their last passage on foot since their latest
# entry on foot on it, on any card or QR (a new one issued since), was not an exit: none kept counts
# as in (retention deletes a deleted holder's entry as any record: _struck_off_on_foot).
# Remembered as it was struck off (schema migration 44; not when blocked then: migration 47), not
# read from the log by whoever entered on it last: a card handed back and issued to another resident
# is not its former holder's. The passages since are read through the partial index of passages on
# foot by holder (migration 47), not the whole log.
_LET_IN_ON_FOOT = """
SELECT s.holder_kind, s.holder_id, (
        SELECT o.direction FROM access_log o INDEXED BY access_log_on_foot_by_holder
        WHERE o.holder_kind = s.holder_kind AND o.holder_id = s.holder_id AND o.admitted = 1
          AND o.lane_type = 'pedestrian' AND o.id >= s.entry_id
        ORDER BY o.id DESC LIMIT 1) IS NOT 'exit'
FROM struck_off_on_foot s
WHERE s.kind = :kind AND s.value = :value
  AND NOT CASE s.holder_kind WHEN 'resident' THEN EXISTS (SELECT 1 FROM residents r WHERE r.id = s.holder_id)
        ELSE EXISTS (SELECT 1 FROM passes p WHERE p.id = s.holder_id) END
"""
# The zone's shared spaces held by cars other than `subject`: all of them less its own. Asked as
# one count with `subject != ?`, SQLite read each open stay's row for its subject, every car park's
# cars at each plate decided; the count alone is read from the index (stays_open_shared holds zone
# and class), and the car's own from its handful of open stays (stays_open_subject).
_SHARED_OCCUPIED = """
SELECT (SELECT count(*) FROM stays INDEXED BY stays_open_shared
        WHERE exited_at IS NULL AND slot_id IS NULL AND zone = :zone AND class = :class)
     - (SELECT count(*) FROM stays INDEXED BY stays_open_subject
        WHERE subject = :subject AND exited_at IS NULL AND slot_id IS NULL
            AND zone = :zone AND class = :class)
"""
_FIXED = "SELECT fixed FROM zone_slots WHERE zone = ?"


def holder_subject(kind: str, holder_id: int) -> str:
    """A resident's or a pass holder's presence subject: visitor:12 (SQL spells it kind || ':' || id)."""
    return f"{kind}:{holder_id}"


def subject_of(p: Presented, cred: CredentialFacts | None, lane_type: LaneType) -> str:
    """Who or what a presentation is about: at a vehicle lane the vehicle (or an unknown plate), at
    a door the person, whichever of their cards they used (one that also names their car included):
    presence and anti-passback follow the person in and out."""
    if cred is None:
        return f"{p.kind}:{p.value}"
    if cred.stay_subject is not None and lane_type == "vehicle":
        return cred.stay_subject
    if cred.vehicle is not None and lane_type == "vehicle":
        return f"vehicle:{cred.vehicle.id}"
    return holder_subject(cred.holder.kind, cred.holder.id)


def lookup(
    conn: sqlite3.Connection,
    p: Presented,
    lane: LaneRules,
    capacity: dict[tuple[str, str], int],
    leaving: Sequence[int] = (),
) -> Facts:
    """`leaving`: the stays of the cars let out whose barrier has not confirmed yet: each car is
    counted where a put-back would put it, as if inside (Gateway.stays_leaving, cars_leaving)."""
    cred = _credential(conn, p, lane, leaving)
    if lane.type == "vehicle" and cred is None and p.kind == "plate":
        cred = _pass_car_inside(conn, p)
    holder_only = _holder_only(p, cred, lane)
    if holder_only is not None:
        cred = holder_only
    elif lane.type == "vehicle" and lane.direction == "exit" and p.kind in ("card", "qr"):
        cred = _car_let_in_by(conn, p, cred, lane)
    entered_on_it = False
    if lane.type == "pedestrian" and lane.direction == "exit" and cred is None and p.kind in ("card", "qr"):
        cred, entered_on_it = _struck_off_on_foot(conn, p)
    subject = subject_of(p, cred, lane.type)
    if lane.type == "vehicle" and p.vehicle_class is not None:
        lane = replace(lane, vehicle_class=p.vehicle_class)  # a guard typed the plate and said so
    entered_as = None
    people = 0  # at a door: recorded inside on the subject (_on_foot)
    if lane.type == "vehicle":
        stay = conn.execute(_STAY_ENTERED_AS, (subject,)).fetchone()
        inside = stay is not None
        entered_as = Reason(stay[0]) if stay is not None and stay[0] else None
        vclass = vehicle_class_of(cred, lane)
        zone = _zone(conn, lane.zone, vclass, subject, capacity, leaving) if lane.zone else None
    else:
        people, checked_out = _on_foot(conn, subject)
        # At an exit door one checked out at the booth since they came in is inside (_on_foot).
        inside = people > 0 or (lane.direction == "exit" and checked_out) or entered_on_it
        zone = None
    return Facts(
        lane=lane,
        credential=cred,
        inside=inside,
        people_inside=people,
        zone=zone,
        stay_entered_as=entered_as,
    )


def _credential(
    conn: sqlite3.Connection, p: Presented, lane: LaneRules, leaving: Sequence[int]
) -> CredentialFacts | None:
    row = conn.execute(_CREDENTIAL, (p.kind, p.value)).fetchone()
    if row is None:
        return None
    cid, kind, value, resident_id, pass_id, vehicle_id, vfrom, vto, hours, blocked = row
    holder = _resident(conn, resident_id) if resident_id is not None else _pass(conn, pass_id)
    if kind == "plate" and holder.kind != "resident":
        visit = _visit_of_plate(conn, value, pass_id, holder.validity.covers(p.at), p.at)
        if visit is not None:
            pass_id, vfrom, vto, hours = visit
            holder = _pass(conn, pass_id)
    vehicle = _vehicle(conn, vehicle_id, lane.zone, leaving) if vehicle_id is not None else None
    return CredentialFacts(
        id=cid,
        kind=kind,
        value=value,
        holder=holder,
        blocked=bool(blocked),
        validity=_validity(vfrom, vto, hours),
        vehicle=vehicle,
    )


def _names_car(cred: CredentialFacts | None) -> bool:
    """The card names a car (a resident's registered one), or the QR is of a pass registered with one."""
    if cred is None:
        return False
    return (cred.vehicle.vehicle_class if cred.vehicle is not None else cred.holder.vehicle_class) == "car"


def _holder_only(p: Presented, cred: CredentialFacts | None, lane: LaneRules) -> CredentialFacts | None:
    """A card or a pass's QR that names a car, at a bicycle or motorcycle lane (a resident's card
    that opens the barrier for his car, tapped at the 非机动车 gate he rides his e-bike through), is
    its holder alone there: the resident or the pass, counted and billed as the lane's class, the
    car's stay, slot, block and registration left alone. Taken for the car, the e-bike's exit
    closed the parked car's stay and freed its slot. No car passes such a lane; a registered
    motorcycle or bicycle keeps its class at any lane, and a plate stays its car. None otherwise."""
    if lane.type != "vehicle" or lane.vehicle_class in (None, "car") or p.kind == "plate":
        return None
    if cred is None or not _names_car(cred):
        return None
    return replace(cred, vehicle=None, holder=replace(cred.holder, vehicle_class=None))


def _car_or_not(cred: CredentialFacts | None, lane: LaneRules) -> bool | None:
    """Whether the vehicle at an exit is a car, where that is known: none at a bicycle or
    motorcycle lane, one where the card or QR names a car (_holder_only read it so elsewhere).
    A car the card let in is looked for among stays of that kind alone (_struck_off_let_in): a
    car not recorded inside, its card tapped, closed the holder's e-bike's stay as it left."""
    if lane.vehicle_class in ("motorcycle", "bicycle"):
        return False
    return True if _names_car(cred) else None


def _car_let_in_by(
    conn: sqlite3.Connection, p: Presented, cred: CredentialFacts | None, lane: LaneRules
) -> CredentialFacts | None:
    """A card at a vehicle exit is the car it names, unless that car is not inside and the card let
    in another car of the same resident still inside: then it is that car, which leaves as it came
    in and frees its slot. Keyed to the car it names now, the old car left as no_entry_record and its
    stay, open for good, held its slot (the new car on it paid as a second car) and a space in the
    counts. Not when the car it names has just left (the driver tapped the card as the camera read
    it: the same passage, runtime/again.py), which let the old car, still parked, out on paper.
    A card or QR the register no longer knows, or whose holder's car it let in was struck off
    since, is the car it let in all the same (_struck_off_let_in): so is a card that names no car
    now, its car struck off while held at the exit, unless the resident's own car (let in on that
    card alone) is inside or just left; taken for the resident alone, the held car left free and
    its stay stayed open."""
    if cred is None:
        return _struck_off_let_in(conn, p, None, _car_or_not(None, lane))
    if cred.kind == "qr":
        return _car_on_qr(conn, p, cred, _car_or_not(cred, lane))
    if cred.kind != "card":
        return cred
    if cred.vehicle is None:
        named = holder_subject(cred.holder.kind, cred.holder.id)
    else:
        named = f"vehicle:{cred.vehicle.id}"
    if (
        stay_open(conn, named)
        or conn.execute(_JUST_LEFT, (named, to_db(later(p.at, -SAME_PASSAGE)), to_db(p.at))).fetchone()
    ):
        return cred
    if cred.vehicle is not None:
        row = conn.execute(_CAR_LET_IN_ON_CARD, {"card": cred.value, "named": cred.vehicle.id}).fetchone()
        if row is not None:
            return replace(cred, vehicle=_vehicle(conn, row[0], lane.zone))
    return _struck_off_let_in(conn, p, cred, _car_or_not(cred, lane)) or cred


def _car_on_qr(
    conn: sqlite3.Connection, p: Presented, cred: CredentialFacts, car: bool | None
) -> CredentialFacts:
    """A pass's QR at a vehicle exit is the car its pass let in: recorded inside on the pass, else
    the car of its plate parked on the pass that took the plate over (a renewal registered while the
    car is parked: its stay follows the plate, schema migration 10), else the car the QR let in
    (_struck_off_let_in). Keyed to its own pass alone, the old pass's QR let the van of a renewed
    crew pass out free as no_entry_record, and its stay, under the renewal, stayed open for good."""
    if stay_open(conn, holder_subject(cred.holder.kind, cred.holder.id)):
        return cred
    plate = plate_of_pass(conn, cred.holder.id)
    visit = conn.execute(_VISIT_INSIDE, {"plate": plate}).fetchone() if plate else None
    if visit is not None:
        return replace(cred, stay_subject=visit[4])
    return _struck_off_let_in(conn, p, cred, car) or cred


def _struck_off_let_in(
    conn: sqlite3.Connection, p: Presented, cred: CredentialFacts | None, car: bool | None
) -> CredentialFacts | None:
    """The car a card or QR let in that is still inside, found by its entry's access record, when
    the register no longer names it: the card went with its resident (moved out), the QR with its
    pass (withdrawn), or the car was struck off and added again (its plate corrected) with the card
    pointed at it (`cred`: then only a car its holder's entry let in). Nobody is kept in: the car
    pays its stay and leaves as it came in, closing it; refused `unknown`, its stay held a space
    for good. Its holder as the register has them now (a block keeps it shut), or by kind and id
    alone once deleted; its car as the entry named it. None when it let in no car still inside."""
    holder = (cred.holder.kind, cred.holder.id) if cred is not None else (None, None)
    row = conn.execute(
        _STAY_LET_IN_ON,
        {"kind": p.kind, "value": p.value, "holder_kind": holder[0], "holder_id": holder[1], "car": car},
    ).fetchone()
    if row is None:
        return None
    subject, plate, vclass, vid, holder_kind, holder_id, holder_registered = row
    vehicle = VehicleFacts(id=vid, plate=plate, vehicle_class=vclass) if vid is not None and plate else None
    if cred is not None:
        return replace(cred, vehicle=vehicle, stay_subject=subject)
    let_in_by = _holder_now(conn, holder_kind, holder_id, holder_registered)
    # The credential itself is gone: no id, block or validity of its own (exits ask no validity).
    return CredentialFacts(
        id=0, kind=p.kind, value=p.value, holder=let_in_by, vehicle=vehicle, stay_subject=subject
    )


def _struck_off_on_foot(conn: sqlite3.Connection, p: Presented) -> tuple[CredentialFacts | None, bool]:
    """A card or QR the register no longer knows, at an exit door, is the holder it had when it was
    struck off, once the register has forgotten them too (a resident deleted while at home, a pass
    the centre withdrew while its visitor was in), and whether they are still inside: their last
    passage on foot since their latest entry on foot on it let them in, on whichever card or QR
    (their entry is on record: deleting them forgot their presence; an exit on a new card issued
    since counts, or a finder's tap of the old one was recorded as its owner leaving). Nobody is
    kept in: they leave as the holder they came in as, as a car struck off does
    (_struck_off_let_in); refused `unknown`, the door stayed shut on them.

    (None, False), refused `unknown`, for a card or QR no door let its holder in on (a stranger's,
    or one issued to a resident at home since it was handed back), for one blocked when it was
    struck off (a lost card: its block holds, its owner moved out or not), and for one whose holder is
    still registered (a lost card struck off): that holder is counted inside or not as the
    register has them and leaves on what it names now, as a car leaves on its plate when its card
    alone was deleted (docs/parking.md); taken for them, whoever found a lost card walked its
    owner, at home, out of the people inside."""
    row = conn.execute(_LET_IN_ON_FOOT, {"kind": p.kind, "value": p.value}).fetchone()
    if row is None:
        return None, False
    holder_kind, holder_id, still_inside = row
    holder = Holder(kind=holder_kind, id=holder_id)  # deleted: known by kind and id alone
    return CredentialFacts(id=0, kind=p.kind, value=p.value, holder=holder), bool(still_inside)


def _holder_now(conn: sqlite3.Connection, kind: HolderKind, holder_id: int, registered: bool) -> Holder:
    """A holder an access record names, as the register has them now (a block keeps them in), or
    by kind and id alone once deleted."""
    if not registered:
        return Holder(kind=kind, id=holder_id)
    return _resident(conn, holder_id) if kind == "resident" else _pass(conn, holder_id)


def _on_foot(conn: sqlite3.Connection, subject: str) -> tuple[int, bool]:
    """How many are recorded inside on foot on the subject (a person: 1 or 0; a pass's party: each
    who walked in on its QR), and whether it was checked out at the booth since they came in
    (CHECKED_OUT). The check-out took them out of the people-inside count, but they still walk out
    through the exit door, and that exit has its entry on record (no missed read, no
    no_entry_record)."""
    row = conn.execute(_PRESENT, (subject,)).fetchone()
    if row is None:
        return 0, False
    inside, last_seen, people = row
    return (people if inside else 0), last_seen == CHECKED_OUT


def _visit_of_plate(
    conn: sqlite3.Connection, plate: str, pass_id: int, pass_covers_now: bool, at: datetime
) -> tuple[int, str, str, str] | None:
    """The pass a visitor's plate comes (or leaves) on, when it is not the pass the plate's
    credential is on: a plate is on one pass at a time, the latest registered. A car inside
    is on the visit it came in for (its stay's pass), so that it leaves as it came; otherwise,
    when the credential's pass is over or not begun, the newest other pass of the plate begun and
    not over now (a night crew's in its last night's small hours included, pass_in_use.py)."""
    inside = conn.execute(_VISIT_INSIDE, {"plate": plate}).fetchone()
    if inside is not None:
        return None if inside[0] == pass_id else inside[:4]
    if pass_covers_now:
        return None
    rows = conn.execute(
        _PASSES_OF_PLATE_NOW,
        {"plate": plate, "pass": pass_id, "now": to_db(at), "ends_after": ends_after(at)},
    ).fetchall()
    valid_now = in_use(rows, at, lambda row: _validity(*row[1:]), begun=True)
    return valid_now[0] if valid_now else None


def _pass_car_inside(conn: sqlite3.Connection, p: Presented) -> CredentialFacts | None:
    """A plate nobody registered whose car is recorded inside on a pass is that pass's car, as a
    registered plate is on the visit it came in on (_visit_of_plate): the car of a pass without a
    plate, its plate read as its QR let it in (gateway/runtime/again.py, other_half). Found so at
    the exit it pays its stay and closes it, once, on either its plate or its pass."""
    visit = conn.execute(_VISIT_INSIDE, {"plate": p.value}).fetchone()
    if visit is None:
        return None
    pid, vfrom, vto, hours, _ = visit
    return CredentialFacts(
        id=0, kind="plate", value=p.value, holder=_pass(conn, pid), validity=_validity(vfrom, vto, hours)
    )


def plate_of_pass(conn: sqlite3.Connection, pass_id: int) -> str | None:
    """The plate registered with a pass: None for a pass without one (or one gone)."""
    row = conn.execute(_PLATE_OF_PASS, (pass_id,)).fetchone()
    return row[0] if row else None


def car_unknown(conn: sqlite3.Connection, holder: Holder) -> bool:
    """`holder` is a pass whose car's plate the lane's camera has not read yet: no car is recorded
    inside on it, or only one its QR let in as the camera missed it, carrying no plate or the one
    registered with the pass (the visitor may come in another car: a friend's, a taxi)."""
    if holder.kind == "resident":
        return False
    return conn.execute(_CAR_UNKNOWN, (holder.id,)).fetchone() is not None


def stay_open(conn: sqlite3.Connection, subject: str) -> bool:
    """The subject (a vehicle, or an unknown plate) is recorded inside."""
    return conn.execute(_STAY_OPEN, (subject,)).fetchone() is not None


def plate_holder(conn: sqlite3.Connection, plate: str) -> Holder | None:
    """Who a plate is registered to (a resident, or a visitor's or contractor's pass), if anyone,
    as the guard is shown it: blocked when the holder is or the plate itself is (a car blocked as
    stolen at the booth, its owner not), as the lane refuses it either way."""
    row = conn.execute(_CREDENTIAL, ("plate", plate)).fetchone()
    if row is None:
        return None
    resident_id, pass_id, plate_blocked = row[3], row[4], row[9]
    holder = _resident(conn, resident_id) if resident_id is not None else _pass(conn, pass_id)
    return replace(holder, blocked=True) if plate_blocked else holder


def _resident(conn: sqlite3.Connection, rid: int) -> Holder:
    rid, name, building, unit, blocked, vfrom, vto, ref = conn.execute(_RESIDENT, (rid,)).fetchone()
    return Holder(
        kind="resident",
        id=rid,
        name_masked=mask_name(name),
        building=building,
        unit=unit,
        blocked=bool(blocked),
        validity=_validity(vfrom, vto, ""),
        ref=ref,
    )


def _pass(conn: sqlite3.Connection, pid: int) -> Holder:
    found: Any = conn.execute(_PASS, (pid,)).fetchone()
    # the pass, its people count (人数), the block on its plate, and its car's people's numbers
    *row, people, car_blocked, all_ids, all_phones = found
    pid, kind, name, building, unit, blocked, vfrom, vto, hours, fields, checked_out, vclass, plate, ref = row
    # A visitor who has checked out cannot come back in on the same pass: it is over from then, one
    # checked out before it began too (a booked visit called off: not 未到有效期, review 61v).
    if checked_out:
        vto = min(vto, checked_out)
        vfrom = min(vfrom, checked_out) if vfrom else vfrom
    return Holder(
        kind=kind,
        id=pid,
        name_masked=mask_name(name),
        building=building,
        unit=unit,
        blocked=bool(blocked),
        validity=_validity(vfrom, vto, hours),
        # A period asking each person's ID number or phone asks them of everyone in the car too
        # (windows.py EACH_OCCUPANT): a passenger registered by name alone keeps the car out then.
        registered_fields=frozenset(f for f in fields.split(",") if f)
        | {EACH_OCCUPANT[f] for f, given in (("id_number", all_ids), ("phone", all_phones)) if given},
        # A pass with a plate is the people in its car (人数 counts the driver): on foot its holder
        # alone, not as many again walking in on its QR (Review 60x).
        people=1 if plate else people,
        # A pass without a plate registered no vehicle (the form takes a class only with a plate):
        # whatever its QR brings in at a vehicle lane is counted and billed as the lane's class.
        vehicle_class=vclass if plate else None,
        vehicle_blocked=bool(car_blocked),
        without_plate=not plate,
        ref=ref,
    )


def _vehicle(
    conn: sqlite3.Connection,
    vid: int,
    lane_zone: str | None,
    leaving: Sequence[int] = (),
) -> VehicleFacts:
    vid, plate, vclass, monthly = conn.execute(_VEHICLE, (vid,)).fetchone()
    slot = None
    if vclass == "car":  # fixed slots are car slots: a motorcycle listed on one is not parked on it
        args = {
            "vehicle": vid,
            "zone": lane_zone,
            "subject": f"vehicle:{vid}",
            "leaving": json.dumps(list(leaving)),
        }
        row = conn.execute(_SLOT, args).fetchone()
        if row is not None:
            sid, zone, number, taken = row
            slot = SlotFacts(id=sid, zone=zone, number=number, taken_by_other=bool(taken))
    blocked, vfrom, vto, hours = conn.execute(_VEHICLE_PLATE, (vid,)).fetchone() or (0, None, None, "")
    return VehicleFacts(
        id=vid,
        plate=plate,
        vehicle_class=vclass,
        monthly_until=from_db(monthly),
        slot=slot,
        blocked=bool(blocked),
        validity=_validity(vfrom, vto, hours),
    )


def _zone(
    conn: sqlite3.Connection,
    zone: str,
    vclass: str,
    subject: str,
    capacity: dict[tuple[str, str], int],
    leaving: Sequence[int],
) -> ZoneFacts:
    """The shared spaces other cars hold: a car recorded inside whose exit was missed comes back
    into the space its own old stay holds (that stay is closed as it re-enters). A car leaving
    (`leaving`, cars_leaving: as the occupancy figures count it) holds its space till its barrier
    confirms: a barrier that stays down puts it back on its stay, and a car let in onto its space
    meanwhile overfilled the car park."""
    total = capacity.get((zone, vclass), 0)
    fixed = 0
    if vclass == "car":  # fixed slots are car slots
        row = conn.execute(_FIXED, (zone,)).fetchone()
        fixed = row[0] if row else 0
    asked = {"zone": zone, "class": vclass, "subject": subject}
    occupied = conn.execute(_SHARED_OCCUPIED, asked).fetchone()[0]
    occupied += sum(
        1
        for car in cars_leaving(conn, leaving)
        if (car.zone, car.vehicle_class) == (zone, vclass) and not car.on_slot and car.subject != subject
    )
    return ZoneFacts(
        id=zone,
        vehicle_class=vclass,  # type: ignore[arg-type]  # the schema's CHECK keeps it a VehicleClass
        shared_capacity=max(total - fixed, 0),
        shared_occupied=occupied,
    )


def _validity(vfrom: str | None, vto: str | None, hours: str) -> Validity:
    windows = stored_windows(hours)
    return Validity(valid_from=from_db(vfrom), valid_to=from_db(vto), windows=windows)
