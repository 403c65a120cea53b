"""Plates a guard types: a correction of a plate the lane misread, and a plate the camera did not
read, which the lane then decides as if it had been read (both audited). A car with no plate
(无牌车) is given a ticket at the entrance and typed back on it at the exit (core/tickets.py)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import App, Db, IdempotencyKey, KeyedWrites, made_once, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.api.views import from_event, holder_shape
from gateway.core import TYPED_BY, Presented
from gateway.core.model import LaneRules, VehicleClass
from gateway.core.tickets import (
    as_ticket,
    as_ticket_or_number,
    is_ticket,
    meant_as_number,
    meant_as_ticket,
    says_no_plate,
)
from gateway.errors import Conflict, NotFound, Refused
from gateway.events import AccessEvent
from gateway.store.audit import audit
from gateway.store.corrections import Correction, correct_plate
from gateway.store.csv_rows import ProvinceLeftOut, RowError, plate_value
from gateway.store.holds import REFUSED_JUST_NOW, car_held_sql
from gateway.store.neighbour_rows import not_neighbours_sql
from gateway.store.tickets import (
    next_ticket,
    no_such_ticket,
    record_ticket,
    ticket_inside,
    ticket_let_in_since,
    tickets_data,
    tickets_inside,
    tickets_named,
)
from gateway.timefmt import from_db

router = APIRouter(tags=["lanes"], responses=ERRORS)
EventId = Annotated[str, Path(min_length=1, max_length=64)]
# Idempotency-Key -> the decision of a typed plate, per user (the last 500).
_decided: KeyedWrites[AccessEvent] = KeyedWrites("typed plate")


class PlateIn(BaseModel):
    plate: str = Field(min_length=1, max_length=16, description="The plate as it is on the car.")


class TypedPlateIn(BaseModel):
    plate: str = Field(
        "",
        max_length=16,
        description="The plate as it is on the car; at an exit, the ticket of a car with no plate "
        "(无牌-0303-07). Typed 无牌车, the same as no_plate.",
    )
    no_plate: bool = Field(
        False,
        description="A car with no plate (无牌车) at an entrance: the gateway gives it a ticket, "
        "decided as its plate (the answer's `plate`); `plate` is then left empty.",
    )
    vehicle_class: VehicleClass | None = Field(
        None,
        description="What the guard sees: an unregistered vehicle is counted and billed as this, not "
        "as the lane's class (a registered one keeps its own).",
    )
    corrected_event: str | None = Field(
        None,
        max_length=64,
        description="纠正并重新判断 (Correct and decide again): the record whose plate the guard has just "
        "corrected, this plate being that car decided again. Decided only while that car is still "
        "the lane's: the record did not let it through, no other car decided there since (its own "
        "card or pass's QR shown as it waits is that car), none let through, the car let through "
        "at no vehicle lane since (on its plate, card or QR; at an exit its stay not closed, at an entrance "
        "none opened), the lane not opened by hand since nor held open at the record (an opening "
        "no relay took does not count); else 409 car_left_lane, nothing decided (the correction "
        "stands).",
    )
    shown: str | None = Field(
        None,
        max_length=64,
        description="With no_plate: the event id of the lane's newest record this tablet has shown its "
        'guard ("" for none). A car with no plate the lane let in since, within 10 s, with no other '
        "car decided there since, is the car the guard tapped 无牌车 for (the other tablet's guard "
        "tapped it a moment before): its decision answered again on its ticket (flag `again`), no "
        "second ticket nor stay. Left out (an older page, another client): every 无牌车 a new ticket.",
    )


class CorrectionDone(BaseModel):
    event_id: str
    lane: str
    read: str = Field(description="What the lane read.")
    previous: str = Field(
        description="The plate before this correction (the reading, or an earlier correction)."
    )
    plate: str
    by: str
    at: str
    holder: dict[str, Any] | None = Field(
        description="Who the corrected plate is registered to (name masked); null when nobody."
    )
    stay_moved: bool = Field(
        description="A temporary car's stay, opened under the misread plate, now stands under this one."
    )
    no_plate: bool = Field(
        False,
        description="The car has no plate (corrected to 无牌车): `plate` is its ticket, to hand the driver.",
    )


@router.post(
    "/api/events/{event_id}/plate",
    summary="Correct a misread plate: the plate the car carries (audited; a temporary car's stay follows)",
    response_model=CorrectionDone,
)
def correct(event_id: EventId, body: PlateIn, who: User, app: App, db: Db) -> CorrectionDone:
    no_plate = says_no_plate(body.plate)
    ticket = None if no_plate else as_ticket_or_number(body.plate)
    plate = body.plate if no_plate else _typed(body.plate, db, event_id) if ticket is None else ticket
    gw = app.gw
    at = gw.now()

    def corrected(conn: sqlite3.Connection) -> Correction:
        if no_plate:
            return correct_plate(conn, event_id, _ticket_of(conn, gw.site.lanes, event_id, at), who.name, at)
        if ticket is not None:
            _own_ticket(conn, event_id, ticket)
        return correct_plate(conn, event_id, plate, who.name, at)

    done: Correction = write(gw, corrected)
    out = CorrectionDone(
        event_id=done.event_id,
        lane=done.lane,
        read=done.read,
        previous=done.previous,
        plate=done.plate,
        by=who.name,
        at=at.astimezone(gw.site.tz).isoformat(timespec="seconds"),
        holder=holder_shape(done.holder),
        stay_moved=done.stay_moved,
        no_plate=is_ticket(done.plate),
    )
    app.hub.publish("correction", out.model_dump())
    return out


@router.post(
    "/api/lanes/{lane}/plate",
    summary="A plate the camera did not read, typed by the guard: the lane decides it as a read one "
    "(audited; it opens only if the car may come in or go out)",
)
def type_plate(
    lane: str,
    body: TypedPlateIn,
    who: User,
    app: App,
    db: Db,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    gw = app.gw
    rules = gw.site.lanes.get(lane)
    if rules is None:
        raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(gw.site.lanes)}")
    if rules.type != "vehicle":
        raise ApiError(422, "not_a_vehicle_lane", f"{lane} is a lane for people", "type plates at a car lane")
    no_plate = body.no_plate or says_no_plate(body.plate)
    if not (no_plate or body.plate.strip()):
        raise ApiError(422, "invalid_plate", "no plate was typed", "type the plate, or tap 无牌车 No plate")
    typed = (
        None if no_plate else _ticket_typed(body.plate, rules) or _typed(body.plate, db, body.corrected_event)
    )
    at = gw.now()

    def prepare(conn: sqlite3.Connection) -> Presented:
        # 纠正并重新判断 of a record corrected to 无牌车: the car is decided on the ticket that gave it.
        own = None if body.corrected_event is None else record_ticket(conn, body.corrected_event)
        if body.corrected_event is not None:
            _car_still_at_lane(conn, rules, body.corrected_event, typed or own)
        plate = (
            (own or _ticket_given(conn, rules, at, body.shown))
            if typed is None
            else _plate_here(conn, rules, typed, own)
        )
        # Committed with the decision: who typed which plate is on disk before any barrier moves.
        said = f" ({body.vehicle_class})" if body.vehicle_class else ""
        what = f"无牌车, ticket {plate}" if typed is None else plate
        audit(conn, at, who.name, "lane.plate", lane, f"typed {what}{said}")
        by = f"{TYPED_BY}{who.name}"
        return Presented(lane, "plate", plate, 1.0, at, by, vehicle_class=body.vehicle_class)

    # The plate as the lane takes it: typed again as 皖a12345 or as the page filled it in after the
    # correction (皖A12345), it is the same decision, answered again: the car is not decided twice
    # (let out twice, the barrier raised for a car gone).
    asked = json.dumps([lane, typed, body.vehicle_class, body.corrected_event], ensure_ascii=False)
    decided, _ = made_once(_decided, who.name, idempotency_key, asked, lambda: gw.decide_after(prepare))
    return from_event(gw, decided)


@router.get(
    "/api/lanes/{lane}/tickets",
    summary="The cars with no plate (无牌车) recorded inside, newest first: the tickets to pick at an exit",
)
def tickets(lane: str, db: Db, _: User, app: App) -> list[dict[str, Any]]:
    if lane not in app.gw.site.lanes:
        raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(app.gw.site.lanes)}")
    return tickets_inside(db, app.gw.site.tz)


def _ticket_given(conn: sqlite3.Connection, lane: LaneRules, at: datetime, shown: str | None) -> str:
    """无牌车 at an entrance: the car's ticket, a new one, or that of the car let in a moment ago
    that the guard's tablet had not shown him (ticket_let_in_since). At an exit the car leaves on
    the one it was given."""
    if lane.direction == "entrance":
        just_in = None if shown is None else ticket_let_in_since(conn, lane.id, shown, at)
        return just_in or next_ticket(conn, at)
    # Raised on the decision worker: its own errors are the caller's to report (runtime/worker.py).
    raise Refused(
        "a car with no plate leaves on the ticket it was given at the entrance",
        fix=tickets_named(conn, "type its ticket number"),
        code="ticket_needed",
        data=tickets_data(conn),
    )


def _ticket_typed(text: str, lane: LaneRules) -> str | None:
    """The ticket the guard typed, well formed or not; None for a plate. Its number alone, as read
    off the paper ticket (0303-07), is the ticket 无牌-0303-07, at an entrance too (refused there,
    tap 无牌车): it is no plate, and told to type the plate on the car, the guard had none to type.
    At an exit a number typed wrong (0303-1) is a ticket looked for among the cars inside; at an
    entrance digits that are no ticket's number are left to the plate's check (12345: a plate
    typed without its province)."""
    ticket = as_ticket_or_number(text) or _ticket_mistyped(text)
    if ticket is None and lane.direction == "exit" and meant_as_number(text):
        return text.strip()
    return ticket


def _plate_here(conn: sqlite3.Connection, lane: LaneRules, plate: str, own: str | None = None) -> str:
    """A typed plate, or a ticket: only at an exit, and only one of a car inside (a slip of the pen
    left free as a stranger whose entry was missed, its real stay open for good); at an entrance
    only `own`, the ticket a correction to 无牌车 just gave the car decided again there."""
    if not (is_ticket(plate) or meant_as_ticket(plate) or meant_as_number(plate)):
        return plate
    if lane.direction == "entrance" and plate == own:
        return plate
    if lane.direction == "entrance":
        raise Refused(
            f"{plate} is a ticket: the entrance gives one to a car with no plate",
            fix="tap 无牌车 No plate (send no_plate) for a car with no plate: it gets a new ticket",
            code="ticket_at_entrance",
        )
    if not is_ticket(plate):
        raise no_such_ticket(conn, plate)
    if not ticket_inside(conn, plate):
        said = f"no car with no plate is inside on ticket {plate}"
        raise NotFound(said, fix=tickets_named(conn), code="unknown_ticket", data=tickets_data(conn))
    return plate


def _ticket_mistyped(text: str) -> str | None:
    """A ticket typed wrong (无牌—0303: its counter left out): looked for among the cars inside, and
    refused naming their tickets, rather than refused as a plate the car does not have."""
    return text.strip() if meant_as_ticket(text) else None


# The record corrected, at its lane: where it stands in the lane's decisions, and what it read; and
# where it stands in the order records were written, its upstream `access` record's seq (_after).
_RECORD = f"""
SELECT lane, id, device, kind, value, at, admitted,
  (SELECT b.seq FROM outbox b WHERE b.event_id = l.event_id), NOT {not_neighbours_sql("l")}
