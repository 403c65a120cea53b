"""The switch of an older database (use_incremental_vacuum's VACUUM) writes one of its two copies
of the records to a temporary file. SQLite puts those in its own temporary folder (SQLITE_TMPDIR,
TMPDIR, else /var/tmp: under the unit's PrivateTmp, on the root card), not on the data disk that the
room check looks at and the WARNING tells the installer to free: the switch writes it in the data
directory (README, Room on the card: "about twice the size of the records free on the data disk").
The root card is a small ext4 image on a loop device (tests/sdcard.py: skipped, saying why, where
none can be made)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, cast

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.database import INCREMENTAL_VACUUM, use_incremental_vacuum
from tests.parking.conftest import make_gw  # noqa: F401  (fixtures)
from tests.sdcard import sd_card
from tests.test_retention_query_plans import _fill_history
from tests.test_storage_fix50_failed_card_nearly_full import fill

START = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config
gw = Gateway(parking_config(Path(sys.argv[1])))
gw.conn.close()
"""


def _auto_vacuum(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])


def _older_database(make_gw: Callable[..., Gateway], rows: int) -> Path:  # noqa: F811
    """A database as versions before this one made it (auto_vacuum off), some MB of records."""
    gw = make_gw()
    _fill_history(gw, rows)
    gw.conn.execute("PRAGMA auto_vacuum=NONE")
    gw.conn.execute("VACUUM")
    gw.conn.close()
    db = gw.data_dir / "gateway.db"
    assert _auto_vacuum(db) == 0
    return db


def test_switch_on_a_data_disk_with_room_is_done_with_the_temporary_folder_full(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    """The installer moved site.data_dir to a big card (as disk_low asks); the root card, where
    SQLite writes its temporary files, is full. At every start the switch failed and the journal
    said "fix: free disk space in <data_dir>", a disk with hundreds of MB free: freeing it never
    helped. The switch writes its copy on the data disk, the one its room check looks at."""
    db = _older_database(make_gw, 20_000)
    data = db.parent
    assert shutil.disk_usage(data).free > 200 << 20  # the big card: room for the switch
    with sd_card(tmp_path / "root-card", size_mb=16) as card:
        fill(card.mount)  # the root card, with /var/tmp on it: next to full
        env = dict(os.environ, SQLITE_TMPDIR=str(card.mount))
        started = subprocess.run(
            [sys.executable, "-c", START, str(data)],
            cwd=Path.cwd(),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert started.returncode == 0, started.stderr[-3000:]
    warned = [ln for ln in started.stderr.splitlines() if ln.startswith("WARNING") and "VACUUM" in ln]
    assert _auto_vacuum(db) == INCREMENTAL_VACUUM and not warned, (
        f"the data disk has {shutil.disk_usage(data).free >> 20} MiB free, the temporary folder "
        f"{card.mount} is full; the journal says: {started.stderr[-3000:]}"
    )


def test_other_temporary_files_go_where_they_went_after_the_switch(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """SQLite's temporary folder is the process's: the data directory only for the switch."""
    db = _older_database(make_gw, 200)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        use_incremental_vacuum(conn, db)
        assert conn.execute("PRAGMA temp_store_directory").fetchall() in ([], [("",)], [(None,)])
    assert _auto_vacuum(db) == INCREMENTAL_VACUUM


class _FullAfterItCommitted:
    """A connection whose VACUUM committed the switch, then was told the disk is full (SQLITE_FULL):
    what the reviewer saw with the temporary folder full."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        cursor = self._conn.execute(sql, *args)
        if sql == "VACUUM":
            exc = sqlite3.OperationalError("database or disk is full")
            exc.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
            raise exc
        return cursor


def test_a_vacuum_that_failed_after_switching_is_not_said_to_have_changed_nothing(
    make_gw: Callable[..., Gateway],  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = _older_database(make_gw, 200)
    caplog.set_level(logging.INFO, logger="gateway.store.database")
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        use_incremental_vacuum(cast(sqlite3.Connection, _FullAfterItCommitted(conn)), db)
    assert _auto_vacuum(db) == INCREMENTAL_VACUUM
    said = [r.getMessage() for r in caplog.records if "VACUUM" in r.getMessage()]
    assert said and not any("not switched" in s or "nothing was changed" in s for s in said), said
    assert any("switched" in s for s in said), said
