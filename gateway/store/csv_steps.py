"""Writing a checked CSV import into the live store in short steps, so that no lane waits behind it.

A lane's decision writes in one short transaction; an import of 100,000 rows in one transaction held
the write lock for seconds, and past the 10 s busy timeout a card at the gate failed as
storage_failed. So the checked rows go first to a staging file next to the database (phones already
masked and hashed: no clear number is ever on disk), then into the store a few hundred rows per
transaction, with a pause after each in which a waiting lane takes the lock.

All or nothing: nothing is written until every row of every file passed (csv_import.py). Once the
first step is in, the import is carried to its end: the staging file keeps the checked rows until
the last step is in, and if a step fails (disk full, power cut, the process killed) the next
`gateway import` writes them again from the first and finishes it (roll forward, as the MQTT
snapshots do). Every write is an upsert by key, so a row written twice stores the same thing. An
import of up to STEP_ROWS rows is one transaction. While the steps run a lane sees each resident,
car, card and slot either as it was or as the files have it.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from gateway.privacy import Secrets, mask_card, mask_phone
from gateway.store.audit import audit
from gateway.store.csv_import import Batch
from gateway.store.outbox import enqueue

STAGING_NAME = "import-staging.db"
STEP_ROWS = 250  # the first step; later ones are sized to take about STEP_S
STEP_S = 0.008
MAX_STEP_ROWS = 2000
# Pause after each step, as long as the step took (at least PAUSE_MIN_S), jittered: a lane's busy
# handler retries after 1, 2, 5, 10, 15, 20, 25 ms and so on, and a pause in step with those retries
# could miss them all.
PAUSE_MIN_S = 0.004


@dataclass(frozen=True, slots=True)
class Step:
    """Who the import's audit rows name, and when."""

    at: datetime
    actor: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), import_id TEXT, files TEXT,
    actor TEXT, counts TEXT, total INTEGER);
CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, kind TEXT, given TEXT, data TEXT);
"""


def staged_rows(batch: Batch, secrets: Secrets) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, given columns, values) in the order they are written: who a row names comes first."""

    def given(kind: str, key: str) -> str:
        return ",".join(sorted(batch.given[(kind, key)]))

    for r in batch.residents:
        cols = batch.given[("residents", r.ref)]
        if r.phone:  # a clear number: masked and hashed here, never staged
            phone = ("set", mask_phone(r.phone), secrets.digest("phone", r.phone))
        elif r.phone_masked:  # an export's masked number: shown, not matchable
            phone = ("masked", r.phone_masked, "")
        elif "phone" in cols or "phone_masked" in cols:  # an empty cell: no phone
            phone = ("set", "", "")
        else:
            phone = ("keep", "", "")
        yield (
            "residents",
            given("residents", r.ref),
            {
                "ref": r.ref,
                "building": r.building,
                "unit": r.unit,
                "room": r.room,
                "name": r.name,
                "pmode": phone[0],
                "phone_masked": phone[1],
                "phone_hash": phone[2],
                "valid_from": r.valid_from,
                "valid_to": r.valid_to,
                "blocked": int(r.blocked),
            },
        )
    for v in batch.vehicles:
        yield (
            "vehicles",
            given("vehicles", v.plate),
            {
                "plate": v.plate,
                "resident_ref": v.resident_ref,
                "class": v.vehicle_class,
                "monthly_until": v.monthly_until,
                "valid_from": v.valid_from,
                "valid_to": v.valid_to,
                "blocked": int(v.blocked),
            },
        )
    for c in batch.cards:
        yield (
            "cards",
            given("cards", c.card),
            {
                "card": c.card,
                "resident_ref": c.resident_ref,
                "plate": c.plate,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
                "hours": c.hours,
                "blocked": int(c.blocked),
            },
        )
    for s in batch.slots:
        key = f"{s.zone}/{s.number}"
        yield (
            "slots",
            given("slots", key),
            {
                "zone": s.zone,
                "number": s.number,
                "resident_ref": s.resident_ref,
                "plates": list(s.plates),
            },
        )


Staged = tuple[str, str, dict[str, Any]]  # kind, its file's optional columns, the values


