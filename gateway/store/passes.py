"""Visitor and contractor passes: registered at the booth, admitted by the decision core.

A pass gets a `qr` credential (a random token printed as a QR code) and, when the visitor drives,
a `plate` credential without a vehicle row: the core then admits the plate as a visitor for the
pass's window (Billing.VISITOR), counted and billed as the pass's vehicle class. The people in a
visitor's vehicle (the driver first) are kept in pass_people. Phone and ID numbers, the visitor's
and theirs, are kept masked plus a keyed hash only; an ID number with the kind of document it is
read from (`id_kind`: a resident ID card, a passport, a permit), which its hash includes.
"""

from __future__ import annotations

import secrets as tokens
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args

from gateway.config.models import VisitorField
from gateway.core.decide import registered_at
from gateway.core.windows import ClosedPeriod, Validity, within
from gateway.errors import Conflict, NotFound, Refused
from gateway.privacy import IdKind, Secrets, mask_name
from gateway.store.audit import audit, done_already, transaction
from gateway.store.hashes import hash_in
from gateway.store.lookup import PASS_BLOCKED, PASS_VEHICLE_BLOCKED, holder_subject
from gateway.store.outbox import enqueue
from gateway.store.pass_in_use import current_pass, ends_after, in_use, stored_validity
from gateway.store.record import gone_out
from gateway.store.units import host_units
from gateway.timefmt import local_iso, to_db
from gateway.typed import typed

PassKind = Literal["visitor", "contractor"]
VehicleClass = Literal["car", "motorcycle", "bicycle"]
# What a closed-management period may ask a visitor for (config: visitor_fields).
FIELDS: tuple[str, ...] = get_args(VisitorField)


@dataclass(frozen=True, slots=True)
class Occupant:
    """One person in a visitor's vehicle, as the guard typed them; stored masked and hashed."""

    name: str
    phone: str = ""
    id_number: str = ""
    id_kind: IdKind = "resident_id"


@dataclass(frozen=True, slots=True)
class NewPass:
    kind: PassKind
    name: str
    valid_from: datetime
    valid_to: datetime
    phone: str = ""
    id_number: str = ""
    id_kind: IdKind = "resident_id"  # any kind gives the id_number closed management asks for
    host_building: str = ""
    host_unit: str = ""
    company: str = ""
    destination: str = ""
    reason: str = ""
    passengers: int | None = None  # None: not asked
    plate: str | None = None  # normalized
    hours: tuple[str, ...] = ()
    vehicle_class: VehicleClass = "car"
    occupants: tuple[Occupant, ...] = ()  # the driver first

    def registered_fields(self) -> frozenset[str]:
        given = {
            "id_number": bool(self.id_number),
            "phone": bool(self.phone),
            "destination": bool(self.destination),
            "reason": bool(self.reason),
            "host_building": bool(self.host_building),
            "host_unit": bool(self.host_unit),
            "passengers": self.passengers is not None,
            # A visitor on foot has nobody to list; one with a vehicle lists at least the driver.
            # Given on foot, it holds at the doors only: a car on the QR of a pass without a plate
            # carries people nobody registered, and a vehicle lane counts them missing (decide.py).
            "occupants": self.plate is None or bool(self.occupants),
        }
        return frozenset(f for f, ok in given.items() if ok)


_COLUMNS = f"""p.id, p.kind, p.name, p.phone_masked, p.id_masked, p.id_kind, p.host_building, p.host_unit,
    p.company, p.destination, p.reason, p.passengers, p.plate, p.valid_from, p.valid_to, p.hours,
    p.registered_fields, p.created_at, p.created_by, p.checked_out_at, p.vehicle_class, p.ref,
    {PASS_BLOCKED} AS blocked, {PASS_VEHICLE_BLOCKED} AS vehicle_blocked,
    (SELECT value FROM credentials c WHERE c.pass_id = p.id AND c.kind = 'qr') AS qr,
    coalesce((SELECT s.people FROM presence s WHERE s.subject = p.kind || ':' || p.id AND s.inside = 1), 0)
        AS inside"""
# The passes not checked out whose holder (or one of its party) is recorded inside on foot, through
# the few people inside (presence_inside); list_passes keeps those whose window has ended.
_INSIDE = f"""SELECT {_COLUMNS} FROM presence s INDEXED BY presence_inside
    JOIN passes p ON p.id = CAST(substr(s.subject, instr(s.subject, ':') + 1) AS INTEGER)
    WHERE s.inside = 1 AND s.subject = p.kind || ':' || p.id AND p.kind = ? AND p.checked_out_at IS NULL
    ORDER BY p.id DESC"""


