"""Writing a checked CSV import into the live store in short steps, so that no lane waits behind it.

A lane's decision writes in one short transaction; an import of 100,000 rows in one transaction held
the write lock for seconds, and past the 10 s busy timeout a card at the gate failed as
storage_failed. So the checked rows go first to a staging file next to the database (csv_staging.py).
It is attached to the store's connection, and each step is a few SQL statements that write a range
of its rows (upserts by key, references looked up in the store), followed by a pause in which a
waiting lane takes the lock. Steps are sized to take about STEP_S each.

All or nothing: nothing is written until every row of every file passed (csv_import.py). Once the
first step is in, the import is carried to its end: the staging file keeps the checked rows until
the last step is in, and if a step fails (disk full, power cut, the process killed) the next
`gateway import` writes them again from the first and finishes it (roll forward, as the MQTT
snapshots do). Every write is an upsert by key, so a row written twice stores the same thing; but
once the last step is in (its audit row says so) nothing of the import is written again, as that
would undo the changes made since. While the steps run a lane sees each resident, car, card and
slot either as it was or as the files have it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store.audit import audit
from gateway.store.csv_staging import Run, Staged
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.store.parking import off_slots_not_theirs
from gateway.store.registry import record_block

STEP_ROWS = 500  # the first step; later ones are sized to take about STEP_S
STEP_S = 0.02  # a lane waits about one step: 20 ms is nothing at a gate; 15 ms left the import target thin
MIN_STEP_ROWS = 50
MAX_STEP_ROWS = 20_000
# The gap after each step. A lane asks for the write lock every millisecond (begin_immediate), so
# a few ms let every waiting lane in before the next step.
PAUSE_S = 0.003
# The steps' pages are copied from the WAL into the database file this often, in a gap (a passive
# checkpoint holds no lock a lane needs), rather than by SQLite in a step's commit.
CHECKPOINT_S = 0.25


@dataclass(frozen=True, slots=True)
class Part:
    """Rows first..last of one run, written in one step; who the import's audit rows name, and when."""

    run: Run
    first: int
    last: int
    at: datetime
    actor: str

    @property
    def span(self) -> tuple[int, int]:
        return self.first, self.last


class Stopped(Exception):
    """A step failed; `done` rows were written before it (0: nothing of the import is in)."""

    def __init__(self, done: int, cause: sqlite3.Error):
        self.done = done
        self.cause = cause
        super().__init__(str(cause))


def apply_steps(
    conn: sqlite3.Connection,
    staged: Staged,
    now: Callable[[], datetime],
    pause: Callable[[], None] | None = None,
) -> None:
    """Write the staged rows in steps of about STEP_S each, the audit row and the upstream record
    with the last. Steps before the last commit without waiting for the disk (as snapshot steps
    do); the last one waits, and with it all before it. Raises Stopped."""
    level = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    try:
        conn.execute("ATTACH DATABASE ? AS st", (str(staged.path),))
    except sqlite3.Error as exc:
        raise Stopped(0, exc) from exc
    autocheckpoint = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    conn.execute("PRAGMA wal_autocheckpoint=0")
    done, sizer, checkpointed = 0, _Sizer(), time.monotonic()
    try:
        for spans, is_last in _steps(staged, sizer):
            conn.execute(f"PRAGMA synchronous={level if is_last else 1}")
            began = time.perf_counter()
            try:
                at = now()
                parts = [Part(run, first, last, at, staged.meta["actor"]) for run, first, last in spans]
                _step(conn, parts, staged.meta if is_last else None, at)
            except sqlite3.Error as exc:
                raise Stopped(done, exc) from exc
            done += sum(p.last - p.first + 1 for p in parts)
            if is_last:
                return
            sizer.took(time.perf_counter() - began)
            gap_began = time.perf_counter()
            if time.monotonic() - checkpointed >= CHECKPOINT_S:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                checkpointed = time.monotonic()
            if pause is not None:
                pause()
            else:
                time.sleep(max(0.0, PAUSE_S - (time.perf_counter() - gap_began)))
    finally:
        conn.execute(f"PRAGMA synchronous={level}")
        conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
        conn.execute("DETACH DATABASE st")


