"""The database's own files left owned by root: a `sudo gateway ...` command (export, user add,
outbox) run while the service was stopped, cut short by a power cut, leaves gateway.db-wal and
gateway.db-shm behind owned by root; a backup copied back as root leaves gateway.db root's; a
`sudo gateway import` leaves import.lock root's. The service's user must be told which file and how
to fix it (chown), as it is for secret.key (tests/test_setup_errors.py).

These tests stand for both root and the service's user (uid nobody, by os.seteuid), so they need
root; as any other user they are skipped."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.database import DB_NAME
from tests.conftest import site_toml

SERVICE_UID = 65534  # nobody: stands for the estate-gateway user


@contextmanager
def as_service() -> Iterator[None]:
    """Run as the service's user, then as root again whatever happens."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # setup_logging replaces them
    os.setegid(SERVICE_UID)
    os.seteuid(SERVICE_UID)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def site() -> Iterator[Path]:
    """A site that has run as the service's user: data dir and every file in it its own. Not under
    pytest's tmp_path: that is private to root, and the service's user must reach it."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to stand for both root and the service's user (os.seteuid)")
    base = Path(tempfile.mkdtemp(prefix="gateway-state-files-"))
    os.chmod(base, 0o755)
    try:
        config = base / "site.toml"
        config.write_text(site_toml(base / "data", port=18000 + os.getpid() % 1000), encoding="utf-8")
        os.chmod(config, 0o644)
        Gateway(parse_config(config.read_text(), "site.toml")).conn.close()
        for path in [base / "data", *(base / "data").rglob("*")]:
            os.chown(path, SERVICE_UID, SERVICE_UID)
        yield config
    finally:
        shutil.rmtree(base, ignore_errors=True)


def leave_root_wal_and_shm(db: Path) -> None:
    """What a root command killed mid-way leaves: its -wal (with its write) and -shm, root's."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO audit (at, actor, action) VALUES ('2025-06-01T10:00:00+00:00', 'root', 'x')")
    for suffix in ("-wal", "-shm"):
        shutil.copy(f"{db}{suffix}", f"{db}{suffix}.kept")
    conn.close()  # deletes them: put back as the power cut left them
    for suffix in ("-wal", "-shm"):
        os.rename(f"{db}{suffix}.kept", f"{db}{suffix}")


def run_as_service(config: Path) -> int:
    # The Python install may be root's alone: what the run imports is imported first, as root.
    import gateway.accounts.cli  # noqa: F401
    import gateway.demo.run  # noqa: F401
    import gateway.runtime.logsetup  # noqa: F401

    assert main(["check-config", str(config)]) == 0
    with as_service():
        return main(["run", "-c", str(config)])


def test_root_owned_wal_and_shm_left_by_a_power_cut_name_the_file_and_the_chown(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installer saw `error: the site's database: attempt to write a readonly database ...
    check its permissions`: no file named, and gateway.db and its folder are the service's own, so
    the permissions they check look right (and "delete the leftover -wal" would lose records only it
    holds). They see the file the service may not write (gateway.db-wal / gateway.db-shm) and the
    fix: chown estate-gateway:estate-gateway it."""
    db = site.parent / "data" / DB_NAME
    leave_root_wal_and_shm(db)
    assert run_as_service(site) == EX_CONFIG
    err = capsys.readouterr().err
    assert f"{DB_NAME}-shm" in err or f"{DB_NAME}-wal" in err, err
    assert "chown estate-gateway:estate-gateway" in err, err
    assert "Traceback" not in err, err


def test_a_root_owned_database_file_names_the_file_and_the_chown(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """gateway.db restored from a backup as root (README, Upgrading, says to chown it; an
    installer forgets): the service opened it read-only without a word, and the start failed with
    "the site's database: attempt to write a readonly database" - no path, no fix beyond "check its
    permissions". As for secret.key, they see the path of gateway.db and the chown to run."""
    db = site.parent / "data" / DB_NAME
    os.chown(db, 0, 0)
    assert run_as_service(site) == EX_CONFIG
    err = capsys.readouterr().err
    assert str(db) in err, err
    assert "chown estate-gateway:estate-gateway" in err, err


def test_an_import_lock_left_by_a_sudo_import_is_a_clear_error_not_a_traceback(
    site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any `sudo gateway import` (README says `sudo -u estate-gateway`; an installer forgets the
    -u once) leaves DATA_DIR/import.lock owned by root for good, even when it went through. Every
    later import done right then died with a Python traceback (PermissionError on import.lock),
    exit 1. They see one line naming import.lock and the chown, as the staging file's error
    already does for the same mistake."""
    people = site.parent / "r.csv"
    people.write_text("ref,building,unit,name\nR1,3栋,2单元,张三\n", encoding="utf-8")
    os.chmod(people, 0o644)
    assert main(["import", "-c", str(site), str(people)]) == 0  # as root: it goes through
    assert (site.parent / "data" / "import.lock").stat().st_uid == 0
    import gateway.accounts.cli  # noqa: F401

    with as_service():
        try:
            status = main(["import", "-c", str(site), str(people)])
        except OSError as exc:
            pytest.fail(f"`gateway import` died with a traceback: {exc!r}")
    err = capsys.readouterr().err
    assert status == EX_CONFIG, err
    assert "import.lock" in err and "chown estate-gateway:estate-gateway" in err, err
