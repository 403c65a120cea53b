"""The exit status of a command that stopped on a full disk follows the words it says: a disk
storage_cause calls full (SQLITE_FULL, ENOSPC, EDQUOT, or "disk I/O error" with next to no room
left) exits 1, so that systemd tries again once space is freed (README, Exit status), not 78, which
it never restarts. The error is a stand-in raised where the import writes its staging file."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import database
from tests.conftest import write_csv
from tests.test_process import write_site


def io_error() -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError("disk I/O error")
    exc.sqlite_errorcode = sqlite3.SQLITE_IOERR  # type: ignore[attr-defined]
    return exc


@pytest.mark.parametrize(
    "error", [io_error(), OSError(errno.EDQUOT, "Disk quota exceeded")], ids=["io-error", "quota"]
)
def test_an_import_stopped_by_a_full_disk_exits_1_as_its_words_say(
    error: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It said `fix: free disk space in DATA; then run it again` and exited 78: the service's start
    stopped so was never tried again once the installer freed space."""
    config = write_site(tmp_path)
    people = write_csv(tmp_path / "p.csv", "ref,building,unit,name\nN1,2栋,1单元,新住户\n")

    def no_room(*args: object) -> None:
        raise error

    monkeypatch.setattr("gateway.store.csv_staging.stage", no_room)
    monkeypatch.setattr(database, "_disk_full", lambda folder, room=1 << 20: True)
    capsys.readouterr()
    code = main(["import", "-c", str(config), str(people)])
    err = capsys.readouterr().err
    assert "free disk space" in err, err
    assert code == 1, err


def test_a_command_stopped_by_an_io_error_on_a_full_disk_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same through the command line's own catch of an SQLite error (cli._database_failed)."""
    config = write_site(tmp_path)

    def no_room(*args: object, **kwargs: object) -> None:
        raise io_error()

    monkeypatch.setattr("gateway.store.admin.export_csv", no_room)
    monkeypatch.setattr(database, "_disk_full", lambda folder, room=1 << 20: True)
    capsys.readouterr()
    code = main(["export", "-c", str(config), str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "free disk space" in err, err
    assert code == 1, err
