"""New databases in the tests made from the schema the migrations make, migrated once per test process.

Every test's gateway opens a new database, and migrating one from nothing runs each of the
schema's steps (hundreds of statements, tables rebuilt again and again): about 0.1 s of CPU, most
of a typical test's, thousands of times over in the suite. Here the first new database of a test
process is migrated as the gateway does (gateway/store/database.py, _migrate), and its tables,
indexes, views, triggers and rows are read back; every later new database is created from them in
one transaction. Checked once per process: a database made that way has the same schema and rows
as the migrated one, or the tests stop. An upgrade (a database with a version), a test's older
schema (`until`), or a new database that cannot be made this way (a full disk, a read-only card)
goes to the real migration, which says what it says to users. GATEWAY_TESTS_MIGRATE=1 migrates
every new database."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gateway.store import database
from gateway.store.schema import SCHEMA_VERSION

_real_migrate = database._migrate
# Tables first, then what is built on them, each kind in the order the migrations left it.
_KIND_ORDER = "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END"


@dataclass(frozen=True)
class Schema:
    statements: list[str]
    rows: dict[str, tuple[list[str], list[tuple[object, ...]]]]  # table: its columns, its rows


def read_schema(conn: sqlite3.Connection) -> Schema:
    statements = [
        sql
        for (sql,) in conn.execute(
            f"SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            f"ORDER BY {_KIND_ORDER}, rowid"
        )
    ]
    rows = {}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"):
        found = conn.execute(f'SELECT * FROM "{table}"')
        kept = found.fetchall()
        if kept:
            rows[table] = ([c[0] for c in found.description], kept)
    return Schema(statements, rows)


def _compared(conn: sqlite3.Connection) -> tuple[object, ...]:
    return (
        conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall(),
        read_schema(conn).rows,
        conn.execute("PRAGMA user_version").fetchone(),
    )


_template: Schema | None = None


def _schema() -> Schema:
    global _template
    if _template is None:
        with tempfile.TemporaryDirectory(prefix="fresh-schema-") as folder:
            path = Path(folder) / "migrated.db"
            migrated = database.open_database(path, migrate=False).conn
            _real_migrate(migrated, 0, path)
            made = sqlite3.connect(Path(folder) / "made.db", isolation_level=None)
            try:
                template = read_schema(migrated)
                if not _made(made, template):
                    raise RuntimeError("tests/fresh_schema.py could not make a new database from the schema")
                if _compared(made) != _compared(migrated):
                    raise RuntimeError(
                        "tests/fresh_schema.py: a database made from the migrated schema differs from "
                        "the migrated one; fix read_schema (or run with GATEWAY_TESTS_MIGRATE=1)"
                    )
            finally:
                migrated.close()
                made.close()
        _template = template
    return _template


def _made(conn: sqlite3.Connection, schema: Schema) -> bool:
    """The schema and its rows in `conn`, a new database nobody has made meanwhile; False where it
    was not (another process made it first, or storage refused), with nothing left of the try."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        if (
            conn.execute("PRAGMA user_version").fetchone()[0] != 0
            or conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone()
        ):
            conn.execute("ROLLBACK")
            return False
        for statement in schema.statements:
            conn.execute(statement)
        for table, (columns, rows) in schema.rows.items():
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return False


def _migrate_new_from_schema(
    conn: sqlite3.Connection, version: int, path: Path, until: int = SCHEMA_VERSION
) -> None:
    if version == 0 and until == SCHEMA_VERSION and _made(conn, _schema()):
        return
    _real_migrate(conn, version, path, until)


def install() -> None:
    if os.environ.get("GATEWAY_TESTS_MIGRATE") != "1":
        database._migrate = _migrate_new_from_schema
