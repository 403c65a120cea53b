"""Materials leaving the estate (物品放行, REQUIREMENTS 10): recorded at the gate, reported to the owner.

A guard records what is carried out (a renovation crew's old fittings and tools, furniture), for
which unit, with the contractor's or visitor's pass when there is one. The record, its audit row
and an upstream `materials` message are written in one transaction: the property company's server
tells the owner of that unit what left and when.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo
from typing import Any

from gateway.errors import NotFound, Refused
from gateway.privacy import mask_name, mask_numbers_in
from gateway.store.audit import audit, transaction
from gateway.store.outbox import enqueue
from gateway.store.units import host_readings, host_units, loose_key, named_unit, room_in, rooms_typed
from gateway.timefmt import local_iso, to_db

# The pass by the centre's `ref` too (null for one registered at the booth): a pass the centre sent
# down never goes up as created, and a crew's pass that runs out is never checked out, so the
# gateway's `pass_id` alone names one the centre never heard of (docs/mqtt.md, materials).
_SELECT = (
    "SELECT m.id, m.pass_id, p.ref AS pass_ref, m.host_building, m.host_unit, m.host_room, m.items, "
    "m.plate, m.at, m.actor, p.kind, p.name, p.company FROM materials_out m "
    "LEFT JOIN passes p ON p.id = m.pass_id"
)


def record_materials_out(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    *,
    items: str,
    pass_id: int | None = None,
    host_building: str = "",
    host_unit: str = "",
    host_room: str = "",
    plate: str | None = None,
) -> dict[str, Any]:
    """Record materials carried out; the unit is the pass's when a pass is named and has one,
    else the one given, where a resident must live. The flat too (`host_room`, or a room typed
    after the unit, 2单元1201; else the pass's own, 2-301 on it): a unit's stairwell holds several
    households, and the centre tells the owner of that one. A phone or ID number in `items` (the
    mover's, 搬家公司 王师傅 138…) is kept and sent masked, as every other text a guard types."""
    items = mask_numbers_in(items.strip())
    if not items:
        raise Refused(
            "say what is carried out", fix="list the items, e.g. 旧橱柜 1 套, 电钻 2 把", code="items_needed"
        )
    note = ""  # the pass's own unit, when the guard named the owner's instead
    given = (host_building, host_unit)
    pass_host = ("", "")  # the pass's own building and unit, for its room
    with transaction(conn):
        if pass_id is not None:
            host = conn.execute(
                "SELECT host_building, host_unit FROM passes WHERE id = ?", (pass_id,)
            ).fetchone()
            if host is None:
                raise NotFound(f"no pass {pass_id}", fix="scan the pass's QR code or look it up")
            # The pass's unit read as the visitor form took it (三栋 / 二单元 for 3栋 2单元), where a
            # resident lives now or is moving in (arriving: a crew renovates a flat before its owner moves
            # in, on a contractor's pass the visitor form does not check; review 64Ro):
            # materials are not reported to a household that has moved out.
            on_pass = named_unit(conn, host[0], host[1], at, arriving=True)
            if on_pass is None:
                # A pass issued for no unit, or for one where nobody lives (a slip when it was
                # issued): the owner is named here, or nobody is told.
                host_building, host_unit = _check_unit(conn, *given, at, on_pass=tuple(host))
                note = f" (pass {pass_id} is for {host[0]} {host[1]})" if all(host) else ""
            elif any(given) and named_unit(conn, *given, at, arriving=True) != on_pass:
                raise Refused(
                    f"pass {pass_id} is for {host[0]} {host[1]}, not {host_building} {host_unit}",
                    fix="leave the unit out: the pass's own is used",
                    code="not_pass_unit",
                    data={"pass_unit": f"{host[0]} {host[1]}".strip()},
                )
            else:
                host_building, host_unit = on_pass
                pass_host = host
        else:
            host_building, host_unit = _check_unit(conn, host_building, host_unit, at)
        room = _room(conn, (host_building, host_unit), given, host_room, pass_host, at)
        # Whether typed or the pass's, the unit as the register writes it (named_unit): one unit typed
        # as the pages show it (8栋 1单元), issued on a pass as the centre sent it (8 1) or as guards
        # write it (八栋 一单元) is stored one way, and the daily report counts it once.
        cur = conn.execute(
            "INSERT INTO materials_out (pass_id, host_building, host_unit, host_room, items, plate, at, "
            "actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (pass_id, host_building, host_unit, room, items, plate, to_db(at), actor),
        )
        row = get_materials(conn, int(cur.lastrowid or 0))
        sent = materials_record(row, at.tzinfo)
        enqueue(conn, "materials", {"op": "out", "at": sent["at"], "record": sent}, at)
        flat = f" (room {room})" if room else ""
        audit(conn, at, actor, "materials.out", f"unit:{host_building} {host_unit}", items + flat + note)
    return row


def _room(
    conn: sqlite3.Connection,
    unit: tuple[str, str],
    given: tuple[str, str],
    typed: str,
    on_pass: tuple[str, str],
    at: datetime,
) -> str:
    """The flat of `unit` (as the register writes it) the materials left from, as the register
    writes its room: `typed` in a field of its own, else a room typed after the unit `given`
    (2单元1201, 3栋2单元1201, 3-2-1201) or in its place (3栋 / 1201, which found the unit), else
    the pass's own (`on_pass`: its building and unit, 3栋 / 2-301 where it is the unit's, or 3栋 /
    1201 with the room in the unit's place, never the unit itself typed in one field: "" / 5栋1单元
    is no room 5栋1单元); "" for
    none. One typed that is none of the unit's recorded rooms is refused (a typo would tell the
    wrong owner, or nobody); the pass's, issued with a slip, is left out."""
    key = loose_key(*unit)
    rooms = [r for k, r in rooms_typed(*given) if k == key]
    if not typed.strip() and not rooms and given[1].strip() and key not in host_readings(*given):
        # The room typed as the unit (3栋 / 1201), where the register records it: it named the unit.
        # Not the unit typed whole ("" / 5栋1单元, 5# / 1), which no reading of its fields took as
        # a room: it went up as host_room 5栋1单元 where the register records no rooms (Review V).
        found = room_in(conn, *unit, given[1], at, arriving=True)
        return found or ""
    wanted = typed.strip() or (rooms[0] if rooms else "")
    if wanted:
        found = room_in(conn, *unit, wanted, at, arriving=True)
        if found is None:
            place = f"{unit[0]} {unit[1]}"
            raise Refused(
                f"no resident of {place} lives in room {wanted}",
                fix="check the room with the owner, or leave it out",
                code="no_such_room",
                data={"unit": place, "room": wanted},
            )
        return found
    kept = [r for k, r in rooms_typed(*on_pass) if k == key]
    if kept:
        return room_in(conn, *unit, kept[0], at, arriving=True) or ""
    if on_pass[1].strip() and key not in host_readings(*on_pass):
        # The pass's room typed as its unit (3栋 / 1201, A座 / B101), which found the unit: until
        # Review K the materials on it went up for the stairwell with no room. A pass for the unit
        # typed whole ("" / 5-1, 5# / 1) has no room in it (Review V).
        return room_in(conn, *unit, on_pass[1], at, arriving=True) or ""
    return ""


def _check_unit(
    conn: sqlite3.Connection, building: str, unit: str, at: datetime, on_pass: tuple[str, str] = ("", "")
) -> tuple[str, str]:
    """A typed unit (no pass, or a pass for no unit or for one where nobody lives) must be one
    where a resident lives at `at` or is moving in (a flat renovated before its owner moves in): a
    typo, or a household moved out, would report the materials to nobody. Read as the visitor form
    reads a host (8栋 1单元, 8 1, 三栋 二单元, 3栋 2-301), and given back as the register writes it."""
    found = named_unit(conn, building, unit, at, arriving=True)
    if found is not None:
        return found
    pass_unit = " ".join(on_pass).strip()
    # A building alone, or a room two units hold, names no one unit: which is asked for.
    if not building or not unit or host_units(conn, building, unit, at, arriving=True):
        if pass_unit:
            raise Refused(
                f"no resident lives in {pass_unit}, the pass's unit",
                fix="give the owner's building and unit",
                code="no_one_in_pass_unit",
                data={"unit": pass_unit},
            )
        raise Refused(
            "say for which unit the materials leave",
            fix="give the building and unit, or the pass",
            code="unit_needed",
        )
    raise Refused(
        f"no resident lives in {building} {unit}",
        fix="give the owner's building and unit",
        code="no_such_unit",
        data={"unit": f"{building} {unit}"},
    )


def owner_to_name(conn: sqlite3.Connection, building: str, unit: str, at: datetime) -> bool:
    """Whether materials carried out on a pass for this unit need the owner's building and unit:
    the pass names no one unit where a resident lives at `at` or is moving in (named_unit: none, a
    building alone, or one where nobody lives, a slip when it was issued or a household moved out
    since)."""
    return named_unit(conn, building, unit, at, arriving=True) is None


def list_materials(
    conn: sqlite3.Connection, *, pass_id: int | None = None, limit: int | None = 50
) -> list[dict[str, Any]]:
    """Newest first; only those carried out under one pass when `pass_id` is given; every one
    with `limit` None (one pass's, which its weeks bound)."""
    cur = conn.execute(
        f"{_SELECT} WHERE :pass IS NULL OR m.pass_id = :pass ORDER BY m.id DESC LIMIT :limit",
        {"pass": pass_id, "limit": -1 if limit is None else limit},  # SQLite: -1 is no limit
    )
    return [_row(cur, r) for r in cur.fetchall()]


def get_materials(conn: sqlite3.Connection, record_id: int) -> dict[str, Any]:
    cur = conn.execute(f"{_SELECT} WHERE m.id = ?", (record_id,))
    return _row(cur, cur.fetchone())


def materials_record(row: dict[str, Any], local: tzinfo | None) -> dict[str, Any]:
    """A materials record as the centre gets it (a `materials` message's `record`): when they left in
    the site's offset (`local`), as every record's time, not as stored (UTC)."""
    return {**row, "at": local_iso(row["at"], local)}


def _row(cur: sqlite3.Cursor, values: tuple[Any, ...]) -> dict[str, Any]:
    names = [d[0] for d in cur.description]
    row = dict(zip(names, values, strict=True))
    row["pass_kind"] = row.pop("kind")
    # The carrier's name is shown and sent masked, as visitors' names are everywhere but their pass.
    row["name"] = mask_name(row["name"]) if row["name"] else None
    return row