def create_pass(conn: sqlite3.Connection, keys: Secrets, p: NewPass, at: datetime, actor: str) -> int:
    """Store the pass, its QR and plate credentials, the upstream record and the audit row."""
    with transaction(conn):
        cur = conn.execute(
            """INSERT INTO passes (kind, name, phone_masked, phone_hash, id_masked, id_hash, id_kind,
                   host_building, host_unit, company, destination, reason, passengers, plate,
                   valid_from, valid_to, hours, registered_fields, created_at, created_by,
                   vehicle_class)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                p.kind,
                p.name,
                *keys.kept_phone(p.phone),
                *keys.kept_id(p.id_number, p.id_kind),
                p.id_kind,
                p.host_building,
                p.host_unit,
                p.company,
                p.destination,
                p.reason,
                p.passengers if p.passengers is not None else 1,
                p.plate,
                to_db(p.valid_from),
                to_db(p.valid_to),
                ",".join(p.hours),
                ",".join(sorted(p.registered_fields())),
                to_db(at),
                actor,
                p.vehicle_class,
            ),
        )
        pass_id = int(cur.lastrowid or 0)
        _store_people(conn, keys, pass_id, p.occupants)
        window = (to_db(p.valid_from), to_db(p.valid_to), ",".join(p.hours))
        conn.execute(
            "INSERT INTO credentials (kind, value, pass_id, valid_from, valid_to, hours) "
            "VALUES ('qr', ?, ?, ?, ?, ?)",
            (tokens.token_urlsafe(12), pass_id, *window),
        )
        if p.plate:
            _plate_credential(conn, pass_id, p.plate, window, at)
        row = _get(conn, pass_id)
        enqueue(conn, "pass", {"op": "created", "at": at.isoformat(), "pass": upstream(row, at)}, at)
        audit(
            conn,
            at,
            actor,
            f"{p.kind}.register",
            f"pass:{pass_id}",
            f"{mask_name(p.name)} {p.host_building}{p.host_unit} plate={p.plate or '-'}"
            + (f" occupants={len(p.occupants)}" if p.occupants else ""),
        )
    return pass_id


def _store_people(
    conn: sqlite3.Connection, keys: Secrets, pass_id: int, people: tuple[Occupant, ...]
) -> None:
    conn.executemany(
        """INSERT INTO pass_people (pass_id, position, name, phone_masked, phone_hash, id_masked, id_hash,
               id_kind)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            (
                pass_id,
                position,
                o.name,
                *keys.kept_phone(o.phone),
                *keys.kept_id(o.id_number, o.id_kind),
                o.id_kind,
            )
            for position, o in enumerate(people)
        ),
    )


def _plate_credential(
    conn: sqlite3.Connection, pass_id: int, plate: str, window: tuple[str, str, str], at: datetime
) -> None:
    row = conn.execute(
        "SELECT id, resident_id, pass_id, blocked FROM credentials WHERE kind = 'plate' AND value = ?",
        (plate,),
    ).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO credentials (kind, value, pass_id, valid_from, valid_to, hours) "
            "VALUES ('plate', ?, ?, ?, ?, ?)",
            (plate, pass_id, *window),
        )
        return
    cid, resident_id, holder, blocked = row
    if resident_id is not None:
        raise Conflict(
            f"{plate} is a registered resident's vehicle",
            fix="it is admitted without a pass; register the visitor without the plate",
        )
    if blocked:
        raise Refused(
            f"{plate} is blocked",
            fix="an admin can unblock it on the lookup page",
            code="plate_blocked",
            data={"plate": plate},
        )
    # A plate is on one pass at a time. A pass registered again for a visitor here now takes the
    # plate over; one for a later visit must not take it from a pass still in use or booked for an
    # earlier visit. A pass for an earlier visit than the one holding the plate (a visit booked for
    # tomorrow, the car coming today) takes it, as one starting now does: the booked pass still
    # lets the car in once this one is over (lookup.py _visit_of_plate), and gets the plate back
    # when this one is checked out (_plate_back). Compared with now alone, today's pass starting in
    # ten minutes was refused as "the later visit" while tomorrow's held the plate.
    current = current_pass(conn, holder, at)
    if current is not None and window[0] > to_db(max(at, current.valid_from or at)):
        # When it is over, a last night included (06:00, not the midnight stored), in the site's
        # zone (`at` is the booth's now), to the second, as the pages give times: the stored UTC
        # text told a guard at +08:00 a pass ending at 11:50 ends at 03:50.
        until = cast(datetime, current.ends(at.tzinfo)).isoformat(timespec="seconds")  # a pass ends
        raise Conflict(
            f"{plate} is on pass {holder}, valid until {until}",
            fix="register the later visit once that pass has ended or been checked out",
        )
    conn.execute(
        "UPDATE credentials SET pass_id = ?, valid_from = ?, valid_to = ?, hours = ? WHERE id = ?",
        (pass_id, *window, cid),
    )


