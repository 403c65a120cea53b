"""A database damaged on the SD card ("database disk image is malformed"): at start and in service.
The damage is one page overwritten, as bit rot on a card leaves it: no loop device needed."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drivers.simulated import SimulatedRelay
from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.test_process import write_site
from tests.ui.conftest import CARD, Traffic, bearer, make_config, start_site

REPO = Path(__file__).resolve().parents[1]


def damage(db: Path, name: str) -> None:
    """Bit rot on the card: the page of table or index `name` overwritten with garbage."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    conn.close()
    with open(db, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def test_a_damaged_database_at_start_says_so_and_exits_78(tmp_path: Path) -> None:
    """The installer found the service restarting every 2 s with a Python traceback ending in
    `sqlite3.DatabaseError: database disk image is malformed` (exit 1, systemd restarts it for
    ever). README promises exit 78 for a bad database with a line that says what to do (restore
    gateway.db from a backup), as open_database does for a file that is no database at all."""
    config = write_site(tmp_path)
    damage(tmp_path / "data" / "gateway.db", "alarms")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "nobody.sock")},
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-1500:]
    assert proc.returncode == 78, proc.stderr[-1500:]
    assert "damaged" in proc.stderr and "backup" in proc.stderr, proc.stderr[-1500:]
    assert "Replacing a box" in proc.stderr and "free disk space" not in proc.stderr, proc.stderr[-1500:]


def test_guard_can_open_by_hand_when_a_damaged_database_refuses_decisions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A page of the upload queue's index is damaged on the card: every decision is refused
    storage_failed and the guard's panel tells him 可点开闸手动放行 (Open still lets them through),
    README: "the gate stays shut ... and the guard can still open by hand". He pressed 开闸 and was
    refused (503, "free disk space"), the door stayed locked: the resident could not get in at all.
    The opening goes ahead, its record waiting; the journal says to restore the database, not to
    free disk space."""
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    site.gw.stop()
    damage(site.gw.db_path, "sqlite_autoindex_outbox_1")
    gw = Gateway(cfg, chooser_for=Traffic().chooser_for)
    gw.start()
    try:
        door = gw.devices.lanes["door"].relays[0]
        assert isinstance(door, SimulatedRelay)
        ev = gw.on_worker(
            lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
        ).result(10)
        assert ev.reason == "storage_failed" and door.pulses == []
        caplog.set_level(logging.ERROR, logger="gateway.runtime.hand_opens")
        with TestClient(create_app(gw)) as client:
            r = client.post(
                "/api/lanes/door/open", json={"reason": "业主刷卡 系统故障"}, headers=bearer(site.guard_token)
            )
        assert r.status_code == 200, r.json()
        assert r.json()["record_waits"] is True and r.json()["waits_for"] == "unwritable", r.json()
        assert len(door.pulses) == 1
        [line] = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
        assert "damaged" in line and "backup" in line and "free disk space" not in line, line
    finally:
        gw.stop()
