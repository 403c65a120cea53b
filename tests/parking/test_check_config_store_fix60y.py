"""Review 60y (found by reviewer 60q): `gateway check-config`, run as README says before every
restart, passed a tariff version edited in place with no word, though the data_dir's store
remembers the prices it first charged by; the restart then charged the cars inside the new prices.
It now says what the start would say of the store, read-only."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_toml, seed, show


def _seen(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT key, value FROM config_seen ORDER BY key").fetchall()


def test_check_config_says_what_the_start_would_of_the_store_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway")
    data = tmp_path / "data"
    text = parking_toml(data)
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        assert show(gw, "car-in", "苏E10001", gw.now()).reason == "temporary"
    finally:
        gw.conn.close()
    db = data / "gateway.db"
    before = _seen(db)

    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["check-config", str(path)]) == 0
    plain = capsys.readouterr().out  # the config the store knows: nothing of the store to say
    assert "'t1'" not in plain and "zone 'main'" not in plain

    edited = text.replace("period_fen = 200", "period_fen = 300").replace('zone = "main"', 'zone = "garage"')
    path.write_text(edited + '\n[[zones]]\nid = "garage"\nname = "地库"\ncapacity = { car = 6 }\n', "utf-8")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: ok")
    assert "  warning: tariff version 't1' has other prices" in out
    assert "  warning: 2 fixed slot(s) are in zone 'main', which no vehicle entrance" in out
    assert "  warning: 1 vehicle(s) parked now are counted in zone 'main'" in out
    assert _seen(db) == before  # nothing kept: the start sees it first, and says it again


def test_check_config_leaves_a_store_of_another_schema_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "gateway.db") as conn:
        conn.execute("PRAGMA user_version = 3")
    path = tmp_path / "site.toml"
    path.write_text(parking_toml(data), encoding="utf-8")
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "is of schema version 3" in out and "not checked against this config" in out
    with sqlite3.connect(data / "gateway.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (3,)  # not migrated


NOBODY = 65534  # the installer's own user, not in the service's group


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_check_config_by_the_installer_on_a_running_box_does_not_crash() -> None:
    """Review 60u: README's install and upgrade steps run check-config as the installer's own user,
    who may not even look into the service's data_dir (0750): it printed "ok", then a
    PermissionError traceback, and exited 1 where it exited 0 before the store checks. Now a note
    says to run it as the service's user to check the store, and it exits 0."""
    box = Path(tempfile.mkdtemp())  # not under pytest's own 0700 folder: the installer must reach it
    try:
        box.chmod(0o755)
        data = box / "data"
        text = parking_toml(data)
        cfg = parse_config(text, "site.toml")
        seed(cfg, box)
        gw = Gateway(cfg)  # the service, holding its database (WAL)
        try:
            show(gw, "car-in", "苏E10001", gw.now())
            data.chmod(0o750)  # StateDirectoryMode=0750, owned by the service user (here root)
            site = box / "site.toml"
            site.write_text(text, encoding="utf-8")
            site.chmod(0o644)
            gateway = Path(sys.executable).with_name("gateway")
            done = subprocess.run(
                [
                    "setpriv",
                    f"--reuid={NOBODY}",
                    f"--regid={NOBODY}",
                    "--clear-groups",
                    str(gateway),
                    "check-config",
                    str(site),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                cwd="/",
            )
        finally:
            gw.conn.close()
        assert "Traceback" not in done.stderr, done.stderr[-800:]
        assert done.returncode == 0, (done.returncode, done.stderr[-800:])
        assert done.stdout.startswith(f"{site}: ok")
        assert f"sudo -u estate-gateway {gateway.resolve()} check-config {site}" in done.stdout + done.stderr
    finally:
        shutil.rmtree(box, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to run check-config as root")
def test_check_config_as_root_leaves_the_services_database_as_it_is(tmp_path: Path) -> None:
    """`sudo gateway check-config` on a database the service's user owns, with the -wal and -shm a
    power cut left root's: SQLite run as root hands them to the database's owner as it opens them,
    so reading the store changed the box (and hid the root-owned files the start names, with their
    chown). As root it does not open another user's database, and says how to check it."""
    data = tmp_path / "data"
    config = tmp_path / "site.toml"
    config.write_text(parking_toml(data), encoding="utf-8")
    Gateway(parse_config(config.read_text(encoding="utf-8"), "site.toml")).conn.close()
    db = data / "gateway.db"
    for path in [data, *data.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").write_bytes(b"")  # root's, as a killed `sudo gateway ...` leaves them
    assert main(["check-config", str(config)]) == 0
    owners = {suffix: Path(f"{db}{suffix}").stat().st_uid for suffix in ("-wal", "-shm")}
    assert owners == {"-wal": 0, "-shm": 0}, owners