class _Sizer:
    """How many rows the next step takes: as many as took about STEP_S in the last one."""

    def __init__(self) -> None:
        self.rows = STEP_ROWS

    def took(self, seconds: float) -> None:
        wanted = int(self.rows * STEP_S / max(seconds, 1e-4))
        self.rows = min(MAX_STEP_ROWS, max(MIN_STEP_ROWS, wanted))


def _steps(staged: Staged, sizer: _Sizer) -> Iterator[tuple[list[tuple[Run, int, int]], bool]]:
    """Each step's parts (run, first, last), sizer.rows rows in all, and whether it is the last.
    An import of no rows is one step with no parts (its audit record)."""
    first = 1
    while True:
        last = min(staged.total, first + sizer.rows - 1)
        spans = [
            (r, max(first, r.first), min(last, r.last))
            for r in staged.runs
            if r.first <= last and r.last >= first
        ]
        yield spans, last >= staged.total
        if last >= staged.total:
            return
        first = last + 1


def _step(conn: sqlite3.Connection, parts: list[Part], meta: dict[str, Any] | None, at: datetime) -> None:
    with transaction(conn):
        for part in parts:
            WRITERS[part.run.kind](conn, part)
        if meta is not None:
            _finish(conn, meta, at)


def finished(conn: sqlite3.Connection, import_id: str) -> bool:
    """The last step is in already: an earlier run committed it but stopped before removing the
    staging file (which must then not be written again)."""
    found = conn.execute(
        "SELECT 1 FROM audit WHERE action = 'registry.import' AND detail LIKE ?", (f'%"{import_id}"%',)
    ).fetchone()
    return found is not None


def _finish(conn: sqlite3.Connection, meta: dict[str, Any], at: datetime) -> None:
    files = ",".join(meta["files"])
    detail = json.dumps({"import": meta["import_id"], "counts": meta["counts"]})
    audit(conn, at, str(meta["actor"]), "registry.import", files[:200], detail)
    payload = {"op": "import", "entity": "batch", "id": meta["import_id"], "counts": meta["counts"]}
    enqueue(conn, "registry", {**payload, "at": at.isoformat()}, at)


def _set(part: Part, always: list[str], optional: list[str], written_as: dict[str, str] | None = None) -> str:
    """The upsert's SET: the columns every file has, and the optional ones this run's files have
    (`written_as`: an optional file column stored in another column, e.g. a card's plate)."""
    written_as = written_as or {}
    given = [c for c in optional if c in part.run.given]
    return ", ".join(f"{c} = excluded.{c}" for c in always + [written_as.get(c, c) for c in given])


def _residents(conn: sqlite3.Connection, part: Part) -> None:
    if "blocked" in part.run.given:
        _audit_blocks(
            conn,
            part,
            "resident",
            """SELECT x.ref, x.blocked FROM st.residents x JOIN residents r ON r.ref = x.ref
               WHERE x.n BETWEEN ? AND ? AND r.blocked != x.blocked""",
        )
    optional = ["room", "valid_from", "valid_to", "blocked"]
    # A phone the file leaves out ('keep') stays; an export's masked number ('masked') keeps the
    # stored hash only when it is the stored number.
    conn.execute(
        f"""INSERT INTO residents (ref, building, unit, room, name, phone_masked, phone_hash,
                                   valid_from, valid_to, blocked)
           SELECT x.ref, x.building, x.unit, x.room, x.name,
                  CASE x.pmode WHEN 'keep' THEN coalesce(r.phone_masked, '') ELSE x.phone_masked END,
                  CASE x.pmode WHEN 'keep' THEN coalesce(r.phone_hash, '')
                      WHEN 'masked' THEN CASE WHEN x.phone_masked = r.phone_masked
                                              THEN r.phone_hash ELSE '' END
                      ELSE x.phone_hash END,
                  x.valid_from, x.valid_to, x.blocked
           FROM st.residents x LEFT JOIN residents r ON r.ref = x.ref
           WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (ref) DO UPDATE SET {_set(part, ["building", "unit", "name"], optional)},
               phone_masked = excluded.phone_masked, phone_hash = excluded.phone_hash""",
        part.span,
    )


