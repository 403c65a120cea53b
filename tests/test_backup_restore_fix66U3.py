"""RESTORE.txt run where it must not harm (Review 66 U2 on the backup). Run a second time (after a
reboot), or on the live old box by mistake, it stopped the service and deleted the live gateway.db
and its -wal, with no question and no word: all recorded since the backup was gone (audit rows 4 -> 0).
A data_dir that is a link (/var/lib/estate-gateway -> /mnt/ssd/...) was written as the link's target,
so on a new box without that link the copy went where the service never looks, exit 0, and the
service started on its own empty database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store.database import DB_NAME
from tests.conftest import site_toml
from tests.test_backup_restore_fix66U import INSTALL_SHIM, SYSTEMCTL_SHIM


def _restore(out: Path, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    shims = tmp_path / "shims"
    if not shims.exists():
        shims.mkdir()
        (shims / "install").write_text(INSTALL_SHIM, encoding="utf-8")
        (shims / "systemctl").write_text(SYSTEMCTL_SHIM, encoding="utf-8")
        for shim in shims.iterdir():
            shim.chmod(0o755)
    path = f"{shims}:/usr/bin:/bin"
    run_env = {**os.environ, "PATH": path, "SHIM_LOG": str(tmp_path / "shim.log"), **env}
    return subprocess.run(
        ["sh", str(out / "RESTORE.txt")], cwd="/", env=run_env, capture_output=True, text=True
    )


def _audit_rows(data: Path) -> int:
    conn = sqlite3.connect(data / DB_NAME)
    try:
        return int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    etc, data = tmp_path / "etc", tmp_path / "data"
    etc.mkdir()
    data.mkdir()
    (data / "secret.key").write_bytes(os.urandom(32))
    config = etc / "site.toml"
    config.write_text(site_toml(data), encoding="utf-8")
    return config


def test_restore_txt_on_the_live_box_refuses_and_changes_nothing(site: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(site), str(out)]) == 0
    for night in range(3):  # the box records on after the backup (an audit row each)
        assert main(["backup", "-c", str(site), str(tmp_path / f"n{night}")]) == 0
    live = _audit_rows(data)
    assert live == 4

    ran = _restore(out, tmp_path)
    assert ran.returncode == 1
    assert "FORCE=1" in ran.stderr and "nothing was changed" in ran.stderr.lower()
    assert _audit_rows(data) == live
    assert not list(data.glob("before-restore-*"))
    log = tmp_path / "shim.log"
    assert not log.exists() or "systemctl stop" not in log.read_text()  # the service left running


def test_restore_txt_forced_moves_what_it_replaces_aside_and_says_how_to_go_back(
    site: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(site), str(out)]) == 0
    for night in range(3):
        assert main(["backup", "-c", str(site), str(tmp_path / f"n{night}")]) == 0
    live_db = (data / DB_NAME).read_bytes()
    (data / "outbox-stream.json").write_text('{"stream": "live"}', encoding="utf-8")
    (data / DB_NAME).chmod(0o640)

    ran = _restore(out, tmp_path, FORCE="1")
    assert ran.returncode == 0, ran.stderr
    assert _audit_rows(data) == 0  # the backup's database, as forced
    (aside,) = data.glob("before-restore-*")
    assert (aside / DB_NAME).read_bytes() == live_db  # nothing lost
    assert oct((aside / DB_NAME).stat().st_mode & 0o777) == "0o640"  # its mode kept: moved, not copied
    assert (aside / "outbox-stream.json").read_text(encoding="utf-8") == '{"stream": "live"}'
    assert (aside / "secret.key").exists()
    assert str(aside) in ran.stdout and DB_NAME in ran.stdout
    assert "go back" in ran.stdout.lower()


def test_restore_txt_on_a_new_box_moves_its_own_database_aside(site: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(site), str(out)]) == 0
    for path in data.iterdir():  # the new box: its own key and database from its first start
        path.unlink()
    (data / "secret.key").write_bytes(os.urandom(32))
    (data / DB_NAME).write_text("the new box's own", encoding="utf-8")

    ran = _restore(out, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert (data / DB_NAME).read_bytes() == (out / DB_NAME).read_bytes()
    (aside,) = data.glob("before-restore-*")
    assert (aside / DB_NAME).read_text(encoding="utf-8") == "the new box's own"


def test_a_data_dir_that_is_a_link_goes_back_where_the_config_names_it(tmp_path: Path) -> None:
    etc, ssd = tmp_path / "etc", tmp_path / "mnt-ssd" / "estate-gateway"
    etc.mkdir()
    ssd.mkdir(parents=True)
    varlib = tmp_path / "var-lib-estate-gateway"
    varlib.symlink_to(ssd)
    (ssd / "secret.key").write_bytes(os.urandom(32))
    config = etc / "site.toml"
    config.write_text(site_toml(varlib), encoding="utf-8")
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(config), str(out)]) == 0
    assert str(ssd) not in (out / "RESTORE.txt").read_text(encoding="utf-8")

    # The new box: no bigger disk, no link; the data folder not even made yet.
    varlib.unlink()
    os.rename(tmp_path / "mnt-ssd", tmp_path / "old-disk")
    ran = _restore(out, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert varlib.is_dir() and not varlib.is_symlink()
    assert (varlib / DB_NAME).read_bytes() == (out / DB_NAME).read_bytes()
    assert not (tmp_path / "mnt-ssd").exists()
    made = [line for line in (tmp_path / "shim.log").read_text().splitlines() if line.endswith(str(varlib))]
    assert made == [f"install estate-gateway:estate-gateway {varlib}"]  # the folder the service's


def test_a_relative_data_dir_is_named_beside_the_config_not_through_its_link(tmp_path: Path) -> None:
    etc_real = tmp_path / "etc-real"
    etc_real.mkdir()
    etc = tmp_path / "etc"
    etc.symlink_to(etc_real)
    (etc_real / "data").mkdir()
    (etc_real / "data" / "secret.key").write_bytes(os.urandom(32))
    config = etc / "site.toml"
    config.write_text(site_toml(Path("data")), encoding="utf-8")
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(config), str(out)]) == 0
    notes = (out / "RESTORE.txt").read_text(encoding="utf-8")
    assert str(etc_real) not in notes
    assert str(etc / "data" / DB_NAME) in notes and str(config) in notes