FROM access_log l WHERE l.event_id = ?
"""
# What happened since a record is read by record, not by time (docs/parking.md, *When the clock
# jumps*): NTP setting the clock back after it dates the guard's 开闸 that let the car in 09:00:20,
# before its 09:40 record, and 纠正并重新判断 raised the barrier again for the car behind. A lane
# action, a stay's change by hand and a decision are ordered by the upstream records written with
# each, in one transaction (the outbox's seq: the one order the audit trail, the stays and the log
# share); read from an hour before the record's time (a clock set back more than an hour in
# between is not looked for, as for a hold: gateway/store/holds.py starts_hold_sql). Where either
# upstream record is gone (sent, and kept no longer: mqtt.keep_sent_days), by time as before.
_AN_HOUR_BEFORE = "strftime('%Y-%m-%dT%H:%M:%f', :since, '-1 hour')"


def _after(upstream: str, by_time: str) -> str:
    """SQL: the row whose upstream record's seq is `upstream` (an SQL expression) was written after
    the record (`:seq`, its own); with either gone, `by_time`."""
    return f"coalesce({upstream} > :seq, {by_time})"


def _upstream(topic: str, at: str, field: str, value: str) -> str:
    """SQL: the seq of the upstream `topic` record written at `at` (an SQL time) whose `field` is
    `value` (SQL expressions): the one written with a lane action's audit row, or a stay's change.
    Not an opening's record sent again with its clips (`"change": "clips"`, event_clips.py): that
    one is queued when the clips are cut, after the opening."""
    return (
        f"(SELECT max(b.seq) FROM outbox b INDEXED BY outbox_created WHERE b.created_at = {at} "
        f"AND b.topic != 'access' AND b.topic = '{topic}' AND json_extract(b.payload, '$.{field}') = {value} "
        "AND json_extract(b.payload, '$.change') IS NOT 'clips')"
    )


def _stay_since(at: str, event: str) -> str:
    """SQL: stay `s` closed (`at` exited_at, `event` exit_event) or opened (entered_at, entry_event)
    since the record, by record: by hand or by an admin, with its upstream `stay` record; else by
    the decision that did it; neither found, by time."""
    by_hand = _upstream("stay", f"s.{at}", "stay_id", "s.id")
    decision = f"(SELECT x.id FROM access_log x WHERE x.event_id = s.{event})"
    return _after(by_hand, f"coalesce({decision} > :id, s.{at} >= :since)")


_LANE_ACTION = _upstream("lane_action", "o.at", "lane", "o.target")
# The lane's decisions before a record, newest first: the run of refusals that ended with it is
# among them (the last 100: a car that waited longer was read the same way over and over). Not the
# neighbouring lane's car read by the lane's camera (neighbour_lane): no car at this barrier.
_BEFORE = f"""
SELECT at, device, kind, value, admitted FROM access_log INDEXED BY access_log_lane
WHERE lane = :lane AND id < :id AND {not_neighbours_sql()} ORDER BY id DESC LIMIT 100
"""
# Whether the lane decided another car since a record: one let through, or one that names another
# car than the record's texts (the record's, the plate it is corrected to, and for a typed record
# the camera's reading just before it: _read_before). The camera decides a car waiting at the
# barrier again every 15 s: those repeats are still the record's car, and so is its card or its
# pass's QR shown as it waits, which names that car (the car a hold is keyed by, car_held_sql: a
# card's car by its plate, a pass's by the pass's; at a vehicle lane only). A row that names no car
# (an unknown card, a resident's own card that names none) is not tied to this one: another car,
# the barrier stays down. Nor is the car of the lane beside, read by this lane's camera as it went
# through its own (neighbour_lane): it never came to this barrier, and taken for the next car here,
# the car still waiting at it was refused 纠正并重新判断 as gone (Review 62j). On the lane's index
# from the record on.
_OTHER_CAR = f"""
SELECT EXISTS (SELECT 1 FROM access_log l INDEXED BY access_log_lane
               WHERE l.lane = :lane AND l.id > :id AND {not_neighbours_sql("l")}
                 AND (l.admitted = 1
                      OR coalesce({car_held_sql("l")}, l.value)
                         NOT IN (SELECT value FROM json_each(:texts))))