def _vehicles(conn: sqlite3.Connection, part: Part) -> None:
    optional = ["class", "monthly_until"]
    conn.execute(
        f"""INSERT INTO vehicles (plate, class, resident_id, monthly_until)
           SELECT x.plate, x.class, (SELECT id FROM residents WHERE ref = x.resident_ref), x.monthly_until
           FROM st.vehicles x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (plate) DO UPDATE SET {_set(part, ["resident_id"], optional)}""",
        part.span,
    )
    _credentials(conn, part, "plate", "st.vehicles", "x.plate", "''")


def _cards(conn: sqlite3.Connection, part: Part) -> None:
    _credentials(conn, part, "card", "st.cards", "x.card", "x.hours")


def _credentials(conn: sqlite3.Connection, part: Part, kind: str, table: str, value: str, hours: str) -> None:
    if "blocked" in part.run.given:
        _audit_blocks(
            conn,
            part,
            kind,
            f"""SELECT {value}, x.blocked FROM {table} x
                JOIN credentials c ON c.kind = '{kind}' AND c.value = {value}
                WHERE x.n BETWEEN ? AND ? AND c.blocked != x.blocked""",
        )
    optional = ["valid_from", "valid_to", "hours", "blocked"] + (["plate"] if kind == "card" else [])
    conn.execute(
        f"""INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to,
                                    hours, blocked)
           SELECT '{kind}', {value}, (SELECT id FROM residents WHERE ref = x.resident_ref),
                  (SELECT id FROM vehicles WHERE plate = x.plate), x.valid_from, x.valid_to,
                  {hours}, x.blocked
           FROM {table} x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (kind, value) DO UPDATE SET pass_id = NULL,
               {_set(part, ["resident_id"], optional, {"plate": "vehicle_id"})}""",
        part.span,
    )


def _audit_blocks(conn: sqlite3.Connection, part: Part, what: str, changed: str) -> None:
    """A block the import sets or lifts (a lost card unblocked by a list) is on record one by one.
    `changed` selects (value, blocked as the file has it) where the store has it otherwise."""
    for value, blocked in conn.execute(changed, part.span).fetchall():
        record_block(conn, part.at, part.actor, what, value, bool(blocked), "by gateway import")


_SLOTS_IN_SPAN = """SELECT s.id FROM st.slots x JOIN slots s ON s.zone = x.zone AND s.number = x.number
    WHERE x.n BETWEEN ? AND ?"""


def _slots(conn: sqlite3.Connection, part: Part) -> None:
    keeps_owner = "resident_ref" not in part.run.given
    owner = "DO NOTHING" if keeps_owner else "DO UPDATE SET resident_id = excluded.resident_id"
    conn.execute(
        f"""INSERT INTO slots (zone, number, resident_id)
           SELECT x.zone, x.number, (SELECT id FROM residents WHERE ref = x.resident_ref)
           FROM st.slots x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (zone, number) {owner}""",
        part.span,
    )
    if "plates" not in part.run.given:
        return  # the slots' cars stay as they are
    conn.execute(f"DELETE FROM slot_vehicles WHERE slot_id IN ({_SLOTS_IN_SPAN})", part.span)
    conn.execute(
        """INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id)
           SELECT s.id, v.id FROM st.slot_plates p
           JOIN st.slots x ON x.n = p.n
           JOIN slots s ON s.zone = x.zone AND s.number = x.number
           JOIN vehicles v ON v.plate = p.plate
           WHERE p.n BETWEEN ? AND ?""",
        part.span,
    )
    off_slots_not_theirs(conn, part.at, _SLOTS_IN_SPAN, part.span)  # the car parked there it no longer lists


WRITERS: dict[str, Callable[[sqlite3.Connection, Part], None]] = {
    "residents": _residents,
    "vehicles": _vehicles,
    "cards": _cards,
    "slots": _slots,
}
