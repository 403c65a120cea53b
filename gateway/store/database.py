"""Opening the SQLite database: WAL, durability, foreign keys, migrations, and readable errors."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import sqlite_utils

from gateway.errors import GatewayError, StorageError
from gateway.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

DB_NAME = "gateway.db"
POLL_S = 0.001  # how often a writer asks again for the write lock


def open_database(
    path: Path, *, sync: Literal["full", "normal"] = "full", migrate: bool = True
) -> sqlite_utils.Database:
    """The database at `path`, created and migrated to this version's schema if needed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(
            f"cannot create the data directory {path.parent}: {exc.strerror}",
            fix="set site.data_dir to a directory the gateway user may write "
            "(under systemd: /var/lib/estate-gateway)",
        ) from exc
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={sync.upper()}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if _disk_full(path.parent):
            # Not the database's fault: it opens once there is room. Exit 1, so systemd tries again.
            raise GatewayError(
                f"cannot open the database {path}: the data disk is full ({exc})",
                fix=f"free space on the disk of {path.parent}; the gateway already deleted the "
                "snapshots it may (the oldest first); do not replace the database",
            ) from exc
        raise StorageError(
            f"cannot open the database {path}: {exc}",
            fix="check that the data directory is writable by the gateway user and the file is "
            "an estate-gateway database (restore it from a backup if it is damaged)",
        ) from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise StorageError(
            f"the database {path} has schema version {version}, written by a newer gateway; "
            f"this one knows up to version {SCHEMA_VERSION}",
            fix="upgrade estate-gateway, or restore the backup made before the newer version ran",
        )
    if migrate and version < SCHEMA_VERSION:
        _migrate(conn, version, path)
    return sqlite_utils.Database(conn)


def _disk_full(folder: Path, room: int = 1 << 20) -> bool:
    """Less than `room` bytes left where the database lives (SQLite says "disk I/O error" then)."""
    try:
        return shutil.disk_usage(folder).free < room
    except OSError:
        return False


def begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, asking again for the write lock every millisecond for as long as the
    connection's busy timeout (10 s), then failing with "database is locked" as SQLite would.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50 and 100 ms between
    tries. Behind a `gateway import`, which writes in steps of some ms with a gap after each, a
    lane waiting that way slept through gap after gap (150-200 ms); asking every millisecond, it
    takes the first gap."""
    timeout_ms = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(POLL_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout={timeout_ms}")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all of it is stored or none of it."""
    begin_immediate(conn)
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _migrate(conn: sqlite3.Connection, version: int, path: Path) -> None:
    # A migration may rebuild a table (SQLite's way to change a column): foreign keys are off
    # meanwhile, so dropping the old table cascades to nothing, and checked before the commit.
    # The legacy rename leaves other tables' triggers and views alone while it runs.
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA legacy_alter_table=ON")
    try:
        for number in range(version, SCHEMA_VERSION):
            log.info("migrating database %s to schema version %d", path, number + 1)
            try:
                conn.execute("BEGIN IMMEDIATE")
                for statement in _statements(MIGRATIONS[number]):
                    conn.execute(statement)
                broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                if broken is not None:
                    raise sqlite3.IntegrityError(f"a row of {broken[0]} names a missing {broken[2]} row")
                conn.execute(f"PRAGMA user_version={number + 1}")
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageError(
                    f"migrating {path} to schema version {number + 1} failed: {exc}",
                    fix="nothing was changed; free disk space or fix permissions and start again",
                ) from exc
    finally:
        conn.execute("PRAGMA legacy_alter_table=OFF")
        conn.execute("PRAGMA foreign_keys=ON")


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
