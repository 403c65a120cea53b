"""The staging file of a CSV import: its checked rows, typed, one table per kind.

`gateway import` writes every checked row here first (phones already masked and hashed: no clear
number is ever on disk), then csv_steps.py writes them into the store in SQL, a range of rows per
step, with this file attached. Rows keep the order of their files; a run is a stretch of rows of one
kind whose file had the same optional columns (only those are written over the store's values).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from gateway.privacy import Secrets, mask_phone
from gateway.store.card_respell import spelled_sql
from gateway.store.csv_import import Batch
from gateway.store.csv_rows import KINDS, ResidentRow

STAGING_NAME = "import-staging.db"

# `told`: 1 where each step tells the central server of the rows it writes (csv_records.py). A
# file an older release staged has no such column: the steps it wrote before it was cut short told
# nobody, so the run that finishes it after the upgrade tells every row it writes (Staged.told).
# `steps_kept`: 1 where each step keeps how far the import got (import_steps, schema 70), so that no
# record there means nothing of it is in. A file a release before schema 70 staged has no such
# column: that release's steps may have got further than any record (Staged.steps_kept).
_META = """
CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), import_id TEXT NOT NULL, files TEXT NOT NULL,
    actor TEXT NOT NULL, counts TEXT NOT NULL, total INTEGER NOT NULL, told INTEGER NOT NULL DEFAULT 0,
    steps_kept INTEGER NOT NULL DEFAULT 0);
"""
# csv_recheck.py asks, for each card in the store tied to a car of a step, whether the import gives
# that card too: without this, each asking read every staged card. Made once the rows are in.
_CARDS_BY_NUMBER = "CREATE INDEX IF NOT EXISTS cards_card ON cards(card)"
# A file an older version staged (an import cut short, finished after the upgrade) holds its Wiegand
# numbers as typed (54:15694): spelled as the register now has them (schema migration 51), or the
# import wrote the card as a second row beside its respelled one, and readers found the old holder.
_CARDS_AS_READERS_SPELL = (
    f"UPDATE cards SET card = {spelled_sql('card')} WHERE {spelled_sql('card')} IS NOT card "
    f"AND {spelled_sql('card')} IS NOT NULL"
)
# csv_steps.py asks, for a slot a car inside is parked on or listed by, whether the import gives it
# (_CARS_GOING): without this, each asking read every staged slot.
_SLOTS_BY_NUMBER = "CREATE INDEX IF NOT EXISTS slots_number ON slots(zone, number)"
_TABLES = """
CREATE TABLE runs (kind TEXT NOT NULL, given TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL);
CREATE TABLE residents (n INTEGER PRIMARY KEY, ref TEXT, building TEXT, unit TEXT, room TEXT, name TEXT,
    pmode TEXT, phone_masked TEXT, phone_hash TEXT, valid_from TEXT, valid_to TEXT, blocked INTEGER);
CREATE TABLE vehicles (n INTEGER PRIMARY KEY, plate TEXT, resident_ref TEXT, class TEXT,
    monthly_until TEXT, valid_from TEXT, valid_to TEXT, blocked INTEGER);
CREATE TABLE cards (n INTEGER PRIMARY KEY, card TEXT, resident_ref TEXT, plate TEXT, valid_from TEXT,
    valid_to TEXT, hours TEXT, blocked INTEGER);
CREATE TABLE slots (n INTEGER PRIMARY KEY, zone TEXT, number TEXT, resident_ref TEXT);
CREATE TABLE slot_plates (n INTEGER NOT NULL, plate TEXT NOT NULL, PRIMARY KEY (n, plate)) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class Run:
    """Rows first..last (inclusive) of one kind, from files with the same optional columns."""

    kind: str
    given: frozenset[str]
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class Staged:
    """An import written to its staging file and not yet finished in the store."""

    path: Path
    meta: dict[str, Any]  # import_id, files, actor, counts
    runs: list[Run]
    total: int
    told: bool = True  # False: staged by a release whose steps told the central server nothing
    # False: staged by a release before schema 70, whose steps kept no record of how far they got
    # (import_steps): the rows it wrote may go further than the runs since the upgrade recorded.
    steps_kept: bool = True


