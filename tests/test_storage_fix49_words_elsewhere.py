"""The storage going bad short of a full disk, said where 35a08bf left "free disk space": the API's
503 `storage_failed` (its fix, and the tablet's toast by the cause it names), the journal's line for
a change answered still_saving that then failed, and `gateway import`. A card gone read-only has
room, and a damaged database is restored from a backup: freeing space helps neither. On a machine
where no loop device can be made, the card's tests skip and say why (tests/sdcard.py)."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.api.deps import ApiError, saved
from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store import admin
from gateway.store.admin import export_csv, import_csv
from gateway.store.audit import audit, transaction
from gateway.store.database import is_damaged
from gateway.sync import files
from gateway.web.i18n import js_texts
from tests.conftest import write_csv
from tests.sdcard import Card, sd_card, site_on_card
from tests.test_csv import good_files
from tests.test_process import write_site
from tests.test_storage_fix49_damaged_database import damage
from tests.ui.conftest import CARD, Site, Traffic, bearer, make_config, served, start_site
from tests.ui.test_guard_browser import CHROMIUM, PORTRAIT, browser, page_at  # noqa: F401

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def on_card(tmp_path: Path) -> Iterator[tuple[Site, Card]]:
    with site_on_card(tmp_path / "data") as both:
        yield both


@pytest.fixture
def damaged_site(tmp_path: Path) -> Iterator[Site]:
    """A site whose upload queue's index is damaged on the card (bit rot): every write that queues
    a record upstream fails "database disk image is malformed"."""
    cfg = make_config(tmp_path / "data")
    site = start_site(cfg)
    site.gw.stop()
    damage(site.gw.db_path, "sqlite_autoindex_outbox_1")
    site.gw = Gateway(cfg, chooser_for=Traffic().chooser_for)
    site.gw.start()
    try:
        yield site
    finally:
        site.gw.stop()


def _block_the_card(site: Site) -> dict[str, str]:
    with TestClient(create_app(site.gw)) as client:
        r = client.post(
            "/api/credentials/block",
            json={"kind": "card", "value": CARD, "reason": "业主报失"},
            headers=bearer(site.guard_token),
        )
    assert r.status_code == 503, r.text
    error: dict[str, str] = r.json()["error"]
    assert error["code"] == "storage_failed", error
    return error


# -- the API's 503 storage_failed ------------------------------------------------------------------


def test_a_change_refused_on_a_failed_card_says_the_card_takes_no_writes(on_card: tuple[Site, Card]) -> None:
    """The card went read-only; a guard blocks a lost card from the tablet. The answer's fix said
    "free disk space in the data directory or check its permissions" and the toast
    网关无法保存……（磁盘已满？）: the office deletes snapshots on a disk with room. Both say what the
    live panel says of a decision refused so (35a08bf): the data disk takes no writes."""
    site, card = on_card
    card.fail()
    error = _block_the_card(site)
    assert "free disk space" not in error["fix"] and "takes no writes" in error["fix"], error
    assert error["state"] == "unwritable", error
    toast = js_texts("zh")[f"err.storage_failed.{error['state']}"]
    assert "磁盘已满" not in toast and "无法写入" in toast, toast
    assert "disk full" not in js_texts("en")["err.storage_failed.unwritable"]


def test_a_change_refused_on_a_damaged_database_says_to_restore_it(damaged_site: Site) -> None:
    """The database is damaged on the card; a guard blocks a lost card. Told to free disk space, the
    installer frees it and the next change fails the same: the fix is to restore a backup."""
    error = _block_the_card(damaged_site)
    assert "free disk space" not in error["fix"], error
    assert "backup" in error["fix"] and "Replacing a box" in error["fix"], error
    assert error["state"] == "damaged", error
    toast = js_texts("zh")["err.storage_failed.damaged"]
    assert "磁盘已满" not in toast and "已损坏" in toast, toast


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the Debian chromium package (scripts/system-deps)")
def test_the_toast_of_a_hold_refused_on_a_failed_card_is_not_told_as_a_full_disk(
    tmp_path: Path,
    browser: object,  # noqa: F811
) -> None:
    """The card went read-only; the guard holds the door open (常开) for a delivery and is refused.
    The toast read 网关无法保存，未作任何修改，请联系管理员（磁盘已满？）: the admin deletes files on
    a disk with room. It says the data disk takes no writes. In a real Chromium."""
    with sd_card(tmp_path / "data") as card, served(make_config(card.mount)) as (_, url):
        page = page_at(browser, url, PORTRAIT)
        card.fail()
        page.click("#lane-door [data-lane-action=hold]")
        page.wait_for_selector("#reason-dialog[open]")
        page.fill("#reason-input", "快递进出 搬运")
        page.click("#reason-ok")
        page.wait_for_selector("#toast.bad >> text=未作任何修改")
        said = page.inner_text("#toast")
        page.close()
    assert "数据盘无法写入" in said and "磁盘已满" not in said, said


def test_the_toast_of_a_full_disk_still_sends_the_guard_to_free_space() -> None:
    for cause in ("full", "unwritable", "locked", "damaged"):
        assert f"err.storage_failed.{cause}" in js_texts("zh"), cause
    assert "磁盘已满" in js_texts("zh")["err.storage_failed.full"]


# -- the journal's line for a change answered still_saving ------------------------------------------


def test_a_change_answered_still_saving_then_failing_on_a_failed_card_says_what_the_card_needs(
    on_card: tuple[Site, Card], caplog: pytest.LogCaptureFixture
) -> None:
    """A guard's change was answered still_saving, then the card failed under it. The journal's line
    gave "free disk space in the data directory or check its permissions" whatever the cause; it
    says the data disk of this site takes no writes."""
    site, card = on_card
    gw = site.gw
    create_app(gw)  # the API the guard's change came through
    begun = threading.Event()

    def change(conn: sqlite3.Connection) -> None:
        begun.wait(10)
        with transaction(conn):
            audit(conn, gw.now(), "guard1", "card.block", "AAAA0001", "lost")

    with caplog.at_level(logging.WARNING, logger="gateway.api.deps"):
        future = gw.on_worker(change)
        with pytest.raises(ApiError) as answered:
            saved(future, 0.3)
        assert answered.value.code == "still_saving"
        card.fail()
        begun.set()
        with pytest.raises(sqlite3.Error):
            future.result(timeout=10)
        gw.on_worker(lambda c: None).result(timeout=10)
    [line] = [r.getMessage() for r in caplog.records if "not saved after all" in r.getMessage()]
    assert "free disk space" not in line and "takes no writes" in line, line
    assert str(card.mount) in line, line


# -- gateway import ----------------------------------------------------------------------------------


def test_an_import_into_a_damaged_database_says_to_restore_it(tmp_path: Path) -> None:
    """`gateway import` on a database damaged on the card exits 78, as it should, but said "if the
    database is busy ... run it again; otherwise free disk space in the data directory or check its
    permissions": neither helps. It gives the fix the start gives (35a08bf): restore a backup."""
    config = write_site(tmp_path)
    damage(tmp_path / "data" / "gateway.db", "outbox")
    people = write_csv(tmp_path / "more.csv", "ref,building,unit,name\nR900,2栋,1单元,新住户\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "import", "-c", str(config), str(people)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=dict(os.environ),
    )
    assert proc.returncode == 78, proc.stderr[-1500:]
    assert "free disk space" not in proc.stderr, proc.stderr[-1500:]
    assert "backup" in proc.stderr and "Replacing a box" in proc.stderr, proc.stderr[-1500:]


