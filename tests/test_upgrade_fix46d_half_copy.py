"""A copy the upgrade made cut short by a power cut (gateway/store/database.py _back_up) does not block
the next start's upgrade by the room it takes."""

from __future__ import annotations

import shutil
import sqlite3
from collections import namedtuple
from contextlib import closing
from pathlib import Path

import pytest

from gateway.errors import GatewayError
from gateway.store.database import open_database
from gateway.store.schema import SCHEMA_VERSION
from tests.test_store import database_at

_Usage = namedtuple("_Usage", "total used free")


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def test_a_copy_cut_short_by_a_power_cut_is_not_left_to_block_every_later_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The estate's box has just the room the README asks (twice the database) and the power fails
    while the upgrade copies the database: `gateway.db.v12.bak.part`, nearly the database's size,
    is left beside it. At every start after it the gateway says the data disk is full ("free old
    snapshots, old gateway.db.v*.bak copies"), exits 1 and systemd starts it again, for ever:
    the room it lacks is its own dead half-copy, which it never removes (and which stays for good
    if the installer goes back to the old version). Without the power cut the same box upgrades."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 12)
    conn.execute("CREATE TABLE filler (b BLOB)")  # a database of some size, as a site's is
    conn.executemany("INSERT INTO filler VALUES (zeroblob(4096))", [()] * 256)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db_size = path.stat().st_size
    # A disk whose free space at the power-cut start was what the upgrade asks, and a little more.
    # the -shm and -wal opening it makes fit too
    capacity = _size(tmp_path) + 2 * db_size + (1 << 20) + (128 << 10)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _p: _Usage(capacity, _size(tmp_path), capacity - _size(tmp_path))
    )
    # The power cut: most of the copy written under its working name, then nothing.
    part = tmp_path / "gateway.db.v12.bak.part"
    shutil.copyfile(path, part)
    with part.open("r+b") as f:
        f.truncate(db_size - 8192)

    try:
        db = open_database(path)
    except GatewayError as exc:
        left = [p.name for p in tmp_path.iterdir()]
        pytest.fail(
            f"the upgrade never goes through, its own half-copy left taking the room: {exc}; "
            f"files: {sorted(left)}"
        )
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not part.exists()
    with closing(sqlite3.connect(tmp_path / "gateway.db.v12.bak")) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 12