def _phone(r: ResidentRow, given: frozenset[str], secrets: Secrets) -> tuple[str, str, str]:
    """(what to do with the stored phone, the masked number, its hash)."""
    if r.phone:  # a clear number: masked and hashed here, never staged
        return ("set", mask_phone(r.phone), secrets.digest("phone", r.phone))
    if r.phone_masked:  # an export's masked number: shown, not matchable
        return ("masked", r.phone_masked, "")
    if "phone" in given or "phone_masked" in given:  # an empty cell: no phone
        return ("set", "", "")
    return ("keep", "", "")


def _residents(batch: Batch, secrets: Secrets) -> Iterator[tuple[Any, ...]]:
    rows = iter(batch.residents)
    for read in batch.read:
        if read.kind != "residents":
            continue
        for r in islice(rows, read.count):
            phone = _phone(r, read.given, secrets)
            yield (
                r.ref,
                r.building,
                r.unit,
                r.room,
                r.name,
                *phone,
                r.valid_from,
                r.valid_to,
                int(r.blocked),
            )


def _tables(batch: Batch, secrets: Secrets) -> dict[str, Iterable[tuple[Any, ...]]]:
    """Per kind, in the order of KINDS: the staged values of its rows."""
    return {
        "residents": _residents(batch, secrets),
        "vehicles": (
            (v.plate, v.resident_ref, v.vehicle_class, v.monthly_until)
            + (v.valid_from, v.valid_to, int(v.blocked))
            for v in batch.vehicles
        ),
        "cards": (
            (c.card, c.resident_ref, c.plate, c.valid_from, c.valid_to, c.hours, int(c.blocked))
            for c in batch.cards
        ),
        "slots": ((s.zone, s.number, s.resident_ref) for s in batch.slots),
    }


def _runs(batch: Batch) -> list[Run]:
    """Each file's stretch of its kind's rows, numbered in the order of KINDS."""
    runs: list[Run] = []
    n = 1
    for kind in KINDS:
        for read in batch.read:
            if read.kind == kind and read.count:
                if runs and runs[-1].kind == kind and runs[-1].given == read.given:
                    runs[-1] = Run(kind, read.given, runs[-1].first, n + read.count - 1)
                else:
                    runs.append(Run(kind, read.given, n, n + read.count - 1))
                n += read.count
    return runs


