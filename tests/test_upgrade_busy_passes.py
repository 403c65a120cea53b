"""An upgrade's start that finds the database held by another process for a while."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from tests.conftest import locked_by_another_process, site_toml
from tests.test_store import database_at

STOP_40_SCHEMA = 27  # bb7c67e, the last commit of stop 40, knew migrations 1-27


def test_an_upgrade_start_while_an_import_holds_the_database_is_tried_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installer upgrades a stop-40 box and restarts the service while a `gateway import` sits
    suspended with Ctrl-Z (README names that case: "another process holding the database locked
    past the 10 s busy timeout, such as a `gateway import` suspended with Ctrl-Z"). The new
    version's start must migrate; its BEGIN IMMEDIATE waits 10 s and fails "database is locked",
    and the start exits 78 with "fix the data directory's permissions ... or go back to the gateway
    version that ran before and report this error". The unit does not restart on 78 ("restarting
    cannot help"), so the gates stay down after the import is resumed or ended. A busy database is
    not a broken one: the start should exit 1 (systemd starts it again, as for a full disk), saying
    another process holds the database."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    path = tmp_path / "data" / "gateway.db"
    path.parent.mkdir()
    conn = database_at(path, STOP_40_SCHEMA)
    conn.execute("PRAGMA journal_mode=WAL")  # as the older gateway left it
    conn.execute("INSERT INTO residents (ref, building, unit, name) VALUES ('R1', '3栋', '2单元', '张三')")
    conn.close()
    with locked_by_another_process(path):
        status = main(["run", "-c", str(config)])
    err = capsys.readouterr().err
    assert "report this error" not in err and "permissions" not in err, err
    assert status == 1, f"exit {status} (systemd will not start it again): {err}"
