"""A card the kernel took off writes while footage had nearly filled it: freeing space is no fix
(nothing can be deleted from it), so every word of storage says the card takes no writes, and the
guard's 开闸 toast and his panel say the same. The card is a small ext4 image on a loop device
(tests/sdcard.py: skipped, saying why, where none can be made)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime import hand_opens
from gateway.runtime.hand_opens import WaitingRecords
from gateway.store import database
from gateway.store.database import storage_cause
from tests.sdcard import site_on_card
from tests.ui.conftest import CARD, bearer


def fill(folder: Path, leave: int = 512 * 1024) -> None:
    """Footage fills the card: less than 1 MiB left."""
    left = shutil.disk_usage(folder).free - leave
    with open(folder / "footage.bin", "wb") as f:
        while left > 0:
            n = min(1 << 20, left)
            f.write(b"\1" * n)
            left -= n
        f.flush()
        os.fsync(f.fileno())


def io_error() -> sqlite3.OperationalError:
    """SQLite's "disk I/O error" (SQLITE_IOERR), what it may say on a full disk and a failing one."""
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = sqlite3.SQLITE_IOERR  # type: ignore[attr-defined]
    return exc


def test_a_decision_refused_on_a_failed_nearly_full_card_is_not_told_to_free_disk_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The card failed with little room left on it. The guard's panel read 磁盘已满 (storage:full)
    and the journal `fix=free disk space`, while his 开闸 toast said the card takes no writes: the
    card the kernel made read-only deletes nothing, and freeing space does not bring it back. The
    panel, the journal and the toast all say the card takes no writes (storage:unwritable)."""
    monkeypatch.setattr(hand_opens, "UNRECORDED_RETRY_S", 3600.0)
    with site_on_card(tmp_path / "data") as (site, card):
        gw = site.gw
        fill(card.mount)
        card.fail()
        caplog.set_level(logging.ERROR, logger="gateway.runtime.gateway")
        ev = gw.on_worker(
            lambda c: gw.handle(Presented("door", "card", CARD, 1.0, gw.now(), "door-reader"))
        ).result(10)
        assert ev.reason == "storage_failed"
        with pytest.raises(OSError):  # the card refuses every write, a deletion too
            (card.mount / "footage.bin").unlink()
        assert ev.flags == ("storage:unwritable",), ev.flags
        [line] = [r.getMessage() for r in caplog.records if "cannot record" in r.getMessage()]
        assert "free disk space" not in line and "takes no writes" in line, line
        with TestClient(create_app(gw)) as client:
            r = client.post(
                "/api/lanes/door/open", json={"reason": "救护车"}, headers=bearer(site.guard_token)
            )
        assert r.json()["record_waits"] is True and r.json()["waits_for"] == "unwritable", r.json()


def test_an_io_error_on_a_disk_that_refuses_writes_is_unwritable_however_little_room_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """storage_cause tries the disk before it takes an I/O error with next to no room for a full
    disk; on a disk that takes writes, next to no room left is still a full disk."""
    monkeypatch.setattr(database, "_disk_full", lambda folder, room=1 << 20: True)
    assert storage_cause(io_error(), tmp_path) == "full"
    monkeypatch.setattr(database, "_refuses_writes", lambda folder: True)
    assert storage_cause(io_error(), tmp_path) == "unwritable"


class _Refused:
    """A guard's opening whose record the disk refuses with `error`."""

    def __init__(self, error: sqlite3.Error):
        self.error = error
        self.at = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
        self.what = "lane open by hand"

    def details(self) -> str:
        return "lane=door"

    def write(self, conn: sqlite3.Connection) -> object:
        raise self.error


def test_the_toast_of_an_opening_says_what_the_panel_says_of_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A "disk I/O error" with next to no room left: the panel (storage_cause with the data
    directory) said the disk is full, the 开闸 toast (waits_for, without it) that the card takes no
    writes. Both judge it with the data directory now."""
    monkeypatch.setattr(database, "_disk_full", lambda folder, room=1 << 20: True)
    waiting = WaitingRecords(tmp_path)
    conn = sqlite3.connect(":memory:")

    def submit(task):  # type: ignore[no-untyped-def]
        done: Future[str] = Future()
        done.set_result(task(conn))
        return done

    kept = waiting.write_or_keep(_Refused(io_error()), submit)
    assert kept.waits == storage_cause(io_error(), tmp_path) == "full"
