"""The `registry` records a CSV import sends up: the rows it adds or changes, as an admin's change at
the booth is told (docs/mqtt.md, `registry`).

The central server owns the register, and its next snapshot removes what it does not list, those
the booth added too: the registry records are how it learns of them. An import sent only its
`batch` summary, which names no row, so on a register the centre keeps every row imported was
removed by its next snapshot, and nobody was told (found by reviewer 60k). Now each row a step adds
or changes goes up in that step's transaction as an `upsert` carrying every field the centre's
snapshot entry for it has (masked as the admin's records are), many to a record (`"op": "import",
"entity": "rows"`): one record a row was 350,000 outbox rows for the benchmark's register, 60 us each,
and as many messages. A row the store had as the file has it goes nowhere, so a file imported again
sends nothing but its summary; a step written again (an import finished by a later run) finds its
rows in already and sends them no second time. But where an older release staged the import and
wrote its first steps (it was cut short, the gateway then upgraded), those steps told nobody: the
run that finishes it tells every row it writes, changed or not (Part.tell_all; found by reviewer
60p). A block set or lifted has its own record (record_block), as at the booth.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from gateway.privacy import mask_name
from gateway.store.outbox import enqueue_listing
from gateway.timefmt import local_iso

if TYPE_CHECKING:
    from gateway.store.csv_steps import Part

# Each kind's rows :lo..:hi as the store has them, the file's row first: (n, id, fields...). A
# row the store lacks is not listed. The fields are those of the centre's snapshot entry, but for
# `blocked` (its own record), with the clear ones a masked record cannot tell apart (a name, a
# phone's hash) after them: compared, not sent. CROSS JOIN keeps the step's rows first: left to
# itself, SQLite read every card in the store for each step (the staging file's index on card
# numbers), and a 40,000-card import took minutes.
_STORED = {
    "residents": """SELECT x.n, r.id, r.ref, r.building, r.unit, r.room, r.valid_from, r.valid_to,
            r.phone_masked, r.name, r.phone_hash
        FROM st.residents x CROSS JOIN residents r ON r.ref = x.ref WHERE x.n BETWEEN :lo AND :hi""",
    "vehicles": """SELECT x.n, v.id, v.plate, r.ref, v.class, v.monthly_until, c.valid_from, c.valid_to
        FROM st.vehicles x CROSS JOIN vehicles v ON v.plate = x.plate
        LEFT JOIN residents r ON r.id = v.resident_id
        LEFT JOIN credentials c ON c.kind = 'plate' AND c.value = v.plate
        WHERE x.n BETWEEN :lo AND :hi""",
    "cards": """SELECT x.n, c.id, c.value, r.ref, v.plate, c.valid_from, c.valid_to, c.hours
        FROM st.cards x CROSS JOIN credentials c ON c.kind = 'card' AND c.value = x.card
        LEFT JOIN residents r ON r.id = c.resident_id LEFT JOIN vehicles v ON v.id = c.vehicle_id
        WHERE x.n BETWEEN :lo AND :hi""",
    # A slot's cars are its row's once both passes are in (csv_steps.SLOT_CARS_UNLISTED): after the
    # first they are told as the file lists them ({plates}), so that a slot goes up once, as it ends.
    "slots": """SELECT x.n, s.id, s.zone, s.number, r.ref, {plates}
        FROM st.slots x CROSS JOIN slots s ON s.zone = x.zone AND s.number = x.number
        LEFT JOIN residents r ON r.id = s.resident_id WHERE x.n BETWEEN :lo AND :hi""",
}
_SLOT_CARS = """(SELECT json_group_array(plate) FROM (SELECT v.plate FROM slot_vehicles sv
    JOIN vehicles v ON v.id = sv.vehicle_id WHERE sv.slot_id = s.id ORDER BY v.plate))"""
_FILE_CARS = """(SELECT json_group_array(plate) FROM (SELECT plate FROM st.slot_plates p
    WHERE p.n = x.n ORDER BY plate))"""


# What a record of rows adds around them: {"op", "entity", "id" (the import's), "rows", "at"}.
_AROUND_BYTES = 160


@contextmanager
def told_upstream(conn: sqlite3.Connection, part: Part) -> Iterator[None]:
    """The rows of `part` that the block adds or changes are queued upstream after it, in records
    of at most part.room bytes (part.tell_all: all of them). The slots' second pass tells nothing
    (the first told the cars)."""
    if part.run.kind not in _STORED:
        yield
        return
    before = {} if part.tell_all else {row[0]: row[1:] for row in _stored(conn, part, after=False)}
    yield
    # Each row's JSON once (orjson: UTF-8 as sent), packed by its length, then put in its record.
    entry, tz = _ENTRIES[part.run.kind], part.at.tzinfo
    rows = [
        orjson.dumps(entry(row, tz))
        for row in _stored(conn, part, after=True)
        if before.get(row[0]) != row[1:]
    ]
    record = {"op": "import", "entity": "rows", "id": part.import_id, "at": part.at.isoformat()}
    for some in _packed(rows, part.room - _AROUND_BYTES):
        enqueue_listing(conn, "registry", record, "rows", some, part.at)


def _packed(rows: list[bytes], room: int) -> Iterator[list[bytes]]:
    """The rows (JSON) in runs that fit in `room` bytes (a row too large alone goes alone: the
    uplink sets its record aside, as any record over the broker's limit)."""
    some: list[bytes] = []
    size = 0
    for row in rows:
        n = len(row) + 2
        if some and size + n > room:
            yield some
            some, size = [], 0
        some.append(row)
        size += n
    if some:
        yield some


def _stored(conn: sqlite3.Connection, part: Part, after: bool) -> sqlite3.Cursor:
    plates = _FILE_CARS if after and "plates" in part.run.given else _SLOT_CARS
    sql = _STORED[part.run.kind].format(plates=plates)
    return conn.execute(sql, {"lo": part.first, "hi": part.last})


# Each kind's upsert (op, entity, id, then the fields of the centre's snapshot entry) from a stored
# row (_STORED), times in the site's offset, as the admin's records give them. Written out whole,
# not merged from a dict per kind and one for the times: the benchmark's 350,000 rows took 2.8 s
# of CPU so, 1.3 s now. A resident's fields are registry_base._resident_changes' (an admin's edit),
# as tests/sync/test_import_records_fix64G.py checks.
def _resident(row: tuple[Any, ...], tz: tzinfo | None) -> dict[str, Any]:
    _, id_, ref, building, unit, room, valid_from, valid_to, phone, name, _ = row
    return {
        "op": "upsert",
        "entity": "resident",
        "id": id_,
        "ref": ref,
        "building": building,
        "unit": unit,
        "room": room,
        "valid_from": _local(valid_from, tz),
        "valid_to": _local(valid_to, tz),
        "name": mask_name(name),
        "phone": phone,
    }


def _vehicle(row: tuple[Any, ...], tz: tzinfo | None) -> dict[str, Any]:
    _, id_, plate, owner, vehicle_class, monthly_until, valid_from, valid_to = row
    return {
        "op": "upsert",
        "entity": "vehicle",
        "id": id_,
        "plate": plate,
        "resident": owner,
        "class": vehicle_class,
        "monthly_until": _local(monthly_until, tz),
        "valid_from": _local(valid_from, tz),
        "valid_to": _local(valid_to, tz),
    }


def _card(row: tuple[Any, ...], tz: tzinfo | None) -> dict[str, Any]:
    _, id_, card, owner, plate, valid_from, valid_to, hours = row
    return {
        "op": "upsert",
        "entity": "card",
        "id": id_,
        "card": card,
        "resident": owner,
        "plate": plate,
        "valid_from": _local(valid_from, tz),
        "valid_to": _local(valid_to, tz),
        "hours": [h for h in hours.split(",") if h],
    }


def _slot(row: tuple[Any, ...], tz: tzinfo | None) -> dict[str, Any]:
    _, id_, zone, number, owner, plates = row
    return {
        "op": "upsert",
        "entity": "slot",
        "id": id_,
        "zone": zone,
        "number": number,
        "resident": owner,
        "plates": orjson.loads(plates),
    }


_ENTRIES = {"residents": _resident, "vehicles": _vehicle, "cards": _card, "slots": _slot}


@lru_cache(maxsize=4096)
def _local(stored: str | None, tz: tzinfo | None) -> str | None:
    """local_iso, once for each time: an import's rows share a few (a date typed for a whole file,
    the month's end), and each is a parse and a step into the site's zone."""
    return local_iso(stored, tz)
