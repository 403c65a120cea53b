"""`gateway import`: CSV files of residents, vehicles, cards and slots, all of them or nothing.

Every row of every file is checked first; one bad row anywhere and nothing is written. Rows are
upserted by their natural key (resident ref, plate, card number, zone + slot number).
"""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.errors import ImportRejected
from gateway.privacy import Secrets, mask_phone
from gateway.store.csv_rows import (
    KINDS,
    PARSERS,
    CardRow,
    ResidentRow,
    RowError,
    SlotRow,
    VehicleRow,
    kind_of,
)
from gateway.store.database import transaction


@dataclass
class Batch:
    residents: list[ResidentRow] = field(default_factory=list)
    vehicles: list[VehicleRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    slots: list[SlotRow] = field(default_factory=list)
    where: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> "file:line"

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("residents", "vehicles", "cards", "slots")}


def read_files(paths: list[Path], tz: ZoneInfo) -> tuple[Batch, list[str]]:
    batch, problems = Batch(), []
    for path in paths:
        problems += _read_file(path, tz, batch)
    return batch, problems


def _read_file(path: Path, tz: ZoneInfo, batch: Batch) -> list[str]:
    try:
        f = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        return [f"{path}: cannot open: {exc.strerror}"]
    problems = []
    with f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        kind = kind_of(header)
        if kind is None:
            expected = "; ".join(f"{k}: {','.join(sorted(r))}" for k, (r, _) in KINDS.items())
            return [f"{path}:1: header {header} names no known file kind (required columns: {expected})"]
        parse = PARSERS[kind]
        key_seen: dict[str, int] = {}
        try:
            for row in reader:
                line = reader.line_num
                if None in row:
                    problems.append(f"{path}:{line}: more fields than the header has columns")
                    continue
                try:
                    record: Any = parse(row, tz)
                except RowError as exc:
                    problems.append(f"{path}:{line}: {exc.column}: {exc}")
                    continue
                key = _key(kind, record)
                if key in key_seen:
                    problems.append(f"{path}:{line}: {key} repeats line {key_seen[key]}")
                    continue
                key_seen[key] = line
                batch.where[(kind, key)] = f"{path}:{line}"
                getattr(batch, kind).append(record)
        except (csv.Error, UnicodeDecodeError) as exc:
            problems.append(f"{path}:{reader.line_num}: unreadable ({exc}); save the file as UTF-8 CSV")
    return problems


def _key(kind: str, record: Any) -> str:
    if kind == "residents":
        return record.ref
    if kind == "vehicles":
        return record.plate
    if kind == "cards":
        return record.card
    return f"{record.zone}/{record.number}"


def check_references(conn: sqlite3.Connection, batch: Batch, zones: set[str]) -> list[str]:
    """Every resident, plate and zone a row names exists in the files or already in the store."""
    refs = {r.ref for r in batch.residents} | _existing(conn, "SELECT ref FROM residents")
    plates = {v.plate for v in batch.vehicles} | _existing(conn, "SELECT plate FROM vehicles")
    problems = []

    def need(kind: str, key: str, column: str, value: str | None, known: set[str], what: str) -> None:
        if value is not None and value not in known:
            problems.append(
                f"{batch.where[(kind, key)]}: {column}: no {what} {value!r} in the files or the store"
            )

    for v in batch.vehicles:
        need("vehicles", v.plate, "resident_ref", v.resident_ref, refs, "resident")
    for c in batch.cards:
        need("cards", c.card, "resident_ref", c.resident_ref, refs, "resident")
        need("cards", c.card, "plate", c.plate, plates, "vehicle")
    for s in batch.slots:
        key = f"{s.zone}/{s.number}"
        need("slots", key, "zone", s.zone, zones, "zone in the site config with id")
        need("slots", key, "resident_ref", s.resident_ref, refs, "resident")
        for p in s.plates:
            need("slots", key, "plates", p, plates, "vehicle")
    return problems


def _existing(conn: sqlite3.Connection, sql: str) -> set[str]:
    return {row[0] for row in conn.execute(sql)}


