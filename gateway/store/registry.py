"""Residents, vehicles, cards and slots: lookup for guards, changes by admins, blocking at once.

Every change writes its audit row and its upstream record in the same transaction; the central
server stays the owner of the register and reconciles local changes from the `registry` records.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from gateway.core.card_forms import TenDigits
from gateway.core.credentials import BadCredential, canonical
from gateway.errors import Conflict, NotFound, Refused
from gateway.events import sent_value
from gateway.privacy import Secrets, mask_card, mask_name, mask_phone, normalize_number
from gateway.store.audit import audit, transaction
from gateway.store.card_forms import registered_cards_named
from gateway.store.hashes import hash_in
from gateway.store.lookup import holder_subject
from gateway.store.outbox import enqueue
from gateway.store.parking import handover, off_slots_not_theirs
from gateway.store.renewals import renewed_while_parked
from gateway.store.units import parse_flat, registered_as, room_key
from gateway.timefmt import from_db, last_day, to_db
from gateway.typed import typed, typed_text
from plates.grammar import is_plate, normalize

_RESIDENT = """
SELECT id, ref, building, unit, room, name, phone_masked, valid_from, valid_to, blocked
FROM residents"""
UNIT_MAX = 300  # residents of one building and unit a lookup lists in full; past it, it says so
# Other than printable ASCII and the CJK ideographs U+4E00-U+9FFF: a value without such a character
# (nearly every name, ref and building) is its own typed() form, NFKC changing none of those.
_NOT_PLAIN = f"*[^ -~{chr(0x4E00)}-{chr(0x9FFF)}]*"


def _as_typed(column: str) -> str:
    """SQL for `column` read as search() reads the query (typed: Ａ座 is A座, （ is '('), where
    search() registered the function. An import or the central server stores names and buildings
    as the office wrote them (王芳（租户）, Ｔｏｍ李); compared as stored, the query typed as the
    page shows them missed them. Only the few values with other characters go to Python: one
    call per row made a lookup of 20,000 residents take 130 ms, not 9; GLOB, in C and without
    holding the GIL from the decision worker, takes it to about 37."""
    return f"(CASE WHEN {column} GLOB '{_NOT_PLAIN}' THEN as_typed({column}) ELSE {column} END)"


@dataclass(frozen=True, slots=True)
class Found:
    """The residents a lookup shows, and how many its query names in all (more when it was cut)."""

    residents: list[dict[str, Any]]
    total: int


# A phone number as people write it: 139 1234 5678, +86-139..., (+86)139... (a WeChat contact card;
# （+86） typed is its ASCII self), 139·1234·5678 or 139.1234.5678.
_PHONE_AS_WRITTEN = re.compile(r"[\d\s+\-().·]+")


def search(
    conn: sqlite3.Connection, keys: Secrets, q: str, limit: int = 20, ten_digits: TenDigits = "decimal"
) -> Found:
    """Residents a guard's query names: plate, card number (any number a reader giving it finds
    the card by, the Wiegand one printed on it too; `ten_digits` as for blocking), phone, name,
    ref, or building/unit.

    The first `limit` of them, but all of a building and unit typed whole (3栋2单元), up to
    UNIT_MAX: a guard who looks a unit up wants all of it, and a unit rarely has ~100 residents."""
    q = typed(q)  # a phone or card number typed full-width (１３９…) is its digits
    ids: dict[int, None] = {}  # in the order found; a surname may name thousands
    # For _as_typed: the register's text compared as the query is read.
    conn.create_function("as_typed", 1, typed, deterministic=True)

    def add(sql: str, *args: Any) -> None:
        for (rid,) in conn.execute(sql, args):
            ids.setdefault(rid)

    plate = normalize(q)
    if is_plate(plate):
        add(
            "SELECT resident_id FROM credentials WHERE kind = 'plate' AND value = ? "
            "AND resident_id IS NOT NULL",
            plate,
        )
    with suppress(BadCredential):  # as blocking it finds it (054:15694 finds 0372653390)
        for card in registered_cards_named(conn, canonical("card", q), ten_digits):
            add(
                "SELECT resident_id FROM credentials WHERE kind = 'card' AND value = ? "
                "AND resident_id IS NOT NULL",
                card,
            )
    if len(normalize_number(q)) >= 7 and _PHONE_AS_WRITTEN.fullmatch(q):
        digests = keys.phone_digests(q)
        add(f"SELECT id FROM residents WHERE {hash_in('phone_hash', len(digests))}", *digests)
    add(f"SELECT id FROM residents WHERE {_as_typed('ref')} = ?", q)
    if q:
        # A unit typed whole comes first and in full, before 13栋2单元's that "%3栋2单元%" finds too.
        add(f"SELECT id FROM residents WHERE {_as_typed('building || unit')} = ? ORDER BY id", q)
        if (flat := parse_flat(q)) is not None:
            # Typed as the pages name it (7栋4单元) for a unit the centre sent bare (7 / 4); with a
            # room after it (7栋4单元1201), that flat's residents only, the room compared as
            # room_key gives it (１２０１, 1201室 are 1201), in Python: a unit's few residents.
            for spelling in registered_as(conn, *flat.unit):
                rows = conn.execute(
                    "SELECT id, room FROM residents WHERE building = ? AND unit = ? ORDER BY id", spelling
                )
                for rid, room in rows:
                    if flat.room is None or room_key(room or "") == flat.room:
                        ids.setdefault(rid)
        limit = max(limit, min(len(ids), UNIT_MAX))
        like = f"%{q}%"
        # Every match's id (cheap), so the page can say how many it left out.
        add(
            f"SELECT id FROM residents WHERE {_as_typed('name')} LIKE ? "
            f"OR {_as_typed('building || unit || room')} LIKE ? ORDER BY id",
            like,
            like,
        )
    return Found([resident_detail(conn, rid) for rid in list(ids)[:limit]], len(ids))


def resident_detail(conn: sqlite3.Connection, rid: int) -> dict[str, Any]:
    cur = conn.execute(f"{_RESIDENT} WHERE id = ?", (rid,))
    rows = _dicts(cur)
    if not rows:
        raise NotFound(f"no resident {rid}", fix="search for the resident on the lookup page")
    resident = rows[0]
    resident["blocked"] = bool(resident["blocked"])
    resident["vehicles"] = _dicts(
        conn.execute(
            "SELECT id, plate, class, monthly_until FROM vehicles WHERE resident_id = ? ORDER BY id",
            (rid,),
        )
    )
    resident["credentials"] = [
        {**c, "blocked": bool(c["blocked"])}
        for c in _dicts(
            conn.execute(
                "SELECT id, kind, value, vehicle_id, valid_from, valid_to, hours, blocked "
                "FROM credentials WHERE resident_id = ? ORDER BY kind, id",
                (rid,),
            )
        )
    ]
    resident["slots"] = _dicts(
        conn.execute(
            """SELECT s.id, s.zone, s.number,
                  (SELECT group_concat(v.plate, ' ') FROM slot_vehicles sv
                   JOIN vehicles v ON v.id = sv.vehicle_id WHERE sv.slot_id = s.id) AS plates
           FROM slots s WHERE s.resident_id = ? ORDER BY s.id""",
            (rid,),
        )
    )
    return resident


def masked(resident: dict[str, Any]) -> dict[str, Any]:
    """What a guard sees: the name masked, card numbers with their last four characters only."""
    creds = [
        {**c, "value": mask_card(c["value"]) if c["kind"] == "card" else c["value"]}
        for c in resident["credentials"]
    ]
    return {**resident, "name": mask_name(resident["name"]), "credentials": creds}


# A credential with the keys its holder has at the centre: the resident's ref, or the pass's (null
# for a pass registered at the booth), and whether it is blocked now.
_CREDENTIAL = """SELECT c.id, c.resident_id, c.pass_id, c.kind, c.value, r.ref, p.ref, c.blocked
    FROM credentials c LEFT JOIN residents r ON r.id = c.resident_id
    LEFT JOIN passes p ON p.id = c.pass_id WHERE """


def set_blocked(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    credential: int | tuple[str, str],
    blocked: bool,
    reason: str,
    *,
    unknown_vehicle: Literal["refuse", "temporary"] = "temporary",
    ten_digits: TenDigits = "decimal",
) -> dict[str, Any]:
    """Block (or unblock) a card or plate at once: the next presentation is refused.

    `credential` is its id, or (kind, value) as typed at the booth. `unknown_vehicle` is the site's
    policy for a car not on the register (policy.unknown_vehicle), which says what an unregistered
    plate typed here does at the lane. A card typed is the registered card a reader giving that
    number finds (its Wiegand number, printed on the card too, is the card registered as printed:
    _typed_card); `ten_digits` is how the register's 10-digit numbers read
    (card_forms.register_ten_digits).

    The `registry` record names the credential's holder by the key the centre knows it by: the
    resident's `ref`, or the pass's (`pass_ref`). A QR's value never leaves the gateway, and the
    pass's row id is the gateway's own: without its ref, the block of a lost printout of a pass
    the centre sent down named nothing the centre could tell it by.

    One blocked already (or not blocked, to unblock) is 409 `already_done`, nothing written: pressed
    on two tablets, or on a lookup page drawn before, it is on record once (_done_already).
    """
    with transaction(conn):
        if isinstance(credential, int):
            row = conn.execute(_CREDENTIAL + "c.id = ?", (credential,)).fetchone()
            if row is None:
                raise NotFound(
                    f"no credential {credential} is registered",
                    fix="it was deleted since: look the resident up again on the lookup page",
                )
        else:
            typed = _typed_card(conn, credential, blocked, ten_digits)
            row = conn.execute(_CREDENTIAL + "c.kind = ? AND c.value = ?", typed).fetchone()
            if row is None:
                raise _not_registered(*credential, blocked, unknown_vehicle)
        cid, resident_id, pass_id, kind, value, resident_ref, pass_ref, was_blocked = row
        if bool(was_blocked) == blocked:
            raise _done_already(kind, value, blocked)
        conn.execute("UPDATE credentials SET blocked = ? WHERE id = ?", (int(blocked), cid))
        action = "block" if blocked else "unblock"
        enqueue(
            conn,
            "registry",
            {
                "op": action,
                "entity": "credential",
                "id": cid,
                "kind": kind,
                "value": sent_value(kind, value),
                "resident": resident_ref,
                "pass_id": pass_id,
                "pass_ref": pass_ref,
                "at": at.isoformat(),
            },
            at,
        )
        audit(conn, at, actor, f"credential.{action}", f"{kind}:{_shown(kind, value)}", reason)
    return {
        "id": cid,
        "kind": kind,
        "blocked": blocked,
        "holder": "resident" if resident_id is not None else "pass",
    }


def _typed_card(
    conn: sqlite3.Connection, credential: tuple[str, str], blocked: bool, ten_digits: TenDigits
) -> tuple[str, str]:
    """A card typed to be blocked (or its block lifted, `blocked` False) as the register holds it,
    found as a reader giving that number finds it (card_forms.registered_cards_named): a lost card
    blocked by its Wiegand number was "not registered, refused already", and kept opening the
    Wiegand lane. A number that names two registered cards (a Wiegand 26 one, 24 bits of the id)
    blocks (or unblocks) neither: the guard is told, and told to do what he asked another way (an
    admin lifting a block was told to block the card)."""
    kind, value = credential
    if kind != "card":
        return credential
    cards = registered_cards_named(conn, value, ten_digits)
    if len(cards) > 1:
        action = "block" if blocked else "unblock"
        raise Conflict(
            f"card {_shown(kind, value)} is {len(cards)} registered cards to a reader giving that "
            f"number ({', '.join(_shown(kind, c) for c in cards)}): it carries too few bits of the "
            f"card's id to tell them apart; none was {action}ed",
            fix=f"type the 10 digits printed on the card, or {action} it on its resident's page",
            code="card_ambiguous",
            data={"cards": len(cards)},
        )
    return (kind, cards[0]) if cards else credential


def _done_already(kind: str, value: str, blocked: bool) -> Conflict:
    """A block asked for a card, plate or QR blocked already (or lifted from one not blocked): on
    another tablet, or from a lookup page drawn before. Done again, it told the guard 已禁用 as if he
    had done it, and a second audit row and `registry` record told the centre two guards blocked it.
    Its `state` and `kind` say what it is now, for the pages to word it (该卡已是禁用状态): typed
    again on the tablet that blocked it, nobody else did anything, and 已由他人处理 was false."""
    state = "blocked already" if blocked else "not blocked: there is no block to lift"
    return Conflict(
        f"{kind} {_shown(kind, value)} is {state}",
        fix="nothing to do",
        code="already_done",
        data={"state": "blocked" if blocked else "unblocked", "kind": kind},
    )


def _not_registered(
    kind: str, value: str, blocked: bool, unknown_vehicle: Literal["refuse", "temporary"]
) -> NotFound:
    """A card, QR or plate typed to be blocked (or unblocked) that nobody holds. Lifting a block
    on it: there is none to lift (deleted since, or typed wrong). Blocking it: a card or QR nobody
    holds is refused at every reader already. A plate nobody holds is let in as a temporary car
    where the site's policy admits unregistered cars: the guard must not be told it is kept out,
    nor told of a card, but how to keep that car out (gateway/web/i18n.py words
    `unregistered_plate`)."""
    wanted = f"no {kind} {_shown(kind, value)} is registered"
    if not blocked:
        return NotFound(
            f"{wanted}: there is no block to lift",
            fix=f"check the {kind} as typed: one deleted since took its block with it, and one never "
            "registered was never blocked",
        )
    if kind == "plate" and unknown_vehicle == "temporary":
        return NotFound(
            wanted,
            fix="an unregistered car comes in as a temporary one here "
            '(policy.unknown_vehicle = "temporary"), so there is nothing to block: to keep this car '
            "out, close the car entrance when it comes, and call the police for a stolen car",
            code="unregistered_plate",
            data={"plate": value},
        )
    already = {
        "card": "an unknown card is refused already; check the number",
        "qr": "an unknown QR code is refused already; check the code as typed",
        "plate": 'an unregistered car is refused already (policy.unknown_vehicle = "refuse"); '
        "check the plate",
    }
    return NotFound(wanted, fix=already[kind])


def record_block(
    conn: sqlite3.Connection, at: datetime, actor: str, what: str, value: str, blocked: bool, reason: str
) -> None:
    """A block set or lifted on a resident (`value` its ref) or a card or plate (by an admin's edit
    or a CSV import), on record and upstream. The caller owns the transaction."""
    enqueue(conn, "registry", audit_block(conn, at, actor, what, value, blocked, reason), at)


def audit_block(
    conn: sqlite3.Connection, at: datetime, actor: str, what: str, value: str, blocked: bool, reason: str
) -> dict[str, Any]:
    """A block set or lifted, on the audit trail; returns the `registry` record that tells the
    centre of it. One the centre set or lifted itself (its entry's `blocked`) goes no further."""
    action = "block" if blocked else "unblock"
    entity = "resident" if what == "resident" else "credential"
    target = f"resident:{value}" if what == "resident" else f"{what}:{_shown(what, value)}"
    audit(conn, at, actor, f"{entity}.{action}", target, reason)
    return {"op": action, "entity": entity, "kind": what, "value": value, "at": at.isoformat()}


def upsert_resident(
    conn: sqlite3.Connection, keys: Secrets, at: datetime, actor: str, data: dict[str, Any]
) -> int:
    """Add a resident, or change the one with this ref (phone kept masked plus its keyed hash).

    Only the columns in `data` are written: one left out keeps what the store has, so an edit on a
    form without a block or period field neither lifts a block nor clears the end of a tenancy."""
    phone = data.pop("phone", None)
    if "name" in data:
        # A name pasted with a zero-width space (WeChat) is stored without it, as a pass's is
        # (gateway/typed.py): kept, it went on to the export and the centre, invisible. Otherwise
        # as typed (typed_text): 王芳（租户） keeps its Chinese brackets, as an import keeps them.
        data["name"] = typed_text(data["name"])
        if not data["name"]:
            raise Refused("name is empty", fix="type the resident's name", code="invalid_value")
    values: dict[str, Any] = {**data, **{k: _db(data[k]) for k in ("valid_from", "valid_to") if k in data}}
    if "blocked" in values:
        values["blocked"] = int(bool(values["blocked"]))
    if phone is not None:
        values["phone_masked"] = mask_phone(phone) if phone else ""
        values["phone_hash"] = keys.digest("phone", phone) if phone else ""
    columns = list(values)
    with transaction(conn):
        was = conn.execute(
            "SELECT blocked, valid_from, valid_to FROM residents WHERE ref = ?", (data["ref"],)
        ).fetchone()
        _whole_change(data["ref"], columns, was is None)
        differs = _differs(conn, data["ref"], values) if was is not None else columns
        # An edit may send one end of the period: the other is the stored one.
        _check_period(
            values.get("valid_from", was and was[1]),
            values.get("valid_to", was and was[2]),
        )
        if was is None:
            conn.execute(
                f"INSERT INTO residents ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                tuple(values.values()),
            )
        elif differs:  # an UPDATE: an upsert's INSERT row is refused for the NOT NULL columns left out
            conn.execute(
                f"UPDATE residents SET {', '.join(f'{c} = ?' for c in differs)} WHERE ref = ?",
                (*(values[c] for c in differs), data["ref"]),
            )
        rid = int(conn.execute("SELECT id FROM residents WHERE ref = ?", (data["ref"],)).fetchone()[0])
        # A block alone is the block's record (record_block): an upsert naming only the ref beside
        # it went upstream and into the audit as a second, empty change.
        if set(differs) - {"blocked"}:
            sent = _resident_changes(data, values, at)
            _changed(conn, at, actor, "upsert", "resident", rid, data["ref"], ref=data["ref"], **sent)
        if "blocked" in values and bool(values["blocked"]) != bool(was and was[0]):
            record_block(conn, at, actor, "resident", data["ref"], bool(values["blocked"]), "by admin")
    return rid


# What every resident has (residents' NOT NULL columns without a default): a change by ref keeps them
# as stored when it leaves them out, a new resident is refused without them.
RESIDENT_NEEDS = ("building", "unit", "name")


class ResidentIncomplete(Refused):
    """A new resident (a ref not registered) without a field every resident has: 422 naming them."""

    def __init__(self, ref: str, missing: list[str]):
        super().__init__(
            f"{', '.join(missing)}: needed for a new resident ({ref!r} is not registered)",
            fix=f"send {', '.join(RESIDENT_NEEDS)} for a new resident, or the ref of one registered "
            "to change only what the request names (the OpenAPI schema at /openapi.json lists the fields)",
            code="invalid_request",
        )
        self.fields = missing


def _differs(conn: sqlite3.Connection, ref: str, values: dict[str, Any]) -> list[str]:
    """The columns of `values` that change what resident `ref` has stored. None for the same edit
    sent again after its answer was lost: answered as the first was, it is no change to audit or
    send upstream (it was both, an empty change)."""
    names = [c for c in values if c != "ref"]
    stored = conn.execute(f"SELECT {', '.join(names)} FROM residents WHERE ref = ?", (ref,)).fetchone()
    return [c for c, was in zip(names, stored, strict=True) if was != values[c]]


def _whole_change(ref: str, columns: list[str], new: bool) -> None:
    """Refuse a new resident without building, unit or name (the request names them), and a change
    that sets nothing but its ref (else an empty change audited and sent upstream)."""
    missing = [c for c in RESIDENT_NEEDS if c not in columns]
    if new and missing:
        raise ResidentIncomplete(ref, missing)
    if columns == ["ref"]:
        raise Refused(
            f"nothing to change: the request names resident {ref!r} and nothing else",
            fix="send the fields to change with the ref (building, unit, room, name, phone, "
            "valid_from, valid_to or blocked)",
            code="nothing_to_change",
        )


def delete_resident(conn: sqlite3.Connection, at: datetime, actor: str, rid: int) -> None:
    with transaction(conn):
        row = conn.execute("SELECT ref FROM residents WHERE id = ?", (rid,)).fetchone()
        if row is None:
            raise NotFound(f"no resident {rid}", fix="search for the resident on the lookup page")
        # The resident's plate credentials go with the vehicles; cards cascade with the resident.
        with slots_handed_on(conn, at, "SELECT id FROM vehicles WHERE resident_id = ?", (rid,)):
            conn.execute(
                "DELETE FROM credentials WHERE kind = 'plate' AND value IN "
                "(SELECT plate FROM vehicles WHERE resident_id = ?)",
                (rid,),
            )
            conn.execute("DELETE FROM residents WHERE id = ?", (rid,))
        # With their cards gone no exit reader will see them leave: where they were last seen goes
        # too, or they would be counted a person inside on foot for ever.
        conn.execute("DELETE FROM presence WHERE subject = ?", (holder_subject("resident", rid),))
        _changed(conn, at, actor, "delete", "resident", rid, row[0], ref=row[0])


def add_vehicle(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    plate: str,
    resident_id: int,
    vehicle_class: str,
    monthly_until: datetime | None,
) -> int:
    with transaction(conn):
        _resident_exists(conn, resident_id)
        if conn.execute("SELECT 1 FROM vehicles WHERE plate = ?", (plate,)).fetchone():
            raise Conflict(
                f"{plate} is registered already",
                fix="look it up and change that vehicle (PATCH /api/vehicles/{id}), e.g. to renew it",
            )
        cur = conn.execute(
            "INSERT INTO vehicles (plate, class, resident_id, monthly_until) VALUES (?, ?, ?, ?)",
            (plate, vehicle_class, resident_id, _db(monthly_until)),
        )
        vid = int(cur.lastrowid or 0)
        # A plate that came on a visitor pass now belongs to the resident's car.
        conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = ?", (plate,))
        conn.execute(
            "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('plate', ?, ?, ?)",
            (plate, resident_id, vid),
        )
        # Added again while parked (an office renewing by delete and add): its stay names it now.
        renewed_while_parked(conn, at, ":vid", {"vid": vid})
        owner = _ref(conn, resident_id)
        entry = {"plate": plate, "resident": owner, "class": vehicle_class, "monthly_until": monthly_until}
        _changed(conn, at, actor, "add", "vehicle", vid, plate, **_sendable(entry, at))
    return vid


def update_vehicle(
    conn: sqlite3.Connection, at: datetime, actor: str, vid: int, changes: dict[str, Any]
) -> None:
    """Change a vehicle's `class`, paid-up `monthly_until` (a renewal) or `plate` (one typed wrong,
    _correct_plate) in place: it keeps its cards, slot, block and stay, which deleting and adding it
    again would not.

    `monthly_until` None ends the period at `at`: a car parked pays at its exit for the time after
    it, and enters next as a temporary car (`monthly_expired`), as when a period runs out. NULL, as
    an import's empty cell or the central server clear it, would be a car that was never monthly:
    it would enter next as `policy.no_slot` says (a car parked then pays from then on either way,
    schema migration 17). A renewal of a car parked paying since its period ran out stops its
    billing now (renewals.py)."""
    with transaction(conn):
        row = conn.execute("SELECT plate, monthly_until, class FROM vehicles WHERE id = ?", (vid,)).fetchone()
        if row is None:
            raise NotFound(f"no vehicle {vid}", fix="search for the plate on the lookup page")
        ended = "monthly_until" in changes and changes["monthly_until"] is None
        if ended and row[1] is not None:
            changes = {
                **changes,
                "monthly_until": min(datetime.fromisoformat(row[1]), at),
            }  # an ended one stays ended
        plate = changes.get("plate", row[0])
        stored = {"class": row[2], "monthly_until": from_db(row[1])}
        # A value the vehicle has already changes nothing: else an empty change audited and sent
        # upstream (a car's class sent as it is, a period renewed to the day it ends already).
        changes = {k: v for k, v in changes.items() if k != "plate" and v != stored[k]}
        if plate == row[0] and not changes:
            raise Refused(
                f"nothing to change: vehicle {plate} has these values already",
                fix="type the plate as it is on the car, or send a class or monthly period other than "
                "the stored one (the lookup page shows them)",
                code="nothing_to_change",
            )
        label, corrected = row[0], {}
        if plate != row[0]:
            _correct_plate(conn, vid, row[0], plate)
            label, corrected = f"{row[0]} corrected to {plate}", {"new_plate": plate}
        if "monthly_until" in changes:
            label += _period_changed(stored["monthly_until"], changes["monthly_until"], ended, at)
        values = {**changes, **{k: _db(changes[k]) for k in ("monthly_until",) if k in changes}}
        if values:
            conn.execute(
                f"UPDATE vehicles SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
                (*values.values(), vid),
            )
        if "monthly_until" in changes:
            renewed_while_parked(conn, at, ":vid", {"vid": vid})
        sent = {**_sendable(changes, at), **corrected}
        _changed(conn, at, actor, "update", "vehicle", vid, label, plate=row[0], **sent)


def _period_changed(was: datetime | None, now: datetime | None, ended: bool, at: datetime) -> str:
    """A renewal's audit words: the period's last day before and after, in the site's zone (`at`'s),
    "none" for no period, " (ended)" for one ended now: " monthly 2025-03-31 -> 2026-04-07". Without
    them a renewal read as a class change, and which month was sold was nowhere on the audit page
    (gateway/web/audit_words.py words it)."""

    def day(end: datetime | None) -> str:
        return "none" if end is None else last_day(end, at.tzinfo).isoformat()

    return f" monthly {day(was)} -> {day(now)}{' (ended)' if ended else ''}"


def _correct_plate(conn: sqlite3.Connection, vid: int, old: str, new: str) -> None:
    """Vehicle `vid`'s plate typed wrong (`old`) corrected to the one on the car (`new`). What is
    keyed by the car (vehicle:N: its open stay, booth payments not yet applied, charges still owed;
    its cards, slot and block) stays the car's; what names the plate says `new`. Deleting the car
    and adding it again left its stay under the old plate, open for good (it counted inside and
    held a shared space), and the car read as `new` at the exit was one with no entry record.

    The stays and money take the new plate before the credential does: the schema's trigger on the
    credential's value (migration 10) then finds the car parked under `new` and keeps all of it the
    car's (and a stranger's stay under `new`, the same car come in unrecognised, becomes the car's,
    as for a plate registered while parked)."""
    _plate_is_free(conn, vid, new)
    subject = f"vehicle:{vid}"
    for table, still_open in (
        ("stays", "exited_at IS NULL"),
        ("payments", "charge_id IS NULL"),
        ("charges", "settled_at IS NULL"),
    ):
        conn.execute(
            f"UPDATE {table} SET plate = ? WHERE subject = ? AND plate = ? AND {still_open}",
            (new, subject, old),
        )
    conn.execute("UPDATE credentials SET value = ? WHERE kind = 'plate' AND value = ?", (new, old))
    conn.execute("UPDATE vehicles SET plate = ? WHERE id = ?", (new, vid))


def _plate_is_free(conn: sqlite3.Connection, vid: int, plate: str) -> None:
    """Refuse a correction to a plate registered to another vehicle or to a pass: that is another
    car, or this one registered twice, which the admin must sort out first."""
    other = conn.execute("SELECT id FROM vehicles WHERE plate = ? AND id != ?", (plate, vid)).fetchone()
    if other is not None:
        raise Conflict(
            f"{plate} is the plate of vehicle {other[0]}",
            fix=f"check the plate on the car; if vehicle {other[0]} is this car registered twice, "
            f"delete it (DELETE /api/vehicles/{other[0]}) and correct this one again",
        )
    held = conn.execute(
        "SELECT id, pass_id, resident_id FROM credentials "
        "WHERE kind = 'plate' AND value = ? AND vehicle_id IS NOT ?",
        (plate, vid),
    ).fetchone()
    if held is not None:
        holder = f"pass {held[1]}" if held[1] is not None else f"resident {held[2]}"
        raise Conflict(
            f"{plate} is the plate of {holder}",
            fix=f"check the plate on the car; if that registration was this car, delete its plate "
            f"(DELETE /api/credentials/{held[0]}) and correct this one again",
        )


def delete_vehicle(conn: sqlite3.Connection, at: datetime, actor: str, vid: int) -> None:
    with transaction(conn):
        plate = _plate_of(conn, vid)
        if plate is None:
            raise NotFound(f"no vehicle {vid}", fix="search for the plate on the lookup page")
        with slots_handed_on(conn, at, "?", (vid,)):
            conn.execute("DELETE FROM credentials WHERE kind = 'plate' AND value = ?", (plate,))
            conn.execute("DELETE FROM vehicles WHERE id = ?", (vid,))
        _changed(conn, at, actor, "delete", "vehicle", vid, plate, plate=plate)


def add_card(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    card: str,
    resident_id: int,
    vehicle_id: int | None,
    valid_from: datetime | None,
    valid_to: datetime | None,
    hours: str,
    ten_digits: TenDigits = "decimal",
) -> int:
    """A card for a resident. One registered in another form (its 10 digits printed, the Wiegand
    number a reader shows: 0372653390 and 054:15694 are one card) is refused as the same card: both
    stored, a reader giving one form let in one holder and the other form the other, and blocking
    one left the other opening. `ten_digits`: how the register's 10-digit numbers read
    (card_forms.register_ten_digits)."""
    with transaction(conn):
        _resident_exists(conn, resident_id)
        if (
            vehicle_id is not None
            and not conn.execute(
                "SELECT 1 FROM vehicles WHERE id = ? AND resident_id = ?", (vehicle_id, resident_id)
            ).fetchone()
        ):
            raise NotFound(
                f"resident {resident_id} has no vehicle {vehicle_id}",
                fix="add the vehicle first, or leave it out",
            )
        _check_period(_db(valid_from), _db(valid_to))
        if conn.execute("SELECT 1 FROM credentials WHERE kind = 'card' AND value = ?", (card,)).fetchone():
            raise Conflict(
                f"card {mask_card(card)} is registered already",
                fix="delete the old card first if it moves to another resident",
            )
        if named := registered_cards_named(conn, card, ten_digits):
            forms = ", ".join(mask_card(other) for other in named)
            raise Conflict(
                f"card {mask_card(card)} is registered already as {forms}, the same card read another way",
                fix="delete the old card first if it moves to another resident",
            )
        cur = conn.execute(
            "INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to, "
            "hours) VALUES ('card', ?, ?, ?, ?, ?, ?)",
            (card, resident_id, vehicle_id, _db(valid_from), _db(valid_to), hours),
        )
        cid = int(cur.lastrowid or 0)
        entry: dict[str, Any] = {"card": card, "resident": _ref(conn, resident_id)}
        entry |= {"plate": _plate_of(conn, vehicle_id), "valid_from": valid_from, "valid_to": valid_to}
        entry["hours"] = [h for h in hours.split(",") if h]  # a list, as a snapshot's entry has them
        _changed(conn, at, actor, "add", "card", cid, mask_card(card), **_sendable(entry, at))
    return cid


def delete_credential(conn: sqlite3.Connection, at: datetime, actor: str, cid: int) -> None:
    with transaction(conn):
        row = conn.execute("SELECT kind, value, vehicle_id FROM credentials WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"no credential {cid}", fix="search for the resident on the lookup page")
        if row[0] == "plate" and row[2] is not None:
            raise Conflict("a vehicle's plate goes with the vehicle", fix="delete the vehicle instead")
        conn.execute("DELETE FROM credentials WHERE id = ?", (cid,))
        _changed(
            conn, at, actor, "delete", row[0], cid, _shown(row[0], row[1]), value=sent_value(row[0], row[1])
        )


def add_slot(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    zone: str,
    number: str,
    resident_id: int | None,
    plates: list[str],
) -> int:
    with transaction(conn):
        if resident_id is not None:
            _resident_exists(conn, resident_id)
        if conn.execute("SELECT 1 FROM slots WHERE zone = ? AND number = ?", (zone, number)).fetchone():
            raise Conflict(f"slot {zone}/{number} exists", fix="delete it first to reassign it")
        cur = conn.execute(
            "INSERT INTO slots (zone, number, resident_id) VALUES (?, ?, ?)",
            (zone, number, resident_id),
        )
        sid = int(cur.lastrowid or 0)
        plates = list(dict.fromkeys(plates))  # a plate listed twice uses the slot once
        for plate in plates:
            row = conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone()
            if row is None:
                raise NotFound(f"no vehicle {plate}", fix="add the vehicle first")
            conn.execute("INSERT INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)", (sid, row[0]))
        owner = None if resident_id is None else _ref(conn, resident_id)
        entry = {"zone": zone, "number": number, "resident": owner, "plates": plates}
        _changed(conn, at, actor, "add", "slot", sid, f"{zone}/{number}", **entry)
        # A slot changed the only way the API offers (deleted, then added again) while its car is
        # parked: that car was moved into the shared spaces with the old slot, free as it came in.
        # Left there, the new slot read free and its other car came in on it free too. It is put
        # back on it (after the slot's own record, which the upstream handover names), as an import
        # or the central server does; a paying car of the slot waiting in the shared spaces pays
        # for its stay (the slot is new to it).
        handover(conn, sid, at, "reassigned", free_only=True)
    return sid


def delete_slot(conn: sqlite3.Connection, at: datetime, actor: str, sid: int) -> None:
    with transaction(conn):
        row = conn.execute("SELECT zone, number FROM slots WHERE id = ?", (sid,)).fetchone()
        if row is None:
            raise NotFound(f"no slot {sid}", fix="search for the resident on the lookup page")
        # A car parked on it takes a shared space (refusing would leave the admin nothing to do).
        conn.execute("DELETE FROM slots WHERE id = ?", (sid,))
        off_slots_not_theirs(conn, at, "?", (sid,))
        _changed(conn, at, actor, "delete", "slot", sid, f"{row[0]}/{row[1]}", zone=row[0], number=row[1])


# The slots listing any of the cars `{cars}` (SQL for their ids).
_SLOTS_OF_CARS = "SELECT DISTINCT slot_id FROM slot_vehicles WHERE vehicle_id IN ({cars})"


@contextmanager
def slots_handed_on(
    conn: sqlite3.Connection, at: datetime, cars: str, params: Sequence[Any] | Mapping[str, Any]
) -> Iterator[None]:
    """Cars struck off the register inside the block (deleted, alone or with their resident, by
    an admin or the central server): each slot that listed one is handed on as a slot sent again
    without it is (off_slots_not_theirs). The car parked on it moves to the shared spaces and the
    slot's other car waiting there moves onto it; left on the slot, the struck-off car kept the
    slot's other car paying by the hour until it left. A car's slot_vehicles rows go with it, so
    its slots are read first. `cars`: SQL for the vehicles' ids, with `params`."""
    slots = [slot_id for (slot_id,) in conn.execute(_SLOTS_OF_CARS.format(cars=cars), params)]
    yield
    if slots:
        off_slots_not_theirs(conn, at, "SELECT value FROM json_each(?)", (json.dumps(slots),))


# Of the slots `{slots}` (SQL for their ids), those no car is parked on that list a car parked in
# the shared spaces. Read from those cars (a few hundred at most), not slot by slot: an import's
# step names thousands of slots.
_FREE_WITH_A_CAR_WAITING = """SELECT DISTINCT sv.slot_id FROM stays s
    JOIN slot_vehicles sv ON sv.vehicle_id = s.vehicle_id
    WHERE s.exited_at IS NULL AND s.slot_id IS NULL AND sv.slot_id IN ({slots})
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = sv.slot_id)
    ORDER BY sv.slot_id"""


def onto_free_slots(
    conn: sqlite3.Connection, at: datetime, slots: str, params: Sequence[Any] | Mapping[str, Any]
) -> None:
    """Each of the slots `slots` (SQL for their ids, with `params`) sent or imported again that no
    car is on takes a car it lists that is parked in the shared spaces, as at a handover: a car
    struck off while on its slot (and moved off it) that comes back on the slot, a car the slot now
    lists, a slot moved out of a zone renamed. Left in the shared spaces, it held one of them, and
    the slot showed free, until it left. A car that pays nothing (moved off a slot) goes first
    (handover): handed to the paying second car that came in before it, the slot made that car
    free too."""
    for (slot_id,) in conn.execute(_FREE_WITH_A_CAR_WAITING.format(slots=slots), params).fetchall():
        handover(conn, slot_id, at, "reassigned")


def _check_period(valid_from: str | None, valid_to: str | None) -> None:
    """Refuse a period that ends before it begins, as a CSV import refuses the row: such a card or
    resident would be refused at every door with no hint why. (Stored UTC text sorts as time.)"""
    if valid_from and valid_to and valid_to <= valid_from:
        raise Refused(
            "valid_to must be after valid_from",
            fix="check the dates: the period ends before it begins",
            code="invalid_period",
        )


def _resident_exists(conn: sqlite3.Connection, rid: int) -> None:
    if not conn.execute("SELECT 1 FROM residents WHERE id = ?", (rid,)).fetchone():
        raise NotFound(f"no resident {rid}", fix="search for the resident on the lookup page")


def _ref(conn: sqlite3.Connection, rid: int) -> str:
    return str(conn.execute("SELECT ref FROM residents WHERE id = ?", (rid,)).fetchone()[0])


def _plate_of(conn: sqlite3.Connection, vid: int | None) -> str | None:
    row = conn.execute("SELECT plate FROM vehicles WHERE id = ?", (vid,)).fetchone()
    return str(row[0]) if row else None


def _changed(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    op: str,
    entity: str,
    key: int,
    label: str,
    **names: Any,
) -> None:
    """Audit a change and send it upstream. `names` are the keys the centre knows the row by
    (a resident's ref, a plate, a card number, a slot's zone and number) and what changed: the
    local row id alone names nothing the centre holds. An add carries every field of the row a
    snapshot's entry has: the centre lists the row from it, and its next snapshot replaces ours
    (a card listed from its keys alone opened at any hour)."""
    record = {"op": op, "entity": entity, "id": key, **names, "at": at.isoformat()}
    enqueue(conn, "registry", record, at)
    audit(conn, at, actor, f"{entity}.{op}", f"{entity}:{key}", label)


def _resident_changes(data: dict[str, Any], values: dict[str, Any], at: datetime) -> dict[str, Any]:
    """What a resident edit sets, for the centre to take into its register: the name and phone
    masked, as a pass record has them (the clear phone never leaves the gateway); a snapshot that
    echoes them so keeps the stored ones (sync/apply.py _KEPT_NAME, sync/entries.py masked_phone).
    A block set or lifted goes in its own record (record_block)."""
    sent: dict[str, Any] = {
        k: data[k] for k in ("building", "unit", "room", "valid_from", "valid_to") if k in data
    }
    if "name" in data:
        sent["name"] = mask_name(data["name"])
    if "phone_masked" in values:
        sent["phone"] = values["phone_masked"]
    return _sendable(sent, at)


def _sendable(changes: dict[str, Any], at: datetime) -> dict[str, Any]:
    """Times as every record gives them: in the site's offset, which `at` (the gateway's clock) has,
    whatever offset a request typed them with (docs/mqtt.md)."""
    return {
        k: v.astimezone(at.tzinfo).isoformat() if isinstance(v, datetime) else v for k, v in changes.items()
    }


def _shown(kind: str, value: str) -> str:
    return mask_card(value) if kind in ("card", "qr") else value


def _db(value: datetime | None) -> str | None:
    return to_db(value) if value is not None else None


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]
