"""`gateway run` (the systemd service) started while another process holds the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.store.database import open_database
from tests.conftest import locked_by_another_process, site_toml


def test_a_start_while_an_import_holds_the_database_is_tried_again_by_systemd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service restarts (a crash, the watchdog, `systemctl restart` after a config edit) while
    the office's `gateway import` sits suspended with Ctrl-Z holding the write lock (README's own
    example of a lock held past the 10 s busy timeout). The start writes at once (the outbox
    stream check, the config it has seen), waits 10 s, and main() turns the "database is locked"
    into exit 78 with "if it is busy ... run the command again". The unit has
    RestartPreventExitStatus=78, so systemd never runs it again: once the import is resumed the
    gates stay down until someone starts the service by hand. README, Exit status: 78 is for a bad
    config or database or a setup only the installer can fix; "1 other errors (... a full disk:
    they can pass)". A lock held by another process passes: the start should exit 1."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    db_path = tmp_path / "data" / "gateway.db"
    open_database(db_path).conn.close()  # the site has run before
    with locked_by_another_process(db_path):
        status = main(["run", "-c", str(config)])
    err = capsys.readouterr().err
    assert "database is locked" in err
    assert status != EX_CONFIG, f"exit {status}: systemd will not start the gateway again ({err})"