def import_files(
    conn: sqlite3.Connection, paths: list[Path], tz: ZoneInfo, zones: set[str], secrets: Secrets
) -> dict[str, int]:
    """Validate every file, then write them all in one transaction. Raises ImportRejected."""
    batch, problems = read_files(paths, tz)
    if not problems:
        problems = check_references(conn, batch, zones)
    if problems:
        raise ImportRejected(problems, len(problems))
    with transaction(conn):
        _write(conn, batch, secrets)
    return batch.counts()


def _write(conn: sqlite3.Connection, batch: Batch, secrets: Secrets) -> None:
    conn.executemany(
        """INSERT INTO residents (ref, building, unit, room, name, phone_masked, phone_hash,
                                  valid_from, valid_to, blocked)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (ref) DO UPDATE SET building = excluded.building, unit = excluded.unit,
               room = excluded.room, name = excluded.name, valid_from = excluded.valid_from,
               valid_to = excluded.valid_to, blocked = excluded.blocked,
               phone_masked = CASE WHEN ?11 THEN excluded.phone_masked ELSE phone_masked END,
               phone_hash = CASE WHEN ?11 THEN excluded.phone_hash ELSE phone_hash END""",
        (
            (
                r.ref,
                r.building,
                r.unit,
                r.room,
                r.name,
                mask_phone(r.phone) if r.phone else "",
                secrets.digest("phone", r.phone) if r.phone else "",
                r.valid_from,
                r.valid_to,
                int(r.blocked),
                r.phone is not None,
            )
            for r in batch.residents
        ),
    )
    resident_id = dict(conn.execute("SELECT ref, id FROM residents"))
    conn.executemany(
        """INSERT INTO vehicles (plate, class, resident_id, monthly_until) VALUES (?, ?, ?, ?)
           ON CONFLICT (plate) DO UPDATE SET class = excluded.class,
               resident_id = excluded.resident_id, monthly_until = excluded.monthly_until""",
        ((v.plate, v.vehicle_class, resident_id[v.resident_ref], v.monthly_until) for v in batch.vehicles),
    )
    vehicle_id = dict(conn.execute("SELECT plate, id FROM vehicles"))
    _upsert_credentials(
        conn,
        (
            (
                "plate",
                v.plate,
                resident_id[v.resident_ref],
                vehicle_id[v.plate],
                v.valid_from,
                v.valid_to,
                "",
                int(v.blocked),
            )
            for v in batch.vehicles
        ),
    )
    _upsert_credentials(
        conn,
        (
            (
                "card",
                c.card,
                resident_id[c.resident_ref],
                vehicle_id[c.plate] if c.plate else None,
                c.valid_from,
                c.valid_to,
                c.hours,
                int(c.blocked),
            )
            for c in batch.cards
        ),
    )
    _write_slots(conn, batch.slots, resident_id, vehicle_id)


def _upsert_credentials(conn: sqlite3.Connection, rows: Any) -> None:
    conn.executemany(
        """INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to,
                                    hours, blocked)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (kind, value) DO UPDATE SET resident_id = excluded.resident_id,
               pass_id = NULL, vehicle_id = excluded.vehicle_id, valid_from = excluded.valid_from,
               valid_to = excluded.valid_to, hours = excluded.hours, blocked = excluded.blocked""",
        rows,
    )


def _write_slots(
    conn: sqlite3.Connection,
    slots: list[SlotRow],
    resident_id: dict[str, int],
    vehicle_id: dict[str, int],
) -> None:
    conn.executemany(
        """INSERT INTO slots (zone, number, resident_id) VALUES (?, ?, ?)
           ON CONFLICT (zone, number) DO UPDATE SET resident_id = excluded.resident_id""",
        ((s.zone, s.number, resident_id[s.resident_ref] if s.resident_ref else None) for s in slots),
    )
    if not slots:
        return
    slot_id = {(z, n): i for i, z, n in conn.execute("SELECT id, zone, number FROM slots")}
    ids = [(slot_id[(s.zone, s.number)],) for s in slots]
    conn.executemany("DELETE FROM slot_vehicles WHERE slot_id = ?", ids)
    assigned: dict[int, list[int]] = defaultdict(list)
    for s in slots:
        assigned[slot_id[(s.zone, s.number)]] += [vehicle_id[p] for p in s.plates]
    conn.executemany(
        "INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)",
        ((sid, vid) for sid, vids in assigned.items() for vid in vids),
    )
