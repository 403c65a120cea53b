"""Review 63z: the upgrade window. README, Upgrading: install the new version, check the config,
restart the service. Between the install and the restart the old gateway still runs on the
database, and any `gateway` command of the new version run then (`user add`, `import`, `outbox`)
migrated it under the running service: the write lock held across the copy and every migration
step (minutes on a large database), each lane's decision waiting behind it past the busy timeout,
and the old code then running on a schema it does not know. A command now refuses while another
process has the database open, changing nothing; with none (the service stopped), it migrates."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store.database import open_database
from gateway.store.schema import SCHEMA_VERSION
from tests.conftest import site_toml
from tests.test_store import database_at

OLD = SCHEMA_VERSION - 1  # the release running as the new one is installed

# The old gateway, running: its connection open in WAL mode, a lane's decision written every 20 ms.
_RUNNING = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("CREATE TABLE IF NOT EXISTS lane_probe (at REAL)")
print("running", flush=True)
while True:
    conn.execute("INSERT INTO lane_probe VALUES (?)", (time.time(),))
    time.sleep(0.02)
"""


@contextmanager
def old_gateway_running(path: Path) -> Iterator[None]:
    gateway = subprocess.Popen([sys.executable, "-c", _RUNNING, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert gateway.stdout is not None and gateway.stdout.readline().strip() == "running"
        yield
    finally:
        gateway.kill()
        gateway.wait(timeout=30)


def _old_site(tmp_path: Path) -> tuple[Path, Path]:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    path = tmp_path / "data" / "gateway.db"
    path.parent.mkdir()
    conn = database_at(path, OLD)
    conn.execute("PRAGMA journal_mode=WAL")  # as the older gateway keeps it
    conn.execute("INSERT INTO residents (ref, building, unit, name) VALUES ('R1', '3栋', '2单元', '张三')")
    conn.close()
    return config, path


def _schema(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


@pytest.mark.parametrize(
    "command",
    [["user", "list"], ["outbox"], ["import"]],
    ids=["user-list", "outbox", "import"],
)
def test_a_command_run_before_the_restart_leaves_the_running_gateways_database_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    config, path = _old_site(tmp_path)
    with old_gateway_running(path):
        status = main([*command, "-c", str(config)])
    err = capsys.readouterr().err
    backups = sorted(p.name for p in path.parent.glob("gateway.db.v*.bak"))
    assert _schema(path) == OLD and backups == [], (
        f"`gateway {' '.join(command)}` of the new version, run before the service's restart, migrated "
        f"the running gateway's database to schema {_schema(path)} under it (copy {backups})"
    )
    assert status == 1, f"exit {status}: {err}"
    assert f"schema version {OLD}" in err and f"needs {SCHEMA_VERSION}" in err, err
    assert "sudo systemctl restart estate-gateway" in err and "run this command again" in err, err


def test_with_the_service_stopped_a_command_upgrades_the_database_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, path = _old_site(tmp_path)
    assert main(["user", "list", "-c", str(config)]) == 0, capsys.readouterr().err
    assert _schema(path) == SCHEMA_VERSION
    assert (path.parent / f"gateway.db.v{OLD}.bak").is_file()


def test_the_service_itself_upgrades_a_database_another_process_has_open(tmp_path: Path) -> None:
    """The start's own migration (open_database(service=True)) waits for the others' writes as
    before: a `gateway import` of the old version still reading must not keep the gates down."""
    _, path = _old_site(tmp_path)
    with old_gateway_running(path):
        open_database(path, service=True).conn.close()
    assert _schema(path) == SCHEMA_VERSION
