"""`gateway backup -c SITE OUT` (Review 66 A4: README's Replacing a box restored "the old box's
backup", and nothing said how to take one). A copy taken while the lanes write is whole, restores,
and the gateway starts on it; the keys, the site config and the broker password come with it, the
command's user's alone; a folder in use or a full disk is refused, nothing left, with the fix."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import stat
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.database import DB_NAME
from tests.conftest import site_toml
from tests.parking.conftest import T0

H = timedelta(hours=1)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A site with [mqtt] on, its broker password in a file beside the config, and a command key."""
    password = tmp_path / "mqtt.pass"
    password.write_text("s3cret\n", encoding="utf-8")
    config = tmp_path / "site.toml"
    mqtt = (
        f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nusername = "test-site"\npassword_file = "{password}"'
    )
    config.write_text(site_toml(tmp_path / "data") + mqtt + "\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "command.key").write_text("k" * 44 + "\n", encoding="utf-8")
    return config


def _backup(config: Path, out: Path) -> int:
    return main(["backup", "-c", str(config), str(out)])


def test_a_backup_taken_while_cars_come_and_go_restores_and_the_gateway_starts_on_it(
    site: Path, tmp_path: Path
) -> None:
    cfg = load_config(site)
    gw = Gateway(cfg)
    stop = threading.Event()
    written = [0]

    # A busy gate while the copy is taken: cars at the entrance (the car park full after ten).
    def lanes() -> None:
        conn = gw.conn
        while not stop.is_set():
            n = written[0]
            plate = f"苏E{n % 90000 + 10000:05d}"
            gw.handle(Presented("car-in", "plate", plate, 0.97, T0 + n * timedelta(seconds=2), "cam"))
            written[0] += 1
        assert conn is gw.conn

    busy = threading.Thread(target=lanes)
    busy.start()
    try:
        while written[0] < 20:
            time.sleep(0.001)
        out = tmp_path / "backup-1"
        before = written[0]
        assert _backup(site, out) == 0
        during = written[0] - before
    finally:
        stop.set()
        busy.join()
    gw.conn.close()
    assert during > 0  # the lanes kept writing while it ran
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([DB_NAME, "RESTORE.txt", "command.key", "mqtt.pass", "secret.key", "site.toml"])
    modes = {p.name: stat.filemode(p.stat().st_mode) for p in [out, *out.iterdir()]}
    assert modes.pop("backup-1") == "drwx------"
    assert set(modes.values()) == {"-rw-------"}, modes
    assert (out / "secret.key").read_bytes() == (tmp_path / "data" / "secret.key").read_bytes()
    assert not (out / f"{DB_NAME}-wal").exists()
    with sqlite3.connect(out / DB_NAME) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = copy.execute("SELECT count(*) FROM access_log").fetchone()[0]
        audited = copy.execute("SELECT count(*) FROM audit WHERE action = 'database.backup'").fetchone()
    assert copied > 0
    assert audited == (0,)  # the row is written as the files go in, after the copy
    with sqlite3.connect(tmp_path / "data" / DB_NAME) as live:
        actor, target, detail = live.execute(
            "SELECT actor, target, detail FROM audit WHERE action = 'database.backup'"
        ).fetchone()
    assert actor.startswith("cli:") and target == str(out.resolve()) and DB_NAME in json.loads(detail)

    # The new box: the README's steps, the backup's files put back, the service started on them.
    new = tmp_path / "new"
    new.mkdir()
    for name in (DB_NAME, "secret.key", "command.key"):
        shutil.copy(out / name, new / name)
    restored_cfg = cfg.model_copy(update={"site": cfg.site.model_copy(update={"data_dir": new})})
    restored = Gateway(restored_cfg)
    try:
        assert restored.conn.execute("SELECT count(*) FROM access_log").fetchone()[0] == copied
        (last,) = restored.conn.execute("SELECT plate FROM stays ORDER BY id DESC LIMIT 1").fetchone()
        out_again = restored.handle(Presented("car-out", "plate", last, 0.97, T0 + 10 * H, "cam"))
        assert "no_entry_record" not in out_again.flags  # the copy's car is inside on the new box
    finally:
        restored.conn.close()


def test_a_folder_holding_files_is_refused(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "older"
    out.mkdir()
    (out / DB_NAME).write_text("last week's", encoding="utf-8")
    assert _backup(site, out) == 1
    err = capsys.readouterr().err
    assert "is not empty" in err and "fix:" in err and "date +%F" in err
    assert sorted(p.name for p in out.iterdir()) == [DB_NAME]  # left as it was


def test_a_full_backup_disk_says_so_and_leaves_nothing(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "usb" / "backup"
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if out in self.parents or out in self.parent.parents:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    assert _backup(site, out) == 1
    err = capsys.readouterr().err
    assert "is full" in err and "nothing of it was left" in err and "free space on that disk" in err
    assert not out.exists()