"""
# Whether the car was let through anywhere since a record (at another exit or entrance: it reversed
# and went through the other one), read as one of its texts (the record's, the plate it is
# corrected to) or on a card or pass's QR that names that car (access_log.car: a card's car by its
# plate); or its stay closed since, at an exit (let out by hand at another lane, or marked gone),
# or opened since, at an entrance (recorded inside by an admin). At a vehicle lane only: the
# pass's QR scanned at a door is the visitor's companion walking through, the car still at the
# barrier (a row an earlier release kept with the pass's car on it too). On the log's ids and the
# stays' exit or entry times from an hour before the record on; a stay's change since by record
# (_stay_since).
_LET_THROUGH = f"""
SELECT EXISTS (SELECT 1 FROM access_log
               WHERE id > :id AND admitted = 1 AND lane_type = 'vehicle'
                 AND (value IN (SELECT value FROM json_each(:texts))
                      OR car IN (SELECT value FROM json_each(:texts))))
    OR (:exit AND EXISTS (SELECT 1 FROM stays s INDEXED BY stays_exited
                          WHERE s.exited_at >= {_AN_HOUR_BEFORE}
                            AND s.plate IN (SELECT value FROM json_each(:texts))
                            AND {_stay_since("exited_at", "exit_event")}))
    OR (NOT :exit AND EXISTS (SELECT 1 FROM stays s INDEXED BY stays_entered
                              WHERE s.entered_at >= {_AN_HOUR_BEFORE}
                                AND s.plate IN (SELECT value FROM json_each(:texts))
                                AND {_stay_since("entered_at", "entry_event")}))
