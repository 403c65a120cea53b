"""gateway.db lost to fsck, its -wal and -shm left behind (Review 67 H1). The refusal said to install
the backup's gateway.db and start: SQLite then replayed the lost database's WAL onto the copy, and
the restored database was damaged (integrity_check: wrong # of entries in index). The refusal now
moves the lost database's -wal and -shm aside (renamed, never deleted) and says where: the backup's
copy then opens whole, and the lost database itself, put back from lost+found with them as the
refusal says, still has its last writes."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.errors import StorageError
from gateway.store.audit import audit
from gateway.store.database import HIGH_WATER_NAME, open_database
from gateway.store.outbox import enqueue

AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def _write(conn: sqlite3.Connection, first: int, n: int) -> None:
    with closing(conn.cursor()):
        conn.execute("BEGIN")
        for i in range(first, first + n):
            audit(conn, AT, "guard1", "lane.open", "door", f"住户 {i}")
            enqueue(conn, "lane_action", {"lane": "door", "n": i}, AT)
        conn.execute("COMMIT")


def _lost(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A data directory as fsck leaves it: gateway.db gone to lost+found (returned), its -wal (not
    yet checkpointed into it) and -shm left behind; and last night's backup of gateway.db."""
    data, night, lost = tmp_path / "data", tmp_path / "night", tmp_path / "lost+found"
    night.mkdir()
    lost.mkdir()
    path = data / "gateway.db"
    conn = open_database(path).conn
    (data / HIGH_WATER_NAME).write_text('{"stream": "5f0c9a1e", "seq": 41}', encoding="utf-8")
    _write(conn, 0, 300)
    with closing(sqlite3.connect(night / "gateway.db")) as target:
        conn.backup(target)  # as `gateway backup` copies it
        target.execute("PRAGMA journal_mode=DELETE")
    _write(conn, 300, 300)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    _write(conn, 600, 300)  # in the WAL only, as the card failed
    kept = {name: (data / name).read_bytes() for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm")}
    conn.close()  # (a checkpoint the failed card never made: the files are put back as they were)
    for name, content in kept.items():
        (data / name).write_bytes(content)
    (data / "gateway.db").rename(lost / "#1311")
    return data, night / "gateway.db", lost / "#1311"


def _audited(path: Path) -> tuple[str, int]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0], conn.execute(
            "SELECT count(*) FROM audit WHERE action = 'lane.open'"
        ).fetchone()[0]


def test_the_backup_restored_as_the_refusal_says_opens_whole(tmp_path: Path) -> None:
    data, backup, _ = _lost(tmp_path)
    with pytest.raises(StorageError, match="gateway.db is missing") as refused:
        open_database(data / "gateway.db")
    assert "gateway.db-wal" in refused.value.fix and "moved aside" in refused.value.fix, refused.value.fix
    assert not (data / "gateway.db-wal").exists() and not (data / "gateway.db-shm").exists()
    assert sorted(p.name.split(".lost-")[0] for p in data.glob("gateway.db-*.lost-*")) == [
        "gateway.db-shm",
        "gateway.db-wal",
    ]

    shutil.copy(backup, data / "gateway.db")  # sudo install ... BACKUP/gateway.db, then start
    open_database(data / "gateway.db", service=True).conn.close()
    assert _audited(data / "gateway.db") == ("ok", 300)

    # Refused again (the copy not yet put back, say), it still names where they are.
    (data / "gateway.db").unlink()
    with pytest.raises(StorageError) as again:
        open_database(data / "gateway.db")
    assert ".lost-" in again.value.fix, again.value.fix


def test_the_lost_database_put_back_with_its_wal_keeps_its_last_writes(tmp_path: Path) -> None:
    data, _, found = _lost(tmp_path)
    with pytest.raises(StorageError):
        open_database(data / "gateway.db")
    # What the refusal says for the lost database itself: its -wal and -shm back with it.
    shutil.copy(found, data / "gateway.db")
    for moved in data.glob("gateway.db-*.lost-*"):
        moved.rename(data / moved.name.split(".lost-")[0])
    open_database(data / "gateway.db", service=True).conn.close()
    assert _audited(data / "gateway.db") == ("ok", 900)
