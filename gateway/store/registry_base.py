"""What every change to the register shares: its audit row and upstream record in one (_changed),
the fields a change sends as the centre reads them, and the checks and reads each change makes.

Apart from the residents, vehicles, cards and slots that use them, so that each of those files
imports them from one place (csv_records.py too, for _resident_changes).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from gateway.errors import NotFound, Refused
from gateway.privacy import mask_card, mask_name
from gateway.store.audit import audit
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db


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