def _plate_back(conn: sqlite3.Connection, pass_id: int, at: datetime) -> None:
    """A pass checked out hands its plate back to the newest other pass of that plate still in
    use (one registered by mistake over an earlier visitor's must not lock that visitor out), a
    night crew's in its last night included (pass_in_use.py)."""
    rows = conn.execute(
        """SELECT o.valid_from, o.valid_to, o.hours, o.id FROM credentials c
           JOIN passes p ON p.id = c.pass_id
           JOIN passes o ON o.plate = p.plate AND o.id != p.id
           WHERE c.kind = 'plate' AND c.pass_id = ? AND o.checked_out_at IS NULL AND o.valid_to > ?
           ORDER BY o.id DESC""",
        (pass_id, ends_after(at)),
    ).fetchall()
    others = in_use(rows, at, lambda row: stored_validity(*row[:3]))
    if others:
        vfrom, vto, hours, other_id = others[0]
        conn.execute(
            "UPDATE credentials SET pass_id = ?, valid_from = ?, valid_to = ?, hours = ? "
            "WHERE kind = 'plate' AND pass_id = ?",
            (other_id, vfrom, vto, hours, pass_id),
        )


def check_out(conn: sqlite3.Connection, pass_id: int, at: datetime, actor: str) -> dict[str, Any]:
    """The visitor has left (or the contractor's work is over): the pass admits nobody any more."""
    with transaction(conn):
        row = _get(conn, pass_id)
        if row["checked_out_at"]:  # by whom and when: perhaps this guard, his last answer lost
            by = _checked_out_by(conn, pass_id)
            raise done_already(conn, f"pass {pass_id} was checked out", by, row["checked_out_at"], actor, at)
        conn.execute("UPDATE passes SET checked_out_at = ? WHERE id = ?", (to_db(at), pass_id))
        gone_out(conn, holder_subject(row["kind"], pass_id), at)
        _plate_back(conn, pass_id, at)
        row = _get(conn, pass_id)
        enqueue(conn, "pass", {"op": "checked_out", "at": at.isoformat(), "pass": upstream(row, at)}, at)
        audit(conn, at, actor, f"{row['kind']}.check_out", f"pass:{pass_id}", mask_name(row["name"]))
    return row


def extend(
    conn: sqlite3.Connection, pass_id: int, valid_to: datetime, at: datetime, actor: str
) -> dict[str, Any]:
    """The same pass, its QR and plate, given a later end (延期): a crew's job runs on. Those of its
    party inside on foot stay inside on it and walk out on the QR they walked in on: on a new pass
    each exit was one with no entry record, and the old pass kept them inside for a week (Review 66
    E2). Not a pass checked out (issue a new one), nor one the centre sent down (its next snapshot
    would put the old end back: the centre extends it). The same end again (a retry after a lost
    answer) answers the pass as it is."""
    with transaction(conn):
        row = _get(conn, pass_id)
        if row["checked_out_at"]:
            raise Conflict(f"pass {pass_id} was checked out", fix="issue a new pass", code="pass_ended")
        if row["ref"] is not None:
            raise Conflict(
                f"pass {pass_id} is the central server's ({row['ref']})",
                fix="extend it at the property office's system: it sends the new end down",
                code="central_pass",
            )
        end = to_db(valid_to)
        if end == row["valid_to"]:
            return row
        if end < row["valid_to"]:
            until = local_iso(row["valid_to"], at.tzinfo)
            raise Refused(
                f"valid_to: pass {pass_id} already runs to {until}",
                fix="give a later end; to end the pass now, check it out",
                code="invalid_pass",
                data={"valid_to": until},
            )
        was = local_iso(row["valid_to"], at.tzinfo)
        conn.execute("UPDATE passes SET valid_to = ? WHERE id = ?", (end, pass_id))
        # Its QR, and its plate where the plate is still this pass's (not handed to a later visit).
        conn.execute("UPDATE credentials SET valid_to = ? WHERE pass_id = ?", (end, pass_id))
        row = _get(conn, pass_id)
        enqueue(conn, "pass", {"op": "extended", "at": at.isoformat(), "pass": upstream(row, at)}, at)
        until = local_iso(end, at.tzinfo)
        audit(
            conn,
            at,
            actor,
            f"{row['kind']}.extend",
            f"pass:{pass_id}",
            f"{mask_name(row['name'])} {was} -> {until}",
        )
    return row


