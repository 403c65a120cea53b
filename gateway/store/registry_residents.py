"""Residents in the register: one added or changed by its ref (upsert_resident), or deleted with
their cards and cars.

Apart from the lookup (registry.py), which only reads them; a resident's block goes in its own
record (registry_credentials.py record_block).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from gateway.errors import NotFound, Refused
from gateway.privacy import Secrets, mask_phone
from gateway.store.audit import transaction
from gateway.store.lookup import holder_subject
from gateway.store.registry_base import (
    _changed,
    _check_period,
    _db,
    _resident_changes,
)
from gateway.store.registry_credentials import record_block
from gateway.store.registry_vehicles import onto_slots_of_registered, slots_handed_on
from gateway.typed import typed_text


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
        if {"valid_from", "valid_to"} & set(differs):  # a lease renewed: a slot that passed over its car
            onto_slots_of_registered(conn, at, "SELECT id FROM vehicles WHERE resident_id = ?", (rid,))
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
