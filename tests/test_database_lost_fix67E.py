"""gateway.db lost (fsck on a failing SD card put it in lost+found), the rest of the data directory
there (Review 67 E5). It was taken for a new install (one INFO line): an empty database, no
accounts, residents refused, and the nightly `gateway backup` wrote that empty database over the
good copies. A database is refused where outbox-stream.json shows one was here: by the service
(exit 78: systemd does not restart it) and by the backup; a restore, or a start anew on purpose
with that file moved aside, still starts."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.ui.conftest import DRIVEN, GUARD, make_config, start_site


def test_a_lost_database_is_refused_not_made_anew(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    config = tmp_path / "site.toml"
    config.write_text(site_toml(data) + DRIVEN, encoding="utf-8")
    site = start_site(make_config(data))
    site.gw.stop()
    site.gw.conn.close()
    assert main(["backup", "-c", str(config), str(tmp_path / "night1")]) == 0
    for name in ("gateway.db", "gateway.db-wal", "gateway.db-shm"):
        (data / name).unlink(missing_ok=True)
    capsys.readouterr()

    with pytest.raises(StorageError, match="gateway.db is missing"):
        Gateway(make_config(data))
    assert main(["run", "-c", str(config)]) == EX_CONFIG  # systemd does not restart it
    said = capsys.readouterr().err
    assert "restore gateway.db from the newest backup" in said, said
    assert main(["backup", "-c", str(config), str(tmp_path / "night2")]) == EX_CONFIG
    assert not (data / "gateway.db").exists() and not (tmp_path / "night2" / "gateway.db").exists()

    # The restore the fix says: the backup's copy put back, the stream's file left where it is.
    shutil.copy(tmp_path / "night1" / "gateway.db", data / "gateway.db")
    gw = Gateway(make_config(data))
    try:
        assert gw.conn.execute(
            "SELECT count(*) FROM accounts WHERE username = ?", (GUARD[0],)
        ).fetchone() == (1,)
    finally:
        gw.conn.close()


def test_a_new_start_on_purpose_moves_the_stream_file_aside(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "outbox-stream.json").write_text('{"stream": "5f0c9a1e", "seq": 41}', encoding="utf-8")
    with pytest.raises(StorageError, match="outbox-stream.json aside"):
        Gateway(make_config(data))
    (data / "outbox-stream.json").rename(data / "outbox-stream.json.old")
    gw = Gateway(make_config(data))
    gw.conn.close()
    with sqlite3.connect(data / "gateway.db") as conn:
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