def reopen(conn: sqlite3.Connection, pass_id: int, at: datetime, actor: str) -> None:
    """A pass the booth ended (checked out) open again, inside the caller's transaction: the centre
    extended it, told of the check-out (gateway/sync/apply.py). Sent up as `"op": "reopened"`, the
    pass as it now is: else the centre's last word on it stayed `checked_out` while its QR admitted
    again (Review K)."""
    conn.execute("UPDATE passes SET checked_out_at = NULL WHERE id = ?", (pass_id,))
    row = _get(conn, pass_id)
    enqueue(conn, "pass", {"op": "reopened", "at": at.isoformat(), "pass": upstream(row, at)}, at)
    until = local_iso(row["valid_to"], at.tzinfo)
    audit(conn, at, actor, f"{row['kind']}.reopen", f"pass:{pass_id}", f"{mask_name(row['name'])} to {until}")


def _checked_out_by(conn: sqlite3.Connection, pass_id: int) -> str | None:
    """Who checked the pass out: its check_out audit row's actor (a pass is checked out once). By
    the target alone, never by the pass's time: NTP re-dates checked_out_at (store/redate.py), never
    the audit row. Newest first, so the scan down the ids stops at it. None when the trail no
    longer has it (kept half a year)."""
    row = conn.execute(
        "SELECT actor FROM audit WHERE target = ? AND action GLOB '*.check_out' ORDER BY id DESC LIMIT 1",
        (f"pass:{pass_id}",),
    ).fetchone()
    return str(row[0]) if row else None


def get_pass(conn: sqlite3.Connection, pass_id: int) -> dict[str, Any]:
    return _get(conn, pass_id)


def _get(conn: sqlite3.Connection, pass_id: int) -> dict[str, Any]:
    cur = conn.execute(f"SELECT {_COLUMNS} FROM passes p WHERE p.id = ?", (pass_id,))
    rows = _with_people(conn, _dicts(cur))
    if not rows:
        raise NotFound(f"no pass {pass_id}", fix="look the visitor up on the visitors page")
    return rows[0]


def pass_by_token(conn: sqlite3.Connection, token: str) -> dict[str, Any]:
    """The pass whose QR content was scanned or typed: typed full-width (a tablet in 全角 mode) it
    is its ASCII self, as the lane's canonical("qr") reads it."""
    row = conn.execute(
        "SELECT pass_id FROM credentials WHERE kind = 'qr' AND value = ?", (typed(token),)
    ).fetchone()
    if row is None or row[0] is None:
        raise NotFound("no pass has this QR code", fix="check the code, or look the visitor up by phone")
    return _get(conn, row[0])


def list_passes(
    conn: sqlite3.Connection,
    kind: PassKind,
    now: datetime,
    current: bool,
    limit: int | None,
    seen_leaving: bool = True,
) -> list[dict[str, Any]]:
    """Newest first; `current`: the passes current_passes lists. `limit` None: every one."""
    if current:
        return current_passes(conn, kind, now, limit, seen_leaving).passes
    cur = conn.execute(
        f"SELECT {_COLUMNS} FROM passes p WHERE p.kind = ? ORDER BY p.id DESC LIMIT ?",
        # SQLite reads a negative LIMIT as none.
        (kind, -1 if limit is None else limit),
    )
    return _with_people(conn, _dicts(cur))


def count_passes(conn: sqlite3.Connection, kind: PassKind) -> int:
    """How many passes of `kind` are kept, current or not (list_passes with `current` False)."""
    return int(conn.execute("SELECT count(*) FROM passes WHERE kind = ?", (kind,)).fetchone()[0])


