"""Cars held at the barrier in the store: a car held at an exit to pay, the hold's decisions and
its end, and which car a guard's payment or a pass belongs to.

Read by the parking desk (gateway/parking/service.py) as a car waits at an exit lane, and by the
day's report, which counts holds as this module defines them (car_held_sql, starts_hold_sql).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from gateway.core import TYPED_BY, CredentialFacts, Presented
from gateway.core.model import AGAIN, NO_ENTRY_RECORD, VehicleClass
from gateway.privacy import mask_name
from gateway.store.flags_sql import has_flag_sql, lacks_flag_sql
from gateway.store.neighbour_rows import not_neighbours_sql
from gateway.timefmt import from_db, later, to_db

# the barrier (the camera's repeat timer, docs/plates.md): those decisions are one hold, and its fee
# runs to the first. A hold ends at the car's next admitted decision (_let_out_sql), or at the
# guard's opening by hand that let it out (_let_out_by_hand_sql), or when the car has not been held
# there for HOLD_GAP: it backed away from the barrier, and back at it, it is held anew. A hold is a
# car's, by its plate (a pass without a plate whose car's plate is not known: by its QR; a
# resident's card that names no car: by the resident, car_held_sql): the car's card, and its pass's
# QR, are that car's, so a car held on either at an exit with no camera is held on its plate, and
# either shown as it waits at one with a camera is a repeat of that hold.
HOLD_GAP = timedelta(minutes=30)
# A car held at an exit for payment is the one the guard is paying for, for this long.
PENDING_FOR = timedelta(minutes=30)
# A car held at an exit stands at its barrier while its hold was decided there within this long:
# the lane's hours judge it at its hold's start only then (desk_checks.held_since). The camera
# decides a standing car again every 15 s (repeat_after_s), so a minute is three repeats missed (a
# van passing in front of the camera) and still a car that never left; one that backed away and
# comes back later is a new arrival, judged by the hours now, though its hold is kept for HOLD_GAP
# (its fee runs to it). Review Re1.
AT_THE_BARRIER = timedelta(seconds=60)


def _let_out_sql(row: str, held_id: str, car: str) -> str:
    """SQL: access_log row `row` lets the car held as `car` (car_held_sql) out after its payment_due
    row `held_id` (its next admitted decision, at any vehicle lane, on its plate, card or pass; a
    card or QR at a door names no car, car_held_sql): the end of that hold."""
    return f"{row}.id > {held_id} AND {row}.admitted = 1 AND {car_held_sql(row)} = {car}"


def _let_out_by_hand_sql(held: str, car: str, before: str = "") -> str:
    """SQL (FROM and WHERE; the opening `o`, its hold's decision `h`): the guard's opening by hand
    (ParkingDesk.let_out_by_hand) that let out the car held as `car` on the hold whose payment_due
    row is access_log row `held`, or on a later hold row of that car; given `before` (another row),
    before that row. That opening writes no access row: it names the hold's last decision
    (let_outs_by_hand, schema migration 22), whether or not the car had a stay to close. The opening
    is the hold's by record (the row it names), not by time: the clock set back as the car stood
    held, before the opening or after it (starts_hold_sql), it may be dated before `held`, or after
    `before`. Read on its time index from an hour before `held` to an hour after `before` (a clock
    set back more than an hour as a car stands held is not looked for, as in starts_hold_sql)."""
    since, until = _an_hour(f"{held}.at", "-"), ""
    if before:
        until = f" AND o.at <= {_an_hour(f'{before}.at', '+')} AND h.id < {before}.id"
    return (
        "FROM let_outs_by_hand o INDEXED BY let_outs_by_hand_at "
        "JOIN access_log h ON h.event_id = o.held_event "
        f"WHERE o.at >= {since}{until} AND h.id >= {held}.id AND {car_held_sql('h')} = {car}"
    )


def _an_hour(at: str, sign: str) -> str:
    """SQL: the time `at` (an SQL expression, as the log writes times) an hour on (`sign` +) or back (-)."""
    return f"strftime('%Y-%m-%dT%H:%M:%f', {at}, '{sign}1 hour')"


def _names_a_car_sql(row: str) -> str:
    """SQL: access_log row `row` can name a car: a plate (read or typed at a vehicle lane), or a
    card or QR shown at a vehicle lane. A card or a pass's QR at a pedestrian door is a person
    walking through: the companion of a visitor whose car waits at the barrier, walking out on the
    pass's QR, let no car out, and the car still at the barrier was taken for gone (its hold ended,
    纠正并重新判断 answered car_left_lane). Rows kept with a car at a door by an earlier release
    (access_log.car) are read so too. A record from before schema migration 18 keeps no lane type:
    its card or QR names no car (as a resident's card never did)."""
    return f"({row}.kind = 'plate' OR {row}.lane_type = 'vehicle')"


def _car_in_register_sql(row: str) -> str:
    """SQL: the car access_log row `row` names, as the register and the stays have it now (see
    car_held_sql); NULL for none the guard can take a fee for, and for a card or QR at a door
    (_names_a_car_sql). A pass's QR names the car its stay carries (the plate the camera read as
    the QR let it in, which may be another car than the pass's: store/record.py car_of_pass), else
    the pass's plate; a pass withdrawn since still names the car its QR let in, else the QR."""
    vehicle = f"(SELECT hv.plate FROM vehicles hv WHERE hv.id = {row}.vehicle_id)"
    resident = (
        f"CASE WHEN {row}.vehicle_id IS NULL AND {row}.holder_kind = 'resident' "
        f"THEN 'resident:' || {row}.holder_id END"
    )
    pass_plate = f"nullif((SELECT hp.plate FROM passes hp WHERE hp.id = {row}.holder_id), '')"
    stay_plate = (
        f"(SELECT hs.plate FROM stays hs WHERE hs.subject = {row}.holder_kind || ':' || {row}.holder_id "
        "AND hs.exited_at IS NULL AND hs.plate IS NOT NULL ORDER BY hs.id DESC LIMIT 1)"
    )
    return (
        f"(CASE WHEN NOT {_names_a_car_sql(row)} THEN NULL WHEN {row}.kind = 'plate' THEN {row}.value "
        f"WHEN {row}.kind = 'card' THEN coalesce({vehicle}, {resident}) "
        f"WHEN {row}.kind = 'qr' THEN (CASE WHEN {row}.holder_kind IN ('visitor', 'contractor') "
        f"THEN coalesce({stay_plate}, {pass_plate}, {row}.value) END) END)"
    )


def car_held_sql(row: str) -> str:
    """SQL: the car access_log row `row` names, as a hold at an exit is keyed; NULL for none the
    guard can take a fee for. A plate names its car; a card, the car it was taken for (its
    vehicle), by that car's plate: a car held on its card at an exit with no camera is quoted and
    paid for by its plate, as one held on its plate. The QR of a pass names its car by the plate
    its stay carries (the camera read it as the QR let it in, the pass without a plate or the
    visitor in another car: store/record.py car_of_pass), else by the pass's plate, else by the QR
    (that pass is all that names the car):
    held on its plate and scanning its pass as it waits, the car is one hold, not two. A resident's
    own card that names no car names the resident (resident:3, the subject of the stay it
    opened): tapped again as it waits, it is that hold. A card or QR names a car only at a vehicle
    lane (_names_a_car_sql): at a door it is a person walking, whatever car its row was kept with.
    Kept on the row as it was written (access_log.car, migration 22): the register changed since
    (the car struck off, the pass withdrawn) does not change whose hold it was. A row written
    before is read from the register now. A registered car still in the register is its vehicle,
    by the plate it has now: its plate corrected while it waits (typed wrong), it is still the car
    held, quoted and paid for by the corrected plate its card and camera now name.
    A plate the lane misread is the plate the guard corrected it to (the latest correction): the
    car held on the misread plate is paid for and let out under its real one, and keyed by the
    misread plate its hold outlived it at the lane. A correction of one decision of a hold is
    written for each (hold_decisions), and the car misread again as it still waits is kept on its
    row as the corrected plate (car_of): the hold is the corrected car's, whole, and asks nothing
    more of the log here. Whether a row was corrected is asked first on the index
    plate_corrections_event, through one cursor for the whole statement: a hold's end
    and the day's report ask this of every decision between a hold and the next, and a subquery
    run for each made the report of a 20,000-movement day a fifth slower."""
    corrected = (
        f"CASE WHEN {row}.event_id IN (SELECT event_id FROM plate_corrections) THEN (SELECT pc.plate "
        f"FROM plate_corrections pc WHERE pc.event_id = {row}.event_id ORDER BY pc.id DESC LIMIT 1) END"
    )
    vehicle = f"(SELECT cv.plate FROM vehicles cv WHERE cv.id = {row}.vehicle_id)"
    named = f"coalesce({corrected}, {vehicle}, {row}.car, {_car_in_register_sql(row)})"
    return f"(CASE WHEN {_names_a_car_sql(row)} THEN {named} END)"


# A decision's values, as its access_log row will have them: the car it names (_car_in_register_sql).
_CAR_OF = f"""
SELECT {_car_in_register_sql("r")}
FROM (SELECT ? AS kind, ? AS value, ? AS holder_kind, ? AS holder_id, ? AS vehicle_id, ? AS lane_type) r
"""


def _again_sql(index: str, where: str) -> str:
    """SQL: the car the last access_log row `h` at :lane read as :value within :since..:at and
    matching `where` names (car_held_sql), when that is another plate than :value and that car
    was not let out since (through, or by the guard's hand): the car read again as it still waits.
    `index` is the log's index the query reads by."""
    return f"""
SELECT held.car FROM (
    SELECT h.id, h.at, {car_held_sql("h")} AS car FROM access_log h INDEXED BY {index}
    WHERE h.at >= :since AND h.at <= :at AND h.lane = :lane AND h.value = :value
      AND {where}
    ORDER BY h.id DESC LIMIT 1) held
WHERE held.car <> :value
  AND NOT EXISTS (SELECT 1 FROM access_log c WHERE {_let_out_sql("c", "held.id", "held.car")})
  AND NOT EXISTS (SELECT 1 {_let_out_by_hand_sql("held", "held.car")})
"""


# The plate read at this lane holding a car there, its last decision within HOLD_GAP, corrected
# since by the guard (keyed by another plate), and that car not let out since: the car misread
# again as it still waits (the camera's repeat timer), its hold the corrected car's (car_of). On
# the log's time index: it reads the last half hour's holds.
_MISREAD_AGAIN = _again_sql("access_log_held_at", "h.reason = 'payment_due' AND h.kind = 'plate'")


# A car an exit refused as having no entry record (exit_without_entry = "guard": refused, not held to
# pay) is kept there by its plate only when that plate was misread: the guard corrects it
# (纠正车牌) to the car's own, which is inside on its stay. That refusal is the start of the
# corrected car's hold there, as a held car's correction is its hold's (_corrected_refusals): the
# camera's repeat of the misread plate as the car still waits is that car, within HOLD_GAP of the
# last refusal corrected and the car not let out since. Decided on the misread plate, it was
# refused again as no_entry_record, the guard's correction of no use to the car at the barrier.
def _no_entry_refusal_sql(row: str) -> str:
    """SQL: access_log row `row` refused a plate at an exit as a car with no entry record, and a
    guard corrected its plate since (the latest correction, car_held_sql, says which car)."""
    return (
        f"{row}.admitted = 0 AND {row}.kind = 'plate' AND {row}.reason <> 'payment_due' "
        f"AND {has_flag_sql(f'{row}.flags', NO_ENTRY_RECORD)} "
        f"AND {row}.event_id IN (SELECT event_id FROM plate_corrections)"
    )


# On the index of those refusals by time (migration 64): the few of the last half hour.
_REFUSED_AGAIN = _again_sql("access_log_no_entry_refused", _no_entry_refusal_sql("h"))


def car_of(
    conn: sqlite3.Connection,
    kind: str,
    value: str,
    holder_kind: str | None,
    holder_id: int | None,
    vehicle_id: int | None,
    lane_type: str = "vehicle",
    lane: str | None = None,
    at: datetime | None = None,
) -> str | None:
    """The car a decision on these values names, as its hold is keyed (car_held_sql): kept on its
    access_log row (store/record.py), and asked before the decision, so that the fee of a car that
    shows its card or its pass's QR as it waits runs to the start of its hold. `lane_type`: the
    lane's, as a card or QR names a car at a vehicle lane only (at a door it is a person walking,
    who lets no car out: _names_a_car_sql). Given the decision's `lane` and time `at`, a
    plate whose hold at that lane the guard corrected names the corrected car (_MISREAD_AGAIN):
    keyed by the misread plate, the car decided again as it waits was a second hold, shown held
    once the car had paid under its real plate and gone. So does a plate refused there as a car
    with no entry record that the guard corrected since (_REFUSED_AGAIN)."""
    if kind == "plate" and lane is not None and at is not None:
        since = to_db(later(at, -HOLD_GAP))
        params = {"since": since, "at": to_db(at), "lane": lane, "value": value}
        again = (
            conn.execute(_MISREAD_AGAIN, params).fetchone() or conn.execute(_REFUSED_AGAIN, params).fetchone()
        )
        if again is not None:
            return str(again[0])
    values = (kind, value, holder_kind, holder_id, vehicle_id, lane_type)
    car = conn.execute(_CAR_OF, values).fetchone()[0]
    return None if car is None else str(car)


def car_held(conn: sqlite3.Connection, p: Presented, cred: CredentialFacts | None) -> str | None:
    """The car a decision on `p` names, as its hold will be keyed once written (car_of)."""
    if cred is None:
        return car_of(conn, p.kind, p.value, None, None, None, lane=p.lane, at=p.at)
    vehicle_id = cred.vehicle.id if cred.vehicle is not None else None
    return car_of(conn, p.kind, p.value, cred.holder.kind, cred.holder.id, vehicle_id, lane=p.lane, at=p.at)


def _at_the_exit_sql(row: str, lane: str, lanes: Collection[str] | None) -> str:
    """SQL: access_log row `row` was decided at the exit `lane` (an SQL expression) or, given the
    site config's lane ids `lanes`, at a lane the config no longer has. An exit renamed (or removed)
    in a restart while a car stood held at its barrier: that hold is the car's at whichever exit it
    is at now, so its fee still runs to it, and it is one hold, not two. The ids are written into
    the SQL (letters, digits, - and _: config/common.py), quoted all the same."""
    if lanes is None:
        return f"{row}.lane = {lane}"
    known = ", ".join("'" + lane_id.replace("'", "''") + "'" for lane_id in sorted(lanes))
    return f"({row}.lane = {lane} OR {row}.lane NOT IN ({known}))"


def starts_hold_sql(row: str, lanes: Collection[str] | None = None) -> str:
    """SQL: the payment_due row `row` of access_log is the first of its hold (see HOLD_GAP), a car's
    (car_held_sql). It looks back HOLD_GAP only, on the log's time index, so that a report or a
    payment at the lane never reads a lane's whole history. `lanes`: the site config's lane ids, for
    a hold at a lane renamed since (_at_the_exit_sql); without them, each lane's holds are its own.
    A hold's rows are ordered by record (id), not by time: a row written before `row` but dated
    after it was written before the clock was set back (NTP correcting a fast clock as the car
    stood held), its gap to `row` no more than HOLD_GAP, and the camera's repeat after the step is
    that hold's, its fee still running to its first decision (not a hold begun at the repeat, whose
    fee ended inside a prepayment's grace and let the car out free). The rows dated after `row` are
    stepped over on the index alone (their id), without reading them."""
    since = f"strftime('%Y-%m-%dT%H:%M:%f', {row}.at, '-{HOLD_GAP.total_seconds():.0f} seconds')"
    # bounded an hour on: a report steps over an hour's holds for each, not every hold since (a
    # clock set back more than an hour as a car stands held is not looked for: NTP's corrections of
    # a running clock are seconds or minutes; a stale boot clock is re-dated, gateway/store/redate.py)
    until = _an_hour(f"{row}.at", "+")
    car = car_held_sql(row)
    return (
        f"{car} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM access_log b INDEXED BY access_log_held_at "
        f"WHERE b.at >= {since} AND b.at <= {until} AND b.id < {row}.id AND b.reason = 'payment_due' "
        f"AND {_at_the_exit_sql('b', f'{row}.lane', lanes)} AND {car_held_sql('b')} = {car} "
        f"AND NOT EXISTS (SELECT 1 FROM access_log c "
        f"WHERE {_let_out_sql('c', 'b.id', car)} AND c.id < {row}.id) "
        f"AND NOT EXISTS (SELECT 1 {_let_out_by_hand_sql('b', car, row)}))"
    )


@dataclass(frozen=True, slots=True)
class Held:
    """A car held at an exit lane to pay: its hold's key (`car`, car_held_sql), what it was held on
    (its plate, also for a car held on its card or on its pass's QR; or the QR of a pass without a
    plate, or the card of a resident that names no car, with that pass or resident: `holder_kind`,
    `holder_id`), when its hold began (the camera decides a standing car again and again: the fee
    runs to the first), the class it was held as (None for a record from before that was kept),
    and when it was let out since (let through, or by the guard's opening by hand), if it was;
    `by_hand`: let out by an opening by hand, with no decision of its own (no fee taken for it).
    `decided_at`: when its hold's last decision there was (the most recent of a hold's, by record);
    `decided_row`: that decision's access_log id (an opening by hand names it, or one of the hold's
    decided since: _opened_for).
    Or a car the exit refused a moment ago (refused_at_lane; also one let through at its barrier
    that did not open, its stay put back), which a guard's opening by hand lets out as it lets out
    one held there: `refused` names its last refusal, or that exit (its event id, and
    `decided_at` when it was), `at` the first of the refusals it stood there for, as a hold's is
    its start; `plate_read`: the plate as a lane device read it (a plate camera), the text that
    camera holds (before a guard's correction or a look-alike match), so it can tell whether the
    car is still at the barrier (ParkingDesk.car_at_barrier); None if a guard typed it, or it was
    refused on a card or QR. A hold's `plate_read` is that of its last decision, the same way, so
    the camera is asked about the car held as it is about one refused. `typed`: that decision was
    on a plate or ticket a guard typed (the camera could not read the car at the barrier, or it
    has no plate): the guard says which car stands there, which the camera cannot tell."""

    car: str
    kind: Literal["plate", "qr", "card"]
    value: str = field(repr=False)  # a QR or card opens the gate to whoever holds it: never logged nor shown
    at: datetime
    vehicle_class: VehicleClass | None
    let_out_at: datetime | None = None
    holder_kind: str | None = None
    holder_id: int | None = None
    refused: str | None = None
    decided_at: datetime | None = None
    decided_row: int | None = None
    plate_read: str | None = None
    by_hand: bool = False
    typed: bool = False

    @property
    def plate(self) -> str | None:
        return self.value if self.kind == "plate" else None


def _hold_began_sql(lanes: Collection[str]) -> str:
    return f"""
SELECT a.at, a.class FROM access_log a
WHERE a.id <= ? AND {_at_the_exit_sql("a", "?", lanes)} AND a.reason = 'payment_due'
  AND {car_held_sql("a")} = ?
  AND {starts_hold_sql("a", lanes)}
ORDER BY a.id DESC LIMIT 1
"""


# The decisions of the hold that the payment_due row :held is one of, at its lane (starts_hold_sql,
# each lane's holds its own): from its first, the last start at or before it, to the next start.
# Read on the lane's index from that row, back to its hold's start and on to the next one.
def _hold_start_sql(before: bool) -> str:
    """The hold start of the row :held's car at its lane nearest it: at or before it, or after it."""
    to, order = ("<=", "DESC") if before else (">", "ASC")
    return f"""
SELECT a.id FROM access_log held CROSS JOIN access_log a INDEXED BY access_log_lane
WHERE held.event_id = :held AND a.lane = held.lane AND a.id {to} held.id AND a.reason = 'payment_due'
  AND {car_held_sql("a")} = {car_held_sql("held")} AND {starts_hold_sql("a")}
ORDER BY a.id {order} LIMIT 1
"""


_HOLD_START_BEFORE = _hold_start_sql(before=True)
_HOLD_START_AFTER = _hold_start_sql(before=False)
_HOLD_DECISIONS = f"""
SELECT a.event_id FROM access_log held CROSS JOIN access_log a INDEXED BY access_log_lane
WHERE held.event_id = :held AND a.lane = held.lane AND a.id >= :first AND a.id < :next
  AND a.reason = 'payment_due' AND {car_held_sql("a")} = {car_held_sql("held")}
ORDER BY a.id
"""


def hold_decisions(conn: sqlite3.Connection, event_id: str) -> list[str]:
    """The event ids of the decisions at its lane of the hold that the payment_due decision
    `event_id` is one of (itself included), as the hold is keyed now: the camera decides a car
    waiting at the barrier again every few seconds, and a guard's correction of the one the live
    page shows is the whole hold's (gateway/store/corrections.py)."""
    first = conn.execute(_HOLD_START_BEFORE, {"held": event_id}).fetchone()
    if first is None:
        return [event_id]
    after = conn.execute(_HOLD_START_AFTER, {"held": event_id}).fetchone()
    bounds = {"held": event_id, "first": first[0], "next": after[0] if after else 2**63 - 1}
    return [str(e) for (e,) in conn.execute(_HOLD_DECISIONS, bounds)]


# When a hold (its payment_due row :held) ended: its car let through, or let out by hand.
_LET_OUT = f"""
SELECT (SELECT c.at FROM access_log c WHERE {_let_out_sql("c", "held.id", ":car")} ORDER BY c.id LIMIT 1),
       (SELECT min(o.at) {_let_out_by_hand_sql("held", ":car")})
FROM access_log held WHERE held.id = :held
"""
# The hold's last decision: the opening by hand that lets its car out names it, and so does the
# charge of its stay closed then, as an exit's names its exit.
# At this exit (or one renamed since): a car held at two exits, backed away from one, is let out
# of the one the guard opened, its hold at the other left as it is.
# By record, from the last decision the hold was found by (Held.decided_row), not by time: a repeat
# dated before the hold began (the clock set back as the car stood held) is its last decision all
# the same (starts_hold_sql), and one decided since the car was found is newer still. Read on the
# log's rowid from that row: the few decisions since, not an index of every hold.
_HELD_BY = f"""
SELECT a.event_id FROM access_log a NOT INDEXED
WHERE a.id >= ? AND a.reason = 'payment_due' AND {car_held_sql("a")} = ? AND {{exit}}
ORDER BY a.id DESC LIMIT 1
"""
_LET_OUT_BY_HAND = "INSERT INTO let_outs_by_hand (at, lane, held_event) VALUES (?, ?, ?)"
# The last payment_due row of each car held at a lane in the last PENDING_FOR: when, what it was held on
# (Held.kind: on the QR of a pass without a plate, or on a resident's card that names no car, that
# QR or card and its pass or resident). Every exit decision asks (the fee runs to the start of a
# hold): on the log's time index, it reads the last half hour, not the lane's whole history.
_LAST_HELD = f"""
SELECT h.car, max(h.id), h.at, h.kind, h.value, h.holder_kind, h.holder_id, h.device, h.flags FROM (
    SELECT {car_held_sql("a")} AS car, a.id, a.at, a.kind, a.value, a.holder_kind, a.holder_id, a.device,
           a.flags
    FROM access_log a INDEXED BY access_log_held_at
    WHERE a.at >= ? AND {{where}} AND a.reason = 'payment_due') h
WHERE h.car IS NOT NULL GROUP BY h.car
"""


def end_hold_by_hand(
    conn: sqlite3.Connection, lane: str, held: Held, at: datetime, lanes: Collection[str]
) -> str | None:
    """The guard's opening by hand at `lane` at `at` let out the car `held` there: its hold ends
    then (_let_out_by_hand_sql), also for a car with no stay to close (held with no entry record).
    A car refused there a moment ago (Held.refused) is let out on that refusal: an opening names
    it, so the next opening does not let the car out again (refused_at_lane), and a hold of the car
    before it ends too. Returns the event id the opening names (None if the log has none)."""
    event = _opened_for(conn, lane, held, lanes)
    if event is not None:
        conn.execute(_LET_OUT_BY_HAND, (to_db(at), lane, event))
    return event


def _opened_for(conn: sqlite3.Connection, lane: str, held: Held, lanes: Collection[str]) -> str | None:
    """The decision an opening by hand at `lane` names for the car `held` there: its refusal, or
    its hold's last decision at that exit (None if the log has none)."""
    if held.refused is not None:
        return held.refused
    if held.decided_row is None:
        return None
    sql = _HELD_BY.format(exit=_at_the_exit_sql("a", "?", lanes))
    row = conn.execute(sql, (held.decided_row, held.car, lane)).fetchone()
    return None if row is None else str(row[0])


# The car held (or refused) as :car on the decision :event has left since: let through (a fee
# taken at the lane, paid ahead at the booth and read again) or let out by another opening by
# hand. A car decided again as it pulls away (AGAIN) is no other exit: an opening's car whose
# record waited for storage is let through again on it (DecidedAgain.let_out) before it is on record.
_LEFT_SINCE = f"""
SELECT EXISTS (SELECT 1 FROM access_log c WHERE {_let_out_sql("c", "held.id", ":car")}
                 AND {lacks_flag_sql("c.flags", AGAIN)})
    OR EXISTS (SELECT 1 {_let_out_by_hand_sql("held", ":car")})
FROM access_log held WHERE held.event_id = :event
"""


def left_since(conn: sqlite3.Connection, lane: str, held: Held, lanes: Collection[str]) -> bool:
    """Whether the car `held` (or refused) at `lane`, found when a guard opened it by hand, has left
    since on another record: its opening's own record of it is written after the relay took the
    pulse (a Modbus module answers in about a second), and a fee taken on another tablet meanwhile
    let it out already."""
    event = _opened_for(conn, lane, held, lanes)
    if event is None:
        return False
    row = conn.execute(_LEFT_SINCE, {"event": event, "car": held.car}).fetchone()
    return bool(row and row[0])


_TOLD = "SELECT reason, holder_kind, flags, billing, admitted FROM access_log WHERE event_id = ?"


@dataclass(frozen=True, slots=True)
class Told:
    """What a decision told a car at an exit's barrier by, as its lane display words it
    (texts.display_lines): its reason, whose car it is (the holder's kind, also of a car held on
    its plate, which Held names only by that plate), its flags (no_plate) and its billing.
    `admitted`: it let the car out, at a barrier that did not open (道闸故障, its stay put back):
    no refusal, whatever its reason (`temporary`, the car's billing) reads as."""

    reason: str
    holder_kind: str | None
    flags: tuple[str, ...]
    billing: str | None
    admitted: bool = False


def last_told(conn: sqlite3.Connection, lane: str, held: Held, lanes: Collection[str]) -> Told | None:
    """The decision the car `held` (or refused) at the exit `lane` was last told at its barrier by
    (its refusal, or its hold's last decision there, as an opening by hand names it): for a release
    by hand to tell the car again what the hold's 一路平安 replaced (runtime/hand_lanes.py)."""
    event = _opened_for(conn, lane, held, lanes)
    row = None if event is None else conn.execute(_TOLD, (event,)).fetchone()
    if row is None:
        return None
    reason, holder_kind, flags, billing, admitted = row
    said = tuple(flag for flag in flags.split(",") if flag)
    return Told(reason, holder_kind, said, billing, bool(admitted))


def held_at_lane(
    conn: sqlite3.Connection, lane: str, at: datetime, value: str, lanes: Collection[str]
) -> Held | None:
    """The car shown as `value` (its plate, or its pass's QR) held at this lane for payment within
    PENDING_FOR of `at`, or at a lane gone from the site config's `lanes` (_at_the_exit_sql)."""
    where = f"{_at_the_exit_sql('a', '?', lanes)} AND {car_held_sql('a')} = ?"
    held = _holds(conn, lane, at, lanes, where, value)
    return held[0] if held else None


def holds_at_lane(conn: sqlite3.Connection, lane: str, at: datetime, lanes: Collection[str]) -> list[Held]:
    """The cars held at this lane for payment within PENDING_FOR of `at` and not let out since, in
    the order their holds began: the first is usually the first in the queue (not a car that was
    held, backed away and came back behind within HOLD_GAP: its hold began before)."""
    return [held for held in _holds(conn, lane, at, lanes, "a.lane = ?") if held.let_out_at is None]


def _holds(
    conn: sqlite3.Connection, lane: str, at: datetime, lanes: Collection[str], where: str, *args: str
) -> list[Held]:
    since = to_db(later(at, -PENDING_FOR))
    last = conn.execute(_LAST_HELD.format(where=where), (since, lane, *args)).fetchall()
    began = _hold_began_sql(lanes)
    holds = []
    for car, last_id, last_at, kind, value, holder_kind, holder_id, device, flags in last:
        began_at, held_as = conn.execute(began, (last_id, lane, car)).fetchone()
        decision = (car, kind, value, holder_kind, holder_id, device, flags)
        more = _let_out(conn, last_id, car)
        holds.append(_held(decision, began_at, last_at, held_as, **more))
    return sorted(
        _with_refusals(holds, _corrected_refusals(conn, lane, at, where, *args)), key=lambda h: h.at
    )


def _let_out(conn: sqlite3.Connection, row_id: int, car: str) -> dict[str, Any]:
    """The let-out fields of the hold of `car` decided on access_log row `row_id`: when it was let
    out since (through, or by the guard's opening by hand, the first), and whether by hand first:
    the fee was let go (or carried), none taken (a guard told it paid books money nobody took)."""
    through, by_hand = conn.execute(_LET_OUT, {"held": row_id, "car": car}).fetchone()
    hand = by_hand is not None and (through is None or by_hand <= through)
    out = from_db(min(filter(None, (through, by_hand)), default=None))
    return {"let_out_at": out, "by_hand": hand, "decided_row": row_id}


def _with_refusals(holds: list[Held], refusals: list[Held]) -> list[Held]:
    """The holds at a lane with the corrected refusals there (_corrected_refusals): a car's refusal
    corrected, then held to pay as the corrected car (the camera's repeat: it owes), is one hold
    from the refusal on, its fee running to it; a refusal not followed by a hold is the hold."""
    by_car = {held.car: held for held in holds}
    for refused in refusals:
        held = by_car.get(refused.car)
        if held is None:
            by_car[refused.car] = refused
        elif refused.at < held.at and (refused.let_out_at is None or refused.let_out_at > held.at):
            by_car[refused.car] = replace(held, at=refused.at)
    return list(by_car.values())


# The refusals at a lane as cars with no entry record, corrected since (_no_entry_refusal_sql), with
# the car each names, oldest first, on the index of such refusals by time (a handful a day, not
# the half hour's every decision); and the decisions before one at its lane, newest first, on the
# lane's index (back to the refusals in a row that ended with it).
_CORRECTED_REFUSALS = f"""
SELECT {car_held_sql("a")}, a.id, a.event_id, a.at, a.class, a.kind, a.value, a.holder_kind,
       a.holder_id, a.device, a.flags
FROM access_log a INDEXED BY access_log_no_entry_refused
WHERE a.at >= ? AND a.at <= ? AND {{where}} AND {_no_entry_refusal_sql("a")}
ORDER BY a.id
"""
_DECIDED_BEFORE = """
SELECT b.at, b.kind, b.value, b.admitted FROM access_log b INDEXED BY access_log_lane
WHERE b.lane = (SELECT lane FROM access_log WHERE id = :id) AND b.id < :id AND b.at >= :since
ORDER BY b.id DESC
"""


def _corrected_refusals(
    conn: sqlite3.Connection, lane: str, at: datetime, where: str, *args: str
) -> list[Held]:
    """The cars refused at the exit `lane` within PENDING_FOR of `at` as having no entry record
    (exit_without_entry = "guard") on a plate the guard corrected since to another car's, each as a
    hold of that car (its last such refusal, `refused`, the one an opening by hand names): the
    misread kept the car at the barrier, and its fee runs to when it got there, the first of the
    refusals in a row of that reading (_refused_since), not to the correction or the decision
    after it. Let out since (let through as the corrected car, or by the guard's opening by hand),
    `let_out_at` says when, as for a hold."""
    since = to_db(later(at, -PENDING_FOR))
    last: dict[str, tuple[Any, ...]] = {}
    sql = _CORRECTED_REFUSALS.format(where=where)
    for row in conn.execute(sql, (since, to_db(at), lane, *args)):
        if row[0] is not None and row[0] != row[6]:  # corrected back to the reading: no other car
            last[row[0]] = row
    refused = []
    for row in last.values():
        car, row_id, event, when, held_as, kind, value, holder_kind, holder_id, device, flags = row
        more = {**_let_out(conn, row_id, car), "refused": event}
        decision = (car, kind, value, holder_kind, holder_id, device, flags)
        refused.append(_held(decision, _refused_since(conn, row_id, value, when), when, held_as, **more))
    return refused


def _refused_since(conn: sqlite3.Connection, row_id: int, value: str, when: str) -> str:
    """When the car refused on access_log row `row_id` (read as `value`, at `when`) got to the
    barrier: the first of the refusals of that reading at the lane in a row that ended with it,
    each within REFUSED_JUST_NOW of the next (the camera refuses a car standing there again every
    15 s, and the guard corrects the one the live page shows, the last); back to the lane's letting
    that reading through. Another car's decisions in between are the queue behind it."""
    first, newer = when, from_db(when)
    since = to_db(later(newer, -HOLD_GAP)) if newer is not None else when
    for at, kind, text, admitted in conn.execute(_DECIDED_BEFORE, {"id": row_id, "since": since}):
        then = from_db(at)
        if kind != "plate" or text != value:
            continue
        if admitted or newer is None or then is None or newer - then > REFUSED_JUST_NOW:
            break
        first, newer = at, then
    return first


def _held(
    decision: tuple[Any, ...], began: str, decided: str, held_as: VehicleClass | None, **more: Any
) -> Held:
    """A hold (or a refusal, `refused` in `more`) as Held, by its last decision there: `decision`
    its car (car_held_sql), credential kind and value, holder and the device that read it, with
    its flags; it began at `began` and was last decided at `decided` (as the log writes them)."""
    car, kind, value, holder_kind, holder_id, device, flags = decision
    on = _held_kind(car, kind, value, holder_kind)
    by, by_id = (holder_kind, holder_id) if on != "plate" else (None, None)
    shown_as = value if on == "card" else car  # the plate (also of a car held on its card) or QR
    start, last = datetime.fromisoformat(began), datetime.fromisoformat(decided)
    read = _lane_read(kind, value, device, flags)
    typed = kind == "plate" and device.startswith(TYPED_BY)
    held = Held(car, on, shown_as, start, held_as, holder_kind=by, holder_id=by_id, **more)
    return replace(held, decided_at=last, plate_read=read, typed=typed)


# A car an exit refused (outside the lane's hours, the lane closed, the car blocked, no entry
# record) that a guard then opens the barrier for by hand has left, as one held there to pay has:
# kept inside, its stay held a space, a fixed slot shown taken, and back in, it was a car whose
# exit was missed (already_inside; refused outright under anti_passback = "hard"). The opening is
# for the car at the barrier now: refused within this long of it. The lane's camera decides a car
# standing at the barrier again every 15 s (plates/lane.py, repeat_after_s), refusing it again,
# so the last refusal of the car still there is newer than this; a car refused longer ago backed
# away, and the guard opening for a tricycle must not take it for gone. Nor one refused sooner that
# the lane's camera read and sees no more (ParkingDesk.car_at_barrier): it backed away too. So is a
# car let out there on record at a barrier that did not open (道闸故障, its stay put back: store
# parking.put_back): still at the shut arm, decided again at the camera's repeat (put back again
# while no relay takes the pulse), it is the car the guard opens for once the relay works.
REFUSED_JUST_NOW = timedelta(seconds=30)


def _put_back_sql(row: str) -> str:
    """SQL: access_log row `row` let its car out at a barrier that did not open, its stay put back
    (exits_put_back; or, a car with no entry record, the day's fee it paid there kept). So is a
    repeat of such an exit (flag again: the camera decided the car still at the shut arm) whose
    own pulse no relay took: one that joined the exit's passage before a Modbus module answered
    is kept put back with it, one decided after as a passage of its own (store parking.put_back,
    ExitPassages.repeated). A repeat whose pulse a relay took let its car out: the arm rose and
    it drove out. Read as put back for being near a put-back exit, such a repeat kept the car
    gone at the barrier, and the guard's opening for the car behind it was booked to it."""
    return f"EXISTS (SELECT 1 FROM exits_put_back x WHERE x.event_id = {row}.event_id)"


# The decisions at a lane from REFUSED_JUST_NOW before an opening, in order, each with the car it
# names (car_held_sql), the device that read it, whether an opening by hand names it already, and
# whether it let its car out at a barrier that did not open (its stay put back, _put_back_sql).
# Not a read of the neighbouring lane's car (flag neighbour_lane: the car just let in at the entrance
# beside, its rear plate read by the exit camera), which never stood at this barrier: taken for a car
# refused there, the guard's opening for a tricycle let it out on record, or, a car held to pay
# there, let it out instead of the held car, which drove out and stayed held and inside (Review 62j).
# On the log's time index: half a minute of the whole site's decisions, a handful of rows.
_JUST_DECIDED = f"""
SELECT {car_held_sql("a")}, a.event_id, a.at, a.class, a.kind, a.value, a.holder_kind, a.holder_id,
       a.admitted, a.reason, a.device, a.flags,
       EXISTS (SELECT 1 FROM let_outs_by_hand o WHERE o.held_event = a.event_id),
       {_put_back_sql("a")}
FROM access_log a INDEXED BY access_log_at
WHERE a.at >= ? AND a.at <= ? AND a.lane = ? AND {not_neighbours_sql("a")}
ORDER BY a.id
"""


def refused_at_lane(conn: sqlite3.Connection, lane: str, at: datetime) -> list[Held]:
    """The cars the exit `lane` refused within REFUSED_JUST_NOW before `at`, each by its last
    decision there, in the order of those: not one let through there since, nor one held there to
    pay since (holds_at_lane has it), nor one an opening by hand let out already, nor the car of the
    lane beside read by its camera (neighbour_lane, _JUST_DECIDED). A car let through
    there at a barrier that did not open, its stay put back (道闸故障: parking.put_back), was let
    through on record only, also by the camera's repeat of that exit (_put_back_sql), and stands at
    the shut arm as one refused does: it is one of them. Each
    is a Held whose `refused` names that refusal (or that exit), for an opening by hand to let it
    out as it lets out a car held there to pay (ParkingDesk.let_out_by_hand), on the same records:
    its stay closed by hand at the opening, its fee to that decision. Its `at` the first of the
    refusals in a row that ended with it (the camera refuses a car standing at the barrier again
    every 15 s: still that car, there before the one refused behind it since); `plate_read` the
    plate as a lane device read it (not a guard typing it, not its card or QR)."""
    since = to_db(later(at, -REFUSED_JUST_NOW))
    last: dict[str, tuple[Any, ...]] = {}
    first: dict[str, str] = {}  # car -> when the refusals in a row ending with its last began
    for row in conn.execute(_JUST_DECIDED, (since, to_db(at), lane)):
        car = row[0]
        if car is None:  # nothing the guard can let out names a car (an unknown card)
            continue
        before = last.pop(car, None)  # kept in the order of each car's last decision
        last[car] = row
        if not (_refusal(row) and before is not None and _refusal(before)):
            first[car] = row[2]
    refused = []
    for row in last.values():
        car, event, when, held_as, kind, value, holder_kind, holder_id, _, _, device, flags, _, _ = row
        if _refusal(row):
            decision = (car, kind, value, holder_kind, holder_id, device, flags)
            refused.append(_held(decision, first[car], when, held_as, refused=event))
    return refused


def _lane_read(kind: str, value: str, device: str, flags: str) -> str | None:
    """Held.plate_read of a decision: the plate as a lane device read it, the text the lane's camera
    holds (a look-alike's own reading, the plate before a guard's correction), or None for a plate a
    guard typed, a card or QR."""
    # Here, not at the top: gateway.store.corrections imports this module.
    from gateway.store.corrections import lane_reading

    return lane_reading(value, flags) if kind == "plate" and not device.startswith(TYPED_BY) else None


def _refusal(row: tuple[Any, ...]) -> bool:
    """A row of _JUST_DECIDED that refused its car: not let through (but for a barrier that did not
    open, its stay put back, or a repeat of that exit), not held to pay, not let out by hand since."""
    admitted, reason, out, put_back = row[8], row[9], row[12], row[13]
    let_through = admitted and not put_back
    return not (let_through or reason == "payment_due" or out)


def _held_kind(car: str, kind: str, value: str, holder_kind: str | None) -> Literal["plate", "qr", "card"]:
    """What a hold keyed as `car` was held on, by its last decision's credential: the QR of a pass
    without a plate (all that names its car), a resident's card that names no car (the resident
    does), else the car's plate (also held on its card, or on its pass's QR: car_held_sql)."""
    if kind == "qr" and car == value:
        return "qr"
    if kind == "card" and holder_kind == "resident" and car.startswith("resident:"):
        return "card"
    return "plate"


# A pass without a plate and its QR: a car let in on it is held, and let out once paid, on it.
_PASS_WITHOUT_PLATE = """
SELECT p.kind, c.value FROM passes p
JOIN credentials c ON c.pass_id = p.id AND c.kind = 'qr'
WHERE p.id = ? AND coalesce(p.plate, '') = ''
"""
# The last decision holding a car at a lane on the QR of a pass (the pass maybe withdrawn since) or
# on a resident's card: what it was held on, by whom, and as which car.
_HELD_ON_HOLDER = """
SELECT a.value, a.holder_kind, {car} FROM access_log a INDEXED BY access_log_held_at
WHERE a.at >= ? AND {exit} AND a.reason = 'payment_due' AND a.kind = ? AND a.holder_id = ?
  AND a.holder_kind IN ({holders}){own}
ORDER BY a.id DESC LIMIT 1
"""
_HOLDERS = {"qr": "'visitor', 'contractor'", "card": "'resident'"}
# A resident's card held as the resident's own car: not another of the household's cards, one that
# names a car (held as that car, by its plate), tapped at the same exit since.
_OWN_HOLD = {"qr": "", "card": " AND {car} = 'resident:' || a.holder_id"}
# Who a car held on a pass's QR or a resident's card is, as the guard's quote names them.
_HOLDER_SHOWN = {
    "qr": "SELECT name, host_building, host_unit FROM passes WHERE id = ?",
    "card": "SELECT name, building, unit FROM residents WHERE id = ?",
}


@dataclass(frozen=True, slots=True)
class HeldOn:
    """A car that no plate names, as a guard taking its fee names it: let in on a pass without a
    plate (`kind` qr) or on a resident's card that names no car (card), by that pass or resident
    (`holder_kind`, `holder_id`). It is decided on `value`, that QR or card, never logged nor shown
    (either opens the gate to whoever holds it), and its hold is keyed as `car` (car_held_sql)."""

    kind: Literal["qr", "card"]
    value: str = field(repr=False)
    holder_kind: str
    holder_id: int
    car: str

    @property
    def subject(self) -> str:
        return f"{self.holder_kind}:{self.holder_id}"


def pass_car(
    conn: sqlite3.Connection, lane: str, at: datetime, pass_id: int, lanes: Collection[str]
) -> HeldOn | None:
    """The car let in on pass `pass_id` without a plate, on its QR: held as the plate its stay
    carries, if the camera read it as it came in (car_of), else as the QR. The pass withdrawn
    since, the car held at this lane on it all the same (held_on_holder)."""
    row = conn.execute(_PASS_WITHOUT_PLATE, (pass_id,)).fetchone()
    if row is None:
        return held_on_holder(conn, lane, at, "qr", pass_id, lanes)
    kind, qr = row
    return HeldOn("qr", qr, kind, pass_id, car_of(conn, "qr", qr, kind, pass_id, None) or qr)


def held_on_holder(
    conn: sqlite3.Connection,
    lane: str,
    at: datetime,
    kind: Literal["qr", "card"],
    holder_id: int,
    lanes: Collection[str],
) -> HeldOn | None:
    """The car held at this lane within PENDING_FOR of `at` on the QR of pass `holder_id` (`kind`
    qr) or on the card of resident `holder_id` (card), as its last decision there was: from the
    hold itself, so a pass withdrawn, or a card taken back, while its car waits still names it."""
    car = car_held_sql("a")
    sql = _HELD_ON_HOLDER.format(
        car=car,
        exit=_at_the_exit_sql("a", "?", lanes),
        holders=_HOLDERS[kind],
        own=_OWN_HOLD[kind].format(car=car),
    )
    row = conn.execute(sql, (to_db(later(at, -PENDING_FOR)), lane, kind, holder_id)).fetchone()
    if row is None or row[2] is None:
        return None
    value, holder_kind, car = row
    return HeldOn(kind, value, holder_kind, holder_id, car)


def holder_shown(conn: sqlite3.Connection, held: Held) -> dict[str, Any] | None:
    """Who the guard's quote names a car held on the QR of a pass without a plate, or on a
    resident's card that names no car, by: the pass's id and kind (visitor, contractor) or the
    resident's (resident), the holder's name masked, and the unit visited or lived in; never by the
    QR or card. Gone from the register since it was held (the pass withdrawn, the resident moved
    out), by its id and kind alone: still the car held. None for a car held on its plate."""
    if held.kind == "plate" or held.holder_id is None:
        return None
    row = conn.execute(_HOLDER_SHOWN[held.kind], (held.holder_id,)).fetchone()
    name, building, unit = row if row is not None else ("", "", "")
    return {
        "id": held.holder_id,
        "kind": held.holder_kind,
        "name": mask_name(name),
        "building": building,
        "unit": unit,
    }