def stage(path: Path, batch: Batch, secrets: Secrets, import_id: str, actor: str) -> list[Staged]:
    """Write the checked rows to a new staging file (the copy a later run finishes from)."""
    rows = list(staged_rows(batch, secrets))
    remove(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(_SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO rows (kind, given, data) VALUES (?, ?, ?)",
            ((kind, given, json.dumps(data, ensure_ascii=False)) for kind, given, data in rows),
        )
        conn.execute(
            "INSERT INTO meta VALUES (1, ?, ?, ?, ?, ?)",
            (
                import_id,
                json.dumps(batch.files, ensure_ascii=False),
                actor,
                json.dumps(batch.counts()),
                len(rows),
            ),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return rows


def read_staged(path: Path) -> tuple[dict[str, Any], list[Staged]] | None:
    """The import a staging file holds (not finished: the file goes once it is), or None."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        meta = conn.execute("SELECT import_id, files, actor, counts, total FROM meta").fetchone()
        rows = conn.execute("SELECT kind, given, data FROM rows ORDER BY n").fetchall()
    except sqlite3.DatabaseError:
        meta = None  # written only partly: it never got to its first step
    finally:
        conn.close()
    if meta is None:
        return None
    import_id, files, actor, counts, total = meta
    info = {
        "import_id": import_id,
        "files": json.loads(files),
        "actor": actor,
        "counts": json.loads(counts),
        "total": total,
    }
    return info, [(k, g, json.loads(d)) for k, g, d in rows]


def remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-journal")):
        p.unlink(missing_ok=True)


class Stopped(Exception):
    """A step failed; `done` rows were written before it (0: nothing of the import is in)."""

    def __init__(self, done: int, cause: sqlite3.Error):
        self.done = done
        self.cause = cause
        super().__init__(str(cause))


def apply_steps(
    conn: sqlite3.Connection,
    meta: dict[str, Any],
    rows: list[Staged],
    now: Callable[[], datetime],
    pause: Callable[[], None] | None = None,
) -> None:
    """Write the staged rows in steps of about STEP_MS each, the audit row and the upstream record
    with the last. Steps before the last commit without waiting for the disk (as snapshot steps
    do); the last one waits, and with it all before it. Raises Stopped."""
    level = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    done, size = 0, STEP_ROWS
    try:
        while True:
            chunk = rows[done : done + size]
            last = done + len(chunk) >= len(rows)
            conn.execute(f"PRAGMA synchronous={level if last else 1}")
            began = time.perf_counter()
            try:
                _step(conn, chunk, Step(now(), meta["actor"]), meta if last else None)
            except sqlite3.Error as exc:
                raise Stopped(done, exc) from exc
            done += len(chunk)
            if last:
                return
            took = time.perf_counter() - began
            size = max(min(50, MAX_STEP_ROWS), min(MAX_STEP_ROWS, int(size * STEP_S / max(took, 1e-4))))
            if pause is None:
                time.sleep(max(took, PAUSE_MIN_S) * random.uniform(0.5, 1.5))
            else:
                pause()
    finally:
        conn.execute(f"PRAGMA synchronous={level}")


def _step(conn: sqlite3.Connection, rows: list[Staged], step: Step, meta: dict[str, Any] | None) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for (kind, given), group in groupby(rows, key=lambda r: (r[0], r[1])):
            cols = frozenset(given.split(",")) - {""}
            WRITERS[kind](conn, cols, [values for _, _, values in group], step)
        if meta is not None and not _finished(conn, meta["import_id"]):
            _finish(conn, meta, step.at)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _finished(conn: sqlite3.Connection, import_id: str) -> bool:
    """The last step is in already: an earlier run committed it but stopped before removing the
    staging file."""
    found = conn.execute(
        "SELECT 1 FROM audit WHERE action = 'registry.import' AND detail LIKE ?", (f'%"{import_id}"%',)
    ).fetchone()
    return found is not None


def _finish(conn: sqlite3.Connection, meta: dict[str, Any], at: datetime) -> None:
    files = ",".join(meta["files"])
    detail = json.dumps({"import": meta["import_id"], "counts": meta["counts"]})
    audit(conn, at, meta["actor"], "registry.import", files[:200], detail)
    payload = {"op": "import", "entity": "batch", "id": meta["import_id"], "counts": meta["counts"]}
    enqueue(conn, "registry", {**payload, "at": at.isoformat()}, at)


def _set(cols: frozenset[str], always: list[str], optional: dict[str, str]) -> str:
    parts = [f"{c} = excluded.{c}" for c in always]
    parts += [expr for col, expr in optional.items() if col in cols]
    return ", ".join(parts)


Values = list[dict[str, Any]]


def _residents(conn: sqlite3.Connection, cols: frozenset[str], rows: Values, step: Step) -> None:
    if "blocked" in cols:
        _audit_blocks(conn, step, "resident", "SELECT ref, blocked FROM residents WHERE ref IN", rows, "ref")
    optional = {c: f"{c} = excluded.{c}" for c in ("room", "valid_from", "valid_to", "blocked")}
    conn.executemany(
        f"""INSERT INTO residents (ref, building, unit, room, name, phone_masked, phone_hash,
                                   valid_from, valid_to, blocked)
           VALUES (:ref, :building, :unit, :room, :name, :phone_masked, :phone_hash,
                   :valid_from, :valid_to, :blocked)
           ON CONFLICT (ref) DO UPDATE SET {_set(cols, ["building", "unit", "name"], optional)},
               phone_masked = CASE :pmode WHEN 'keep' THEN phone_masked ELSE excluded.phone_masked END,
               phone_hash = CASE :pmode WHEN 'keep' THEN phone_hash
                   WHEN 'masked' THEN CASE WHEN excluded.phone_masked = phone_masked
                                           THEN phone_hash ELSE '' END
                   ELSE excluded.phone_hash END""",
        rows,
    )


def _vehicles(conn: sqlite3.Connection, cols: frozenset[str], rows: Values, step: Step) -> None:
    optional = {c: f"{c} = excluded.{c}" for c in ("class", "monthly_until")}
    conn.executemany(
        f"""INSERT INTO vehicles (plate, class, resident_id, monthly_until)
           VALUES (:plate, :class, (SELECT id FROM residents WHERE ref = :resident_ref), :monthly_until)
           ON CONFLICT (plate) DO UPDATE SET {_set(cols, ["resident_id"], optional)}""",
        rows,
    )
    _credentials(conn, cols, "plate", [{**v, "value": v["plate"], "hours": ""} for v in rows], step)


def _cards(conn: sqlite3.Connection, cols: frozenset[str], rows: Values, step: Step) -> None:
    _credentials(conn, cols, "card", [{**v, "value": v["card"]} for v in rows], step)


def _credentials(conn: sqlite3.Connection, cols: frozenset[str], kind: str, rows: Values, step: Step) -> None:
    if "blocked" in cols:
        sql = f"SELECT value, blocked FROM credentials WHERE kind = '{kind}' AND value IN"
        _audit_blocks(conn, step, kind, sql, rows, "value")
    optional = {c: f"{c} = excluded.{c}" for c in ("valid_from", "valid_to", "hours", "blocked")}
    if kind == "card":
        optional["plate"] = "vehicle_id = excluded.vehicle_id"
    conn.executemany(
        f"""INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to,
                                    hours, blocked)
           VALUES ('{kind}', :value, (SELECT id FROM residents WHERE ref = :resident_ref),
                   (SELECT id FROM vehicles WHERE plate = :plate), :valid_from, :valid_to,
                   :hours, :blocked)
           ON CONFLICT (kind, value) DO UPDATE SET pass_id = NULL,
               {_set(cols, ["resident_id"], optional)}""",
        rows,
    )


def _audit_blocks(conn: sqlite3.Connection, step: Step, what: str, sql: str, rows: Values, key: str) -> None:
    """A block the import sets or lifts (a lost card unblocked by a list) is on record one by one."""
    wanted = {v[key]: v["blocked"] for v in rows}
    marks = ",".join("?" * len(wanted))
    for value, blocked in conn.execute(f"{sql} ({marks})", list(wanted)).fetchall():
        if int(blocked) == wanted[value]:
            continue
        action = "block" if wanted[value] else "unblock"
        entity = "resident" if what == "resident" else "credential"
        target = f"resident:{value}" if what == "resident" else f"{what}:{_shown(what, value)}"
        audit(conn, step.at, step.actor, f"{entity}.{action}", target, "by gateway import")
        payload = {"op": action, "entity": entity, "kind": what, "value": value, "at": step.at.isoformat()}
        enqueue(conn, "registry", payload, step.at)


def _shown(kind: str, value: str) -> str:
    return mask_card(value) if kind == "card" else value


def _slots(conn: sqlite3.Connection, cols: frozenset[str], rows: Values, step: Step) -> None:
    del step
    owner = "DO UPDATE SET resident_id = excluded.resident_id" if "resident_ref" in cols else "DO NOTHING"
    conn.executemany(
        f"""INSERT INTO slots (zone, number, resident_id)
           VALUES (:zone, :number, (SELECT id FROM residents WHERE ref = :resident_ref))
           ON CONFLICT (zone, number) {owner}""",
        ({k: v[k] for k in ("zone", "number", "resident_ref")} for v in rows),
    )
    if "plates" not in cols:
        return  # the slots' cars stay as they are
    for v in rows:
        slot = conn.execute(
            "SELECT id FROM slots WHERE zone = ? AND number = ?", (v["zone"], v["number"])
        ).fetchone()[0]
        conn.execute("DELETE FROM slot_vehicles WHERE slot_id = ?", (slot,))
        conn.executemany(
            "INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id) "
            "SELECT ?, id FROM vehicles WHERE plate = ?",
            ((slot, p) for p in v["plates"]),
        )


WRITERS: dict[str, Callable[[sqlite3.Connection, frozenset[str], Values, Step], None]] = {
    "residents": _residents,
    "vehicles": _vehicles,
    "cards": _cards,
    "slots": _slots,
}