@dataclass(frozen=True, slots=True)
class PassList:
    """The passes a list shows, and how many it holds in all (more where its limit cut it)."""

    passes: list[dict[str, Any]]
    total: int


def current_passes(
    conn: sqlite3.Connection,
    kind: PassKind,
    now: datetime,
    limit: int | None,
    seen_leaving: bool = True,
    wanted: Callable[[dict[str, Any]], bool] | None = None,
) -> PassList:
    """Passes not checked out whose window has not ended (the night of its last day still running
    counts, as at the door: Validity), newest first, after those whose window has ended while
    someone on them is still inside on foot (overstaying: the guard goes and finds them), each
    row's `inside` the people on it inside now. Only a window ended within OVERSTAY_LISTED is listed
    so, and with a `limit`, only in the places the current passes leave: a current pass is never cut
    for an overstaying one. `seen_leaving`: the site has an exit on foot, where people are seen
    leaving; without one everyone who walked in stays recorded inside, and no pass is listed for it.
    `wanted`: those a guard looks for only (pass_search.py), before the limit."""
    # Those whose last night may still run are read; the door's rule keeps those in use (pass_in_use.py).
    cur = conn.execute(
        f"""SELECT {_COLUMNS} FROM passes p WHERE p.kind = ? AND p.checked_out_at IS NULL
            AND p.valid_to > ? ORDER BY p.id DESC""",
        (kind, ends_after(now)),
    )
    rows = [r for r in in_use(_dicts(cur), now, _validity) if wanted is None or wanted(r)]
    over: list[dict[str, Any]] = []
    if seen_leaving:
        # Those who left unseen (behind a resident, by a door's exit button, the car gate) stay
        # recorded inside for good: only a window ended within OVERSTAY_LISTED is listed, and only
        # in the places the limit leaves after the current passes, so that a visitor registered
        # now is always in the answer (review 63na).
        since = now - OVERSTAY_LISTED
        over = [
            r
            for r in _dicts(conn.execute(_INSIDE, (kind,)))
            if overstaying(r, now) and not overstaying(r, since) and (wanted is None or wanted(r))
        ]
    total = len(over) + len(rows)
    rows = rows[:limit]
    rows = over[: None if limit is None else limit - len(rows)] + rows
    return PassList(_with_people(conn, rows), total)


# How long after its window ended a pass someone on it is still recorded inside on is listed first
# among the current passes (list_passes): a week, past the weekend a guard may not have checked.
OVERSTAY_LISTED = timedelta(days=7)


def overstaying(row: dict[str, Any], now: datetime) -> bool:
    """Whether a pass's window has ended (its last night included) while someone on it is still
    recorded inside on foot, the pass not checked out."""
    return bool(row["inside"]) and not row["checked_out_at"] and _validity(row).expired(now)


def host_unknown(conn: sqlite3.Connection, building: str, unit: str, at: datetime) -> bool:
    """Whether a pass's host names a place where no resident lives at `at` (when the visit begins:
    a household whose lease has ended has moved out, one whose lease has begun by then is there), on
    a register that holds residents (one never imported tells a unit from a typo no better than a
    guard): the building and unit as the register or the pages write them, or as guards type them
    (units.host_units: 三栋 / 二单元, b3 for B3, villa 18号 for 18, the room after the unit, 2单元301
    or 2-301, the flat whole in one field, 3-2 or A座1单元). The field is 单元/房号: a room typed in
    it (1201) must be a resident's room in that building, where the register records rooms there
    (without them a room cannot be told from a unit, and is taken); a unit typed as one (9单元) must
    be a resident's. A building alone must be one where someone lives; a unit with no building names
    no place. A pass for no host (the management office) names none. Where in doubt it is taken: a
    real visitor refused at the gate costs more than a mistyped unit registered."""
    if not (building or unit) or conn.execute("SELECT 1 FROM residents LIMIT 1").fetchone() is None:
        return False
    # The same reading as the materials carried out on the pass and its stay's validation take.
    return not host_units(conn, building, unit, at)


def find_returning(
    conn: sqlite3.Connection, keys: Secrets, phone: str, id_number: str, id_kind: IdKind = "resident_id"
) -> dict[str, Any] | None:
    """The latest pass of a visitor who came before, found by the keyed hash of phone or ID (of a
    document of `id_kind`: a passport's number never finds a pass registered with an ID card's)."""
    hashes = []
    if phone:
        hashes.append(("phone_hash", keys.phone_digests(phone)))
    if id_number:
        hashes.append(("id_hash", [keys.id_digest(id_kind, id_number)]))
    for column, values in hashes:
        cur = conn.execute(
            f"SELECT {_COLUMNS} FROM passes p WHERE {hash_in(f'p.{column}', len(values))} "
            "ORDER BY p.id DESC LIMIT 1",
            values,
        )
        rows = _with_people(conn, _dicts(cur))
        if rows:
            return rows[0]
    return None