def test_an_import_the_card_failed_under_says_the_card_takes_no_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card fails half way through an import (its steps of two rows here). The error said "if
    the database was busy, just run it again; otherwise free disk space or fix permissions first":
    the installer frees space on a card with room, runs it again, and it fails again."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 2)
    with sd_card(tmp_path / "data") as card:
        cfg = make_config(card.mount)
        with pytest.raises(StorageError) as stopped:
            import_csv(cfg, good_files(tmp_path), pause=card.fail)
    assert "the import stopped after" in stopped.value.message, stopped.value
    assert "free disk space" not in stopped.value.fix, stopped.value.fix
    assert "takes no writes" in stopped.value.fix and "gateway import -c CONFIG" in stopped.value.fix


def test_an_export_whose_audit_row_the_failed_card_refuses_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gateway export`: the files are written (to another disk), and the card fails before their
    audit row (registry.export) is. Its fix said "free disk space in the data directory"."""
    with sd_card(tmp_path / "data") as card:
        cfg = make_config(card.mount)
        import_csv(cfg, good_files(tmp_path))
        written = admin.export_all

        def then_the_card_fails(*args: object) -> dict[str, int]:
            counts = written(*args)  # type: ignore[arg-type]
            card.fail()
            return counts

        monkeypatch.setattr(admin, "export_all", then_the_card_fails)
        with pytest.raises(StorageError) as refused:
            export_csv(cfg, tmp_path / "backup", "office")
    assert "registry.export" in refused.value.message, refused.value
    assert "free disk space" not in refused.value.fix and "takes no writes" in refused.value.fix
    assert not list((tmp_path / "backup").glob("*.csv"))


# -- the sync files' own test of a damaged file ---------------------------------------------------


def _sqlite_error(tmp_path: Path, content: bytes) -> sqlite3.Error:
    path = tmp_path / "sync-inbox.db"
    path.write_bytes(content)
    try:
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchall()
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("read without an error")


def test_the_sync_files_call_damaged_what_the_database_does_and_what_quick_check_finds(
    tmp_path: Path,
) -> None:
    """gateway/sync/files.py's damaged() is database.is_damaged (SQLITE_CORRUPT, SQLITE_NOTADB) and
    its own quick_check's finding (Damaged, which SQLite raised with no code): one test, not two."""
    not_a_database = _sqlite_error(tmp_path, b"\x13" * 4096)
    found_by_quick_check = files.Damaged("database disk image is malformed: page 3 is never used")
    busy = sqlite3.OperationalError("database is locked")
    for exc in (not_a_database, found_by_quick_check, busy):
        assert files.damaged(exc) is (isinstance(exc, files.Damaged) or is_damaged(exc)), exc
    assert files.damaged(not_a_database) and files.damaged(found_by_quick_check)
    assert not files.damaged(busy)
