"""An SD card that fails while the gateway runs: the kernel aborts the filesystem's journal and
takes no more writes (errors=remount-ro); SQLite answers "disk I/O error" or "attempt to write a
readonly database". The disk has room: nothing the installer frees will help. On a machine where
no loop device can be made, each test skips and says why (tests/sdcard.py)."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import SnapshotWriter
from drivers.health import DeviceHealth
from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime import hand_opens
from gateway.runtime.worker import Unwaited
from tests.sdcard import Card, sd_card, site_on_card
from tests.test_process import write_site
from tests.ui.conftest import CARD, Site, bearer, make_config, start_site, wait_for

REPO = Path(__file__).resolve().parents[1]
_MARK = "INSERT INTO config_seen (key, value, first_seen) VALUES ('test.mark', 'x', ?)"


@pytest.fixture
def on_card(tmp_path: Path) -> Iterator[tuple[Site, Card]]:
    with site_on_card(tmp_path / "data") as both:
        yield both


def test_checkpoints_failing_on_a_read_only_card_do_not_say_to_free_disk_space(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """The card went read-only (the disk has room). The journal's WARNING said
    `checkpoint failed: attempt to write a readonly database ... (fix: free disk space in the
    data directory ...)`: the installer deletes snapshots for nothing. It says the disk takes
    no writes (read-only or failing: dmesg, replace the card), as the guard's toast does."""
    site, card = on_card
    gw = site.gw
    card_at_door = Presented("door", "card", CARD, 1.0, gw.now(), "door-reader")
    gw.on_worker(lambda c: gw.handle(card_at_door)).result(10)
    caplog.set_level(logging.WARNING, logger="gateway.runtime.worker")
    card.fail()
    wait_for(lambda: any("checkpoint failed" in r.getMessage() for r in caplog.records), timeout=10)
    [line] = [r.getMessage() for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert "free disk space" not in line, line
    assert "dmesg" in line and "replace or repair" in line, line
    gw.stop()  # the last checkpoint, at the stop, fails too: worded alike
    [last] = [r.getMessage() for r in caplog.records if "checkpoint at the stop failed" in r.getMessage()]
    assert "free disk space" not in last and "dmesg" in last, last


def test_a_write_nobody_waits_for_failing_on_a_failed_card_does_not_say_to_free_disk_space(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """The worker's own line for a write nobody waits for (an alarm raised in passing, a prune)
    said `fix: free disk space in the gateway's data directory or check its permissions` on a
    card gone read-only as well: it says what the card needs."""
    site, card = on_card
    gw = site.gw
    caplog.set_level(logging.ERROR, logger="gateway.runtime.worker")
    card.fail()
    write = Unwaited("the test's mark", lambda c: c.execute(_MARK, (gw.now().isoformat(),)))
    with pytest.raises(sqlite3.Error):
        gw.on_worker(write).result(10)
    [line] = [r.getMessage() for r in caplog.records if "the test's mark not written" in r.getMessage()]
    assert "free disk space" not in line and "takes no writes" in line, line


def test_an_opening_lost_at_a_stop_on_a_failed_card_does_not_say_to_free_disk_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The guard opened the door by hand after the card failed; the service is stopped. The
    journal's last line for the opening (its only record) gave the fix `free disk space in DATA
    before the gateway is stopped`: the disk has room, freeing it saves nothing. It says the
    disk took no writes (read-only or failing), not to free space."""
    monkeypatch.setattr(hand_opens, "UNRECORDED_RETRY_S", 3600.0)
    with sd_card(tmp_path / "data") as card:
        site = start_site(make_config(card.mount))
        try:
            with TestClient(create_app(site.gw)) as client:
                card.fail()
                r = client.post(
                    "/api/lanes/door/open", json={"reason": "救护车"}, headers=bearer(site.guard_token)
                )
            assert r.json()["record_waits"] is True and r.json()["waits_for"] == "unwritable"
        finally:
            with caplog.at_level(logging.ERROR, logger="gateway.runtime.hand_opens"):
                site.gw.stop()
    kept = [r.getMessage() for r in caplog.records if "not recorded" in r.getMessage()]
    assert kept and all("free disk space" not in line for line in kept), kept
    [line] = [r.getMessage() for r in caplog.records if "never recorded" in r.getMessage()]
    assert "free disk space" not in line and "takes no writes" in line, line


def test_a_start_on_a_card_the_kernel_made_read_only_says_so(tmp_path: Path) -> None:
    """The card failed and the kernel made its filesystem read-only; the service restarts. It
    stopped with `cannot open the database ...: unable to open database file`, fix `... restore it
    from a backup if it is damaged`: the installer restores a good database over a good one on a
    dead card. It says the disk is read-only (a failing SD card: dmesg; replace or repair it), as
    database.give_to_service words it, and exits 78: a restart cannot help."""
    with sd_card(tmp_path / "data") as card:
        config = write_site(tmp_path)
        text = config.read_text().replace(str(tmp_path / "data"), str(card.mount))
        config.write_text(text)
        card.fail()
        proc = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "run", "-c", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "nobody.sock")},
        )
    assert "read-only" in proc.stderr and "backup" not in proc.stderr, proc.stderr[-1500:]
    assert "replace or repair" in proc.stderr and proc.returncode == 78, proc.stderr[-1500:]


def test_a_snapshot_not_saved_on_a_failed_card_says_the_disk_is_read_only(tmp_path: Path) -> None:
    """docs/hardware.md: a snapshot not saved on a disk mounted read-only says so. On a card the
    kernel made read-only (mounted rw still, emergency_ro within) the camera's health said to give
    the folder to the gateway's user (`sudo chown`), which a failed card does not take either."""
    with sd_card(tmp_path / "data") as card:
        camera = DeviceHealth(device="car-in-cam", kind="camera", lane="car-in", driver="opencv")
        writer = SnapshotWriter(card.mount, health_of={"car-in-cam": camera}.get)
        try:
            card.fail()
            frame = Frame(np.zeros((120, 160, 3), np.uint8), 1, time.monotonic(), time.time())
            assert writer.submit(frame, "car-in-cam") is not None
            writer.flush()
        finally:
            writer.close()
    said = camera.last_error
    assert "Read-only file system" in said and "read-only" in said.split("fix:")[1], said
    assert "chown" not in said and "free disk space" not in said, said