def state_of(row: dict[str, Any], now: datetime, closed: ClosedPeriod | None = None) -> str:
    """What the guard is told of a pass: as the door decides its QR (_door_state), and where the door
    lets its visitor in while its plate is blocked, vehicle_blocked (the car lanes refuse its car,
    on its QR too: on foot only). A pass the door refuses shows the door's reason, never "on foot
    only": the car's block is then the row's own `vehicle_blocked`, shown beside it."""
    state = _door_state(row, now, closed)
    return "vehicle_blocked" if state == "active" and row["vehicle_blocked"] else state


def _door_state(row: dict[str, Any], now: datetime, closed: ClosedPeriod | None = None) -> str:
    """active, outside_hours, upcoming, expired, checked_out, blocked or closed_management (the
    closed-management period in force now keeps the holder out): what the pedestrian door decides
    on the pass's QR now. A block on its plate is the car's and keeps nobody out on foot."""
    if row["checked_out_at"]:
        return "checked_out"
    if row["blocked"]:
        return "blocked"
    validity = _validity(row)
    if validity.not_yet(now):
        return "upcoming"
    if validity.expired(now):
        return "expired"
    if not within(validity.windows, now):
        return "outside_hours"
    # As the door asks it: not for the people in a car that is not there (decide.py registered_at).
    given = [f for f in row["registered_fields"].split(",") if f]
    fields = registered_at(given, "pedestrian", without_plate=not row["plate"])
    return "closed_management" if closed is not None and closed.keeps_out(row["kind"], fields) else "active"


def _validity(row: dict[str, Any]) -> Validity:
    """A stored pass's dates and hours, as the door judges its QR."""
    return stored_validity(row["valid_from"], row["valid_to"], row["hours"])


def upstream(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A pass as the central server gets it: masked name, phone and ID; no hashes, no QR token. Its
    times in the site's offset, which `now` (the gateway's clock) has, as every record's: sent as
    stored (UTC), a check-out at 07:30 on the 4th was read as the 3rd by a centre filing by date.
    `id` is the gateway's (an access record's holder names it), `ref` the centre's for a pass it
    sent down (None for one registered at the booth): a central pass never goes up as created, so
    its check-out named by `id` alone was a pass the centre had never heard of."""
    return {
        "id": row["id"],
        "ref": row["ref"],
        "kind": row["kind"],
        "name": mask_name(row["name"]),
        "phone": row["phone_masked"],
        "id_number": row["id_masked"],
        "id_kind": id_kind_of(row),
        "host_building": row["host_building"],
        "host_unit": row["host_unit"],
        "company": row["company"],
        "destination": row["destination"],
        "reason": row["reason"],
        "passengers": row["passengers"],
        "occupants": [
            {
                "name": mask_name(o["name"]),
                "phone": o["phone_masked"],
                "id_number": o["id_masked"],
                "id_kind": id_kind_of(o),
            }
            for o in row["occupants"]
        ],
        "plate": row["plate"],
        "vehicle_class": row["vehicle_class"],
        "valid_from": local_iso(row["valid_from"], now.tzinfo),
        "valid_to": local_iso(row["valid_to"], now.tzinfo),
        "hours": row["hours"],
        "registered_fields": row["registered_fields"],
        "created_by": row["created_by"],
        "checked_out_at": local_iso(row["checked_out_at"], now.tzinfo),
    }


def id_kind_of(row: dict[str, Any]) -> IdKind | Literal[""]:
    """The kind of document a pass's (or a person's in its car) ID number is from; "" without one."""
    return cast(IdKind, row["id_kind"]) if row["id_masked"] else ""


def _with_people(conn: sqlite3.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pass row gets `occupants`: the people in its vehicle, the driver first (masked numbers)."""
    for row in rows:
        cur = conn.execute(
            """SELECT name, phone_masked, id_masked, id_kind FROM pass_people
               WHERE pass_id = ? ORDER BY position""",
            (row["id"],),
        )
        row["occupants"] = _dicts(cur)
    return rows


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]
