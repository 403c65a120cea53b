"""A power cut (or a stop) during the switch's VACUUM leaves gateway.db-wal holding the VACUUM's
uncommitted copy of the records. The next start counted that room as taken, refused the switch and
told the installer to free space on the card, though the room is the gateway's own leftover WAL
(README, Room on the card: a failed one "is tried again at the next start"). The card is a small
ext4 image on a loop device (tests/sdcard.py: skipped, saying why, where none can be made)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config, seed
from tests.sdcard import sd_card
from tests.test_retention_query_plans import _fill_history

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


def _header_auto_vacuum(db: Path) -> int:
    """auto_vacuum as the file's header says it (no connection: closing one would empty the WAL)."""
    head = db.read_bytes()[:68]
    if not int.from_bytes(head[52:56], "big"):
        return 0
    return 2 if int.from_bytes(head[64:68], "big") else 1


def _cut_mid_vacuum(data: Path, env: dict[str, str], at: int) -> None:
    """The gateway started, and killed (the power cut) once gateway.db-wal has `at` bytes."""
    wal = data / "gateway.db-wal"
    proc = subprocess.Popen([sys.executable, "-c", START, str(data)], cwd=Path.cwd(), env=env)
    while proc.poll() is None:  # the power goes as the VACUUM writes its copy into the WAL
        try:
            grown = wal.stat().st_size > at
        except FileNotFoundError:
            continue
        if grown:
            proc.kill()
            break
    proc.wait()
    assert proc.returncode == -9, "the VACUUM ended before the cut"


def _wal_uncommitted(data: Path, look: Path) -> bool:
    """A copy of the database and its WAL opened elsewhere: the VACUUM was not committed."""
    shutil.rmtree(look, ignore_errors=True)
    look.mkdir()
    for name in ("gateway.db", "gateway.db-wal"):
        shutil.copy(data / name, look / name)
    return _auto_vacuum(look / "gateway.db") == 0


def _run(script: str, data: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, str(data)],
        cwd=Path.cwd(),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_switch_cut_short_is_done_at_the_next_start(tmp_path: Path) -> None:
    """The card had room for the switch; the power went during its VACUUM. The next start says the
    card lacks room for it ("free space there (the old gateway.db.v*.bak copies ..., old
    snapshots)") and leaves the database unswitched: the missing room is the gateway's own
    gateway.db-wal from the cut, gone a moment later. The next start should switch it (the leftover
    WAL emptied before the room is judged), as the README promises."""
    with sd_card(tmp_path / "card", size_mb=256) as card:
        data = card.mount / "data"
        cfg = parking_config(data)
        seed(cfg, tmp_path)
        gw = Gateway(cfg)
        _fill_history(gw, 40_000)
        gw.conn.execute("PRAGMA auto_vacuum=NONE")
        gw.conn.execute("VACUUM")
        gw.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        gw.conn.close()
        db = data / "gateway.db"
        assert _auto_vacuum(db) == 0
        with closing(sqlite3.connect(db)) as conn:
            records = conn.execute("PRAGMA page_count").fetchone()[0] * 4096
        # footage leaves the room the switch asks (two copies of the records) and 6 MB more
        left = shutil.disk_usage(card.mount).free - (2 * records + (7 << 20))
        with open(card.mount / "footage.bin", "wb") as f:
            f.truncate(0)
            f.write(b"\1" * left)
            f.flush()
            os.fsync(f.fileno())
        env = dict(os.environ, SQLITE_TMPDIR=str(card.mount))  # /var/tmp on the same card
        wal = data / "gateway.db-wal"
        older = tmp_path / "older.db"
        shutil.copy(db, older)
        for _ in range(10):  # a cut after the VACUUM's commit switched it: cut again
            shutil.copy(older, db)
            _cut_mid_vacuum(data, env, records // 3)
            if _wal_uncommitted(data, tmp_path / "look"):
                break
        else:
            raise AssertionError("the power cut never came before the VACUUM's commit")
        left_wal = wal.stat().st_size
        started = _run(START, data, env)
        assert started.returncode == 0, started.stderr[-3000:]
        switched = _header_auto_vacuum(db)
        wal_now = (data / "gateway.db-wal").stat().st_size if (data / "gateway.db-wal").exists() else 0
        free_now = shutil.disk_usage(card.mount).free
    said = [ln for ln in started.stderr.splitlines() if "VACUUM" in ln]
    assert switched == 2, (
        f"the start after the cut left the database unswitched (the cut left a {left_wal >> 20} MiB WAL, now "
        f"{wal_now >> 20} MiB, {free_now >> 20} MiB free); the journal says: {said}"
    )
