"""A copy the upgrade made whole, its migration then cut short by a power cut (gateway/store/database.py
_back_up), does not block every later start by the room it takes: the next copy replaces it. A copy
of another schema version, which the way back may need, is never counted as room nor touched."""

from __future__ import annotations

import shutil
import sqlite3
from collections import namedtuple
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from gateway.errors import GatewayError
from gateway.store.database import open_database
from gateway.store.schema import SCHEMA_VERSION
from tests.test_store import database_at

_Usage = namedtuple("_Usage", "total used free")
MIB = 1 << 20


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def _site_at_v12(tmp_path: Path) -> Path:
    """A database of some size, as a site's is, as the gateway of schema version 12 left it."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 12)
    conn.execute("CREATE TABLE filler (b BLOB)")
    conn.executemany("INSERT INTO filler VALUES (zeroblob(4096))", [()] * 256)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _disk(monkeypatch: pytest.MonkeyPatch, folder: Path, capacity: int) -> None:
    monkeypatch.setattr(
        shutil, "disk_usage", lambda _p: _Usage(capacity, _size(folder), capacity - _size(folder))
    )


def _copy(path: Path, to: Path) -> None:
    """The copy as _back_up makes it: whole, one self-contained file."""
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(to)) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")


def _version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


@pytest.fixture
def disk_as_the_readme_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Path]:
    """The site's database, on a disk with the room the README asks (twice the database) and a
    little more (the -wal and -shm opening it makes), as it was before the upgrade's first start."""

    def make() -> Path:
        path = _site_at_v12(tmp_path)
        _disk(monkeypatch, tmp_path, _size(tmp_path) + 2 * path.stat().st_size + MIB + (128 << 10))
        return path

    return make


def test_a_whole_copy_left_by_a_power_cut_during_the_migration_does_not_block_every_later_start(
    disk_as_the_readme_asks: Callable[[], Path],
) -> None:
    """The upgrade's first start copies the database to gateway.db.v12.bak and the power fails
    during the migration (minutes on a large database; one transaction, so the database is still
    at version 12). Every start after it said "the data disk is full", exited 1 and systemd started
    it again for ever: the room it lacked is its own copy of this database, which it replaces."""
    path = disk_as_the_readme_asks()
    _copy(path, path.with_name("gateway.db.v12.bak"))  # the first start's copy; then the power cut

    try:
        db = open_database(path)
    except GatewayError as exc:
        pytest.fail(f"the start after the power cut never upgrades, its own copy taking the room: {exc}")
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.conn.close()
    assert _version(path.with_name("gateway.db.v12.bak")) == 12
    assert not path.with_name("gateway.db.v12.bak.part").exists()


def test_a_copy_of_another_version_is_not_counted_as_room_nor_touched(
    disk_as_the_readme_asks: Callable[[], Path],
) -> None:
    """gateway.db.v11.bak (the way back from an earlier upgrade, README) is not replaced by this
    upgrade's copy: its room is not this upgrade's, and a start short of room leaves it as it was."""
    path = disk_as_the_readme_asks()
    older = path.with_name("gateway.db.v11.bak")
    _copy(path, older)
    kept = older.read_bytes()

    with pytest.raises(GatewayError, match="the data disk is full"):
        open_database(path)
    assert older.read_bytes() == kept
    assert _version(path) == 12
    assert not path.with_name("gateway.db.v12.bak").exists()


def test_a_box_short_of_room_even_counting_the_copy_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting the copy it replaces, a box still short of room copies nothing and keeps that copy
    (the start says how much room the upgrade needs)."""
    path = _site_at_v12(tmp_path)
    backup = path.with_name("gateway.db.v12.bak")
    _copy(path, backup)
    kept = backup.read_bytes()
    _disk(monkeypatch, tmp_path, _size(tmp_path) + path.stat().st_size // 2)

    with pytest.raises(GatewayError, match="the data disk is full") as raised:
        open_database(path)
    assert "MiB free" in str(raised.value.fix)
    assert backup.read_bytes() == kept
    assert not path.with_name("gateway.db.v12.bak.part").exists()
    assert _version(path) == 12
