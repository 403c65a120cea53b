"""The stream each gateway id a record names was made in (docs/mqtt.md, *Streams*).

A database numbers its payments' receipts, its charges, stays, passes and materials records itself,
and a new box, or a box put back on an older copy of its database (README, going back), numbers
them again: the centre tells them apart by the stream they were made in. That is the stream a
record goes up in only while the database that made the row is still the one in use: a payment
taken before a copy was put back and corrected after, or the charge of a car that came in before,
goes up in the copy's new stream (Review 64B). So each row keeps the stream it was made in (schema
migration 66, `id_stream`), and each record names it beside the id (named()).
"""

from __future__ import annotations

import sqlite3
from typing import Any

# The tables of the rows the centre keys by their gateway id, each row's stream in `id_stream`.
TABLES = ("payments", "charges", "stays", "passes", "materials_out")

# The record types that name such rows (an access record's holder: _holder_named). A registry
# record's other ids are the register's rows, which the centre keys by its own refs, plates, cards.
_TOPICS = frozenset(
    {"payment", "charge", "stay", "shift_handover", "pass", "materials", "plate_correction", "registry"}
)

# A key naming a row, and the row's table and column: its stream goes beside it as the key's name
# less `_id` with `_stream` (`charge_id`, `charge_stream`), `receipt_stream` beside `receipt`, a
# plate correction's stays' with `_stream` added (`stay_reopened_stream`).
_KEYS = {
    "receipt": ("payments", "receipt", "receipt_stream"),
    "stay_id": ("stays", "id", "stay_stream"),
    "charge_id": ("charges", "id", "charge_stream"),
    "voided_charge_id": ("charges", "id", "voided_charge_stream"),
    "restored_charge_id": ("charges", "id", "restored_charge_stream"),
    "pass_id": ("passes", "id", "pass_stream"),
    "stay_reopened": ("stays", "id", "stay_reopened_stream"),
    "stay_closed_again": ("stays", "id", "stay_closed_again_stream"),
    "entry_stay_closed": ("stays", "id", "entry_stay_closed_stream"),
}

# The objects whose own `id` names a row (`id_stream` beside it): a pass record's pass, a materials
# record's record.
_OWN = {("pass", "pass"): "passes", ("materials", "record"): "materials_out"}

# A row gone (a pass deleted) names the stream its records go up in now, as every record did before
# migration 66. A row keeps none only while its database has no stream yet (start_stream gives the
# first stream to the rows made before it): then it names none.
_STREAM = """
SELECT coalesce((SELECT id_stream FROM {table} WHERE {column} = ?),
                (SELECT stream FROM outbox_streams ORDER BY first_seq DESC LIMIT 1))
"""


def named(conn: sqlite3.Connection, topic: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload`, a record of type `topic` about to be queued, with the stream each id it names was
    made in beside the id, in objects and lists of objects within it too (a stay record's
    `second_car`, `paid_ahead_from`); a handover's `receipts` with `receipt_streams`, in their
    order; an access record's holder with its `id_stream` (_holder_named). Unchanged for a type
    that names none."""
    if topic == "access":
        return _holder_named(conn, payload)
    if topic not in _TOPICS:
        return payload
    return _named(conn, topic, payload, None)


def _holder_named(conn: sqlite3.Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """An access record with `id_stream` beside its holder's id: for a pass, the stream it was
    registered in (a booth pass's id is all that ties its visitor's passages to it); null for a
    resident, whom the centre keys by the ref beside it. Every decision is one: no walk of the
    record, and a lookup by the pass's key only where the holder is a pass."""
    holder = payload.get("holder")
    if not holder:
        return payload
    stream = None if holder["kind"] == "resident" else _stream(conn, "passes", "id", holder["id"])
    named = {}
    for key, value in holder.items():
        named[key] = value
        if key == "id":
            named["id_stream"] = stream
    return {**payload, "holder": named}


def _named(conn: sqlite3.Connection, topic: str, obj: dict[str, Any], own: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if isinstance(value, dict):
            value = _named(conn, topic, value, _OWN.get((topic, key)))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            value = [_named(conn, topic, v, None) for v in value]
        out[key] = value
        if key in _KEYS:
            table, column, beside = _KEYS[key]
            out[beside] = _stream(conn, table, column, value)
        elif key == "id" and own is not None:
            out["id_stream"] = _stream(conn, own, "id", value)
        elif key == "receipts" and topic == "shift_handover":
            out["receipt_streams"] = [_stream(conn, "payments", "receipt", r) for r in value]
    return out


def _stream(conn: sqlite3.Connection, table: str, column: str, value: object) -> str | None:
    if value is None:
        return None
    row = conn.execute(_STREAM.format(table=table, column=column), (value,)).fetchone()
    return None if row is None else row[0]