def stage(path: Path, batch: Batch, secrets: Secrets, meta: dict[str, Any]) -> Staged:
    """Write the checked rows to a new staging file (the copy a later run finishes from)."""
    remove(path)
    conn = sqlite3.connect(path, isolation_level=None)
    n = 1
    try:
        conn.executescript(_META + _TABLES)
        conn.execute("BEGIN")
        counts = batch.counts()
        for kind, values in _tables(batch, secrets).items():
            width = len(conn.execute(f"SELECT * FROM {kind} LIMIT 0").description)
            marks = ",".join("?" * width)
            numbered = ((n + i, *v) for i, v in enumerate(values))
            conn.executemany(f"INSERT INTO {kind} VALUES ({marks})", numbered)
            if kind == "slots":
                conn.executemany(
                    "INSERT OR IGNORE INTO slot_plates VALUES (?, ?)",
                    ((n + i, p) for i, s in enumerate(batch.slots) for p in s.plates),
                )
            n += counts[kind]
        conn.execute(_CARDS_BY_NUMBER)
        conn.execute(_SLOTS_BY_NUMBER)
        runs = _runs(batch)
        conn.executemany(
            "INSERT INTO runs VALUES (?, ?, ?, ?)",
            ((r.kind, ",".join(sorted(r.given)), r.first, r.last) for r in runs),
        )
        conn.execute(
            "INSERT INTO meta VALUES (1, ?, ?, ?, ?, ?, 1, 1)",
            (
                meta["import_id"],
                json.dumps(meta["files"], ensure_ascii=False),
                meta["actor"],
                json.dumps(meta["counts"]),
                n - 1,
            ),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return Staged(path, meta, runs, n - 1)


def read_staged(path: Path) -> Staged | None:
    """The import a staging file holds (not finished: the file goes once it is), or None when there
    is none or it was written only partly (it never got to its first step). Raises sqlite3.Error
    when a whole one cannot be read (or typed, for a file of the version before), damaged or held
    by another process: it is kept, for part of it may be in the store."""
    if not path.exists():
        return None
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        try:
            cursor = conn.execute("SELECT * FROM meta")
            found = cursor.fetchone()
        except sqlite3.OperationalError as exc:
            if _no_table(exc, "meta"):
                return None  # a power cut before its tables were made: never got to its first step
            raise
        if found is None:
            return None  # the transaction that writes the rows and then the meta never committed
        if _has_table(conn, "rows") and not _has_table(conn, "runs"):
            _upgrade_json_rows(conn)
        conn.execute(_CARDS_BY_NUMBER)  # a file staged before they were made there
        conn.execute(_CARDS_AS_READERS_SPELL)  # a file staged before the upgrade to schema 51
        conn.execute(_SLOTS_BY_NUMBER)
        runs = conn.execute("SELECT kind, given, first, last FROM runs ORDER BY first").fetchall()
    finally:
        conn.close()
    row = dict(zip([d[0] for d in cursor.description], found, strict=True))
    meta = {"import_id": row["import_id"], "files": json.loads(row["files"]), "actor": row["actor"]}
    meta["counts"] = json.loads(row["counts"])
    given = [Run(k, frozenset(g.split(",")) - {""}, first, last) for k, g, first, last in runs]
    told, steps_kept = bool(row.get("told")), bool(row.get("steps_kept"))
    return Staged(path, meta, given, row["total"], told=told, steps_kept=steps_kept)


def _no_table(exc: sqlite3.OperationalError, name: str) -> bool:
    """SQLite's "no such table" for `name`: only that means the file never got as far as its
    tables. A damaged page (SQLITE_CORRUPT) or the file held by another process (SQLITE_BUSY) is an
    import that may be half in the store, and its file must stay (it was deleted without a word)."""
    return str(exc) == f"no such table: {name}"


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        is not None
    )


def _upgrade_json_rows(conn: sqlite3.Connection) -> None:
    """A staging file from before 2026-11-22 (an import it left unfinished, then the gateway was
    updated): a table `rows` of (n, kind, given, JSON of the values), in the order of KINDS. The same
    rows, typed, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, _TABLES.split(";")):
            conn.execute(statement)
        runs: list[tuple[str, str, int, int]] = []
        for n, kind, given, data in conn.execute(
            "SELECT n, kind, given, data FROM rows ORDER BY n"
        ).fetchall():
            values = json.loads(data)
            columns = [d[0] for d in conn.execute(f"SELECT * FROM {kind} LIMIT 0").description][1:]
            marks = ",".join("?" * (len(columns) + 1))
            conn.execute(f"INSERT INTO {kind} VALUES ({marks})", (n, *(values[c] for c in columns)))
            for plate in values.get("plates", []) if kind == "slots" else []:
                conn.execute("INSERT OR IGNORE INTO slot_plates VALUES (?, ?)", (n, plate))
            if runs and runs[-1][:2] == (kind, given) and runs[-1][3] == n - 1:
                runs[-1] = (kind, given, runs[-1][2], n)
            else:
                runs.append((kind, given, n, n))
        conn.executemany("INSERT INTO runs VALUES (?, ?, ?, ?)", runs)
        conn.execute("DROP TABLE rows")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-journal")):
        p.unlink(missing_ok=True)