"""
# A lane action by hand (`o`) answered by its failure (`<action>_failed`, the lane's next action
# row: both are written in the lane's turn, gateway/runtime/hand_lanes.py, HandLanes._drive), of
# which `{took}` may say more. On the audit's ids from the action on.
_FAILED = """EXISTS (SELECT 1 FROM audit n
               WHERE n.id = (SELECT f.id FROM audit f
                             WHERE f.id > o.id AND f.target = o.target AND f.action IN (
                               'lane.open', 'lane.hold', 'lane.release',
                               'lane.open_failed', 'lane.hold_failed', 'lane.release_failed')
                             ORDER BY f.id LIMIT 1)
                 AND n.action = o.action || '_failed'{took})"""
# The last time between :since and :until (none: from :since on) that a guard or the central server
# opened the lane by hand or held it open, of the openings that may have let a car out; given the
# record's :seq, those since it by record (_after), from an hour before :since. An opening
# is on record (`lane.open`, `lane.hold`) before its relays move; one none of them took is answered
# by its failure with the guard's reason alone. One a relay of two took says so in its failure's
# reason, `(took=1 of 2)`: the barrier rose. An older failure without it still counts if it let a
# car out on record (let_outs_by_hand at its time). On the audit's time index.
_OPENED = f"""
SELECT max(o.at) FROM audit o INDEXED BY audit_at
WHERE o.at >= {_AN_HOUR_BEFORE} AND (:until IS NULL OR o.at <= :until)
  AND o.target = :lane AND o.action IN ('lane.open', 'lane.hold') AND {_after(_LANE_ACTION, "o.at >= :since")}
  AND (NOT {_FAILED.format(took=" AND n.detail NOT GLOB '*(took=[1-9]* of *)'")}
       OR EXISTS (SELECT 1 FROM let_outs_by_hand l INDEXED BY let_outs_by_hand_at
                  WHERE l.at = o.at AND l.lane = o.target))
