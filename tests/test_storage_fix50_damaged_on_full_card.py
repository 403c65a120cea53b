"""A database damaged on a card that footage has also (nearly) filled: the damage is what stops the
start, and what the installer is told to put right. The card is a small ext4 image on a loop device
(tests/sdcard.py: skipped, saying why, where none can be made); a damage with no card needed too."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.errors import GatewayError, StorageError
from gateway.store.database import open_database
from tests.sdcard import sd_card
from tests.test_process import write_site

REPO = Path(__file__).resolve().parents[1]


def fill(folder: Path, leave: int = 256 * 1024) -> None:
    """Footage fills the card: less than 1 MiB left."""
    left = shutil.disk_usage(folder).free - leave
    with open(folder / "footage.bin", "wb") as f:
        while left > 0:
            n = min(1 << 20, left)
            f.write(b"\0" * n)
            left -= n
        f.flush()
        os.fsync(f.fileno())


def scramble_header(db: Path) -> None:
    """Bit rot on the card: the database's first page (its header) overwritten."""
    with open(db, "r+b") as f:
        f.write(b"\xff" * 4096)


def test_a_damaged_database_on_a_nearly_full_card_is_called_damaged_not_full(tmp_path: Path) -> None:
    """gateway.db's header is scrambled and the card has 256 KiB left. The start said `the data disk
    is full (file is not a database)`, `fix: free space ...; do not replace the database`, exit 1:
    systemd restarted it every 2 s and the installer freed space for nothing. It says the database
    is damaged, with the restore fix, exit 78, as the same database on a card with room does."""
    with sd_card(tmp_path / "data", size_mb=64) as card:
        config = write_site(tmp_path)
        config.write_text(config.read_text().replace(str(tmp_path / "data"), str(card.mount)))
        cfg = load_config(config)
        open_database(cfg.site.data_dir / "gateway.db").conn.close()
        scramble_header(card.mount / "gateway.db")
        fill(card.mount)
        proc = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "nobody.sock")},
        )
    err = proc.stderr[-1500:]
    assert "do not replace the database" not in proc.stderr, err
    assert "damaged" in proc.stderr and "backup" in proc.stderr, err
    assert proc.returncode == 78, err


def test_open_database_calls_a_damaged_file_damaged_whatever_the_room_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same order without a card: a disk reported with next to no room, a damaged header."""
    db = tmp_path / "gateway.db"
    open_database(db).conn.close()
    scramble_header(db)
    monkeypatch.setattr("gateway.store.database._disk_full", lambda folder, room=1 << 20: True)
    with pytest.raises(GatewayError) as raised:
        open_database(db)
    assert isinstance(raised.value, StorageError), raised.value  # exit 78, not 1
    assert "damaged" in str(raised.value) and "do not replace" not in raised.value.fix, raised.value.fix


def test_a_migration_stopped_by_damage_on_a_nearly_full_disk_is_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """_migration_failed tells the causes in the same order as open_database: damage first."""
    from gateway.store.database import _migration_failed

    exc = sqlite3.DatabaseError("database disk image is malformed")
    exc.sqlite_errorcode = sqlite3.SQLITE_CORRUPT  # type: ignore[attr-defined]
    monkeypatch.setattr("gateway.store.database._disk_full", lambda folder, room=1 << 20: True)
    error = _migration_failed(exc, tmp_path / "gateway.db", 40, 41, None)
    assert isinstance(error, StorageError) and "damaged" in str(error), error