"""
# A lane's first hold or release since the record (by record, _after), of those its relays all
# took: one that failed, even on one relay of two, leaves the lane as it was (a hold not standing
# is let go, a release not taken keeps the barrier up).
_HELD_AFTER = f"""
SELECT o.action FROM audit o INDEXED BY audit_at
WHERE o.target = :lane AND o.action IN ('lane.hold', 'lane.release') AND NOT {_FAILED.format(took="")}
  AND o.at >= {_AN_HOUR_BEFORE} AND {_after(_LANE_ACTION, "o.at > :since")} ORDER BY o.id LIMIT 1
"""
# The lane held now by a hold before the record, by record: its `lane.hold` is dated set_at.
_HOLD_SET = _upstream("lane_action", "m.set_at", "lane", "m.lane")
_HELD_NOW = f"""
SELECT 1 FROM lane_modes m WHERE m.lane = :lane AND m.mode = 'open'
  AND coalesce({_HOLD_SET} < :seq, m.set_at <= :since)
"""


def _car_still_at_lane(conn: sqlite3.Connection, rules: LaneRules, event_id: str, plate: str | None) -> None:
    """纠正并重新判断: the corrected record's car is decided again only while it is still the car at
    the lane's barrier. The tablet's view may be stale (the dialog open a while, the lane seen on
    another tablet): once the record itself let the car through, another tablet opened the lane
    for that car, the lane was held open while it stood there, the car left by another lane, or
    the next car pulled up, a decision that lets the corrected car out raised the barrier for the
    car now there, which drove out unpaid. The correction stands (it was stored before): only the
    decision is refused. An opening by hand no relay took let nobody out: the car still waits. A
    read of the neighbouring lane's car (neighbour_lane) had no car at this barrier: decided, it
    let the car just let in beside out of the car park on record (review 62l)."""
    lane = rules.id
    row = conn.execute(_RECORD, (event_id,)).fetchone()
    if row is None:
        raise NotFound(
            f"no access record {event_id}",
            fix="decide the car from its record on the live page, or type its plate (输入车牌)",
        )
    decided_at, record_id, device, kind, value, at, admitted, seq, beside = row
    if decided_at != lane:
        raise Refused(
            f"record {event_id} was decided at {decided_at}, not at {lane}",
            fix=f"decide it again at {decided_at}, where it was read",
            code="other_lane",
        )
    car = json.dumps(sorted({value, plate or ""}))
    asked = {"id": record_id, "texts": car, "exit": rules.direction == "exit", "since": at, "seq": seq}
    since = (
        "it was the car of the lane beside, read by this lane's camera: no car stood at this barrier"
        if beside
        else "it was let through on that record"
        if admitted
        else "it was let through elsewhere since"
        if conn.execute(_LET_THROUGH, asked).fetchone()[0]
        else "the lane was opened by hand since"
        if _opened(conn, lane, at, seq=seq) is not None
        else "the lane was held open while it stood there"
        if _held(conn, lane, at, seq)
        else "another car was decided there since"
        if _other_car(conn, lane, record_id, device, kind, value, plate, at)
        else None
    )
    if since is not None:
        raise Conflict(
            f"the car of record {event_id} has left {lane}: {since}; its plate is corrected, "
            "it was not decided again",
            fix="the barrier stays down for the car there now: decide it from its own record",
            code="car_left_lane",
        )


def _other_car(
    conn: sqlite3.Connection,
    lane: str,
    record_id: int,
    device: str,
    kind: str,
    value: str,
    plate: str | None,
    at: str,
) -> bool:
    """Whether the lane decided another car since the record (_OTHER_CAR)."""
    texts = {value, plate or ""}
    if device.startswith(TYPED_BY):
        texts |= _read_before(conn, lane, record_id, kind, at)
    asked = {"lane": lane, "id": record_id, "texts": json.dumps(sorted(texts))}
    return bool(conn.execute(_OTHER_CAR, asked).fetchone()[0])


def _held(conn: sqlite3.Connection, lane: str, at: str, seq: int | None) -> bool:
    """Whether `lane` was held open (常开) at the record (of time `at`, upstream seq `seq`), the car
    free to drive out under its barrier: its last hold or release by then that took was a hold.
    Read since the record by record (_after), on the audit's time index: released since, it was
    held till then; neither since, it is held now, since before the record (lane_modes). A hold
    since that took is an opening (_opened, asked first)."""
    asked = {"lane": lane, "since": at, "seq": seq}
    after = conn.execute(_HELD_AFTER, asked).fetchone()
    if after is None:
        return conn.execute(_HELD_NOW, asked).fetchone() is not None
    return bool(after[0] == "lane.release")


def _opened(
    conn: sqlite3.Connection, lane: str, since: str, until: str | None = None, seq: int | None = None
) -> str | None:
    """When `lane` was last opened or held by hand between `since` and `until` (stored times), of
    the openings that may have let a car out (_OPENED); with `seq` (a record's upstream seq, its
    time `since`), since that record by record. None if it was not."""
    row = conn.execute(_OPENED, {"lane": lane, "since": since, "until": until, "seq": seq}).fetchone()
    return None if row is None else row[0]


def _read_before(conn: sqlite3.Connection, lane: str, record_id: int, kind: str, at: str) -> set[str]:
    """What the camera read for the car a guard typed the plate of: its reading(s) just before his
    typed record, in the run of refusals that ended with it, each within REFUSED_JUST_NOW of the
    next (the camera decides a car waiting at the barrier again every 15 s; a car refused longer
    before backed away), back to the car the lane last let through or its last opening by hand. He
    types the plate of a car the camera misread (苏E1234S) and corrects the typed one: the camera's
    next repeat, 苏E1234S again, is that car still waiting, not the next one. Only that text: the
    run's readings of another text before it are other cars (a queue read together: the car in
    front, then his), and a text read for one of them too, before it, is the car in front read
    again: its repeat after the record is another car, none of these."""
    run: list[tuple[str, bool, str]] = []
    newer = from_db(at)
    for when, device, was_kind, text, admitted in conn.execute(_BEFORE, {"lane": lane, "id": record_id}):
        then = from_db(when)
        if admitted or was_kind != kind or newer is None or then is None or newer - then > REFUSED_JUST_NOW:
            break
        run.append((when, device.startswith(TYPED_BY), text))
        newer = then
    opened = _opened(conn, lane, run[-1][0], at) if run else None
    if not run or run[0][1] or (opened is not None and run[0][0] <= opened):
        return set()  # the camera read nothing just before the typed record
    read = [text for when, typed, text in run if not typed and (opened is None or when > opened)]
    others = next((i for i, text in enumerate(read) if text != read[0]), len(read))
    return set() if read[0] in read[others:] else {read[0]}


# What a plate record was decided on: a ticket of its own, or a plate (record_ticket for its own).
_DECIDED_ON = "SELECT value FROM access_log WHERE event_id = ? AND kind = 'plate'"


def _own_ticket(conn: sqlite3.Connection, event_id: str, ticket: str) -> None:
    """A record is corrected to a ticket only back to its own, the one the lane decided it on or a
    correction to 无牌车 gave it (record_ticket): a correction to the wrong car's plate (two cars
    with no plate, the driver of one back with his new plate) is undone so, the stay moving back
    onto the ticket. Any other ticket is refused: a ticket is given once, at an entrance, to one car
    (docs/parking.md, *A ticket is given once*)."""
    row = conn.execute(_DECIDED_ON, (event_id,)).fetchone()
    if row is None or ticket in (row[0], record_ticket(conn, event_id)):
        return  # no such record: correct_plate says so
    raise Refused(
        f"{ticket!r} stands for a car with no plate, not a plate; this record was decided on {row[0]}",
        fix="type the plate on the car; a car with no plate gets its ticket at the entrance (无牌车, "
        "or its entry corrected to 无牌车), and a record is corrected back to its own ticket only",
        code="ticket_not_a_plate",
    )


# Where a record was decided: kept on the record since migration 18, else the lane's as configured.
_DIRECTION = "SELECT lane, direction FROM access_log WHERE event_id = ?"


def _ticket_of(conn: sqlite3.Connection, lanes: dict[str, LaneRules], event_id: str, at: datetime) -> str:
    """A record corrected to 无牌车: the camera read a plate off a car that has none (a paper
    temporary plate, a covered one). At an entrance the car is given its ticket by the correction,
    its stay moving onto it as a misread's moves onto the corrected plate: the entrance's 无牌车
    typed after it (what the page used to advise) gave the car a second stay, and the misread
    plate's stayed open for good, the car counted inside twice. A record that has a ticket already
    (decided on one, or given one by an earlier correction) keeps it: a car is given one ticket.
    At an exit a car with no plate leaves on the ticket it was given: no ticket is given there."""
    own = record_ticket(conn, event_id)
    if own is not None:
        return own  # same_plate if the record stands under it now
    row = conn.execute(_DIRECTION, (event_id,)).fetchone()
    if row is None:
        return "无牌车"  # no such record: correct_plate says so
    lane, direction = row
    if (direction or getattr(lanes.get(lane), "direction", None)) == "entrance":
        return next_ticket(conn, at)
    raise Refused(
        "a car with no plate leaves on the ticket it was given at the entrance: a record at an exit "
        "is not corrected to 无牌车",
        fix=tickets_named(conn, "type its ticket at the exit (输入车牌), or tap 无牌车 there to pick it"),
        code="no_plate_not_a_plate",
        data=tickets_data(conn),
    )


# The plate an access record stands under now: its latest correction, else the plate it was decided on.
_RECORD_PLATE = """
SELECT coalesce((SELECT c.plate FROM latest_plate_corrections c WHERE c.event_id = :event),
                (SELECT l.value FROM access_log l WHERE l.event_id = :event AND l.kind = 'plate'))
"""


def _typed(text: str, db: sqlite3.Connection, event_id: str | None = None) -> str:
    """A plate a guard typed, as stored; 422 `invalid_plate` saying what to fix. An army plate the
    store holds as ED12345 is taken so for record `event_id` standing under it: the page fills the
    correction dialog in with it, and decides the car again on the plate the correction answered
    (live.js); typed fresh, ED12345 is a green plate's province left out (ED-12345 the army's)."""
    if as_ticket(text) is not None:
        raise ApiError(
            422,
            "ticket_not_a_plate",
            f"{text!r} stands for a car with no plate (its ticket), not a plate",
            "type the plate on the car; a car with no plate gets its ticket at the entrance (无牌车); "
            "a record decided on a ticket is corrected back to that ticket only",
        )
    try:
        return plate_value(text, "plate")
    except ProvinceLeftOut as exc:
        if event_id is not None and db.execute(_RECORD_PLATE, {"event": event_id}).fetchone()[0] == exc.plate:
            return exc.plate
        raise ApiError(422, "invalid_plate", str(exc), exc.fix, data=exc.data) from exc
    except RowError as exc:
        fix = "type the plate as it is on the car, e.g. 豫A12345"
        raise ApiError(422, "invalid_plate", str(exc), fix) from exc
