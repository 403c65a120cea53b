"""`gateway backup` put back on a new box (Review 66 Q on fe72c578). RESTORE.txt followed word for
word left the broker password root's and 600 (sudo cp), so the new box never reached the centre and
each night's backup then failed telling the service's user to run as itself; a command key named by
[mqtt] command_key_file was left out; README's cron line kept every night at the office forever,
sometimes four on the card, and mailed every night a backup worked."""

from __future__ import annotations

import errno
import os
import pwd
import re
import stat
import subprocess
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import backup
from gateway.store.database import DB_NAME
from tests.conftest import site_toml

README = Path(__file__).resolve().parents[1] / "README.md"

# Stand-ins for the new box's root commands: the owner asked of install is recorded, not set (no
# estate-gateway user here), and systemctl only says what it was asked.
INSTALL_SHIM = """#!/usr/bin/env python3
import os, sys
args, owner, group = sys.argv[1:], "", ""
while "-o" in args or "-g" in args:
    flag = "-o" if "-o" in args else "-g"
    at = args.index(flag)
    owner, group = (args[at + 1], group) if flag == "-o" else (owner, args[at + 1])
    del args[at : at + 2]
with open(os.environ["SHIM_LOG"], "a") as log:
    print("install", f"{owner}:{group}", args[-1], file=log)
os.execv("/usr/bin/install", ["install", *args])
"""
SYSTEMCTL_SHIM = '#!/bin/sh\necho "systemctl $*" >> "$SHIM_LOG"\n'


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """[mqtt] on: the broker password, a client certificate and key and the command key in the
    site's folder (command_key_file), as an installer keeps them in /etc/estate-gateway."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_bytes(os.urandom(32))
    (etc / "mqtt.pass").write_text("s3cret\n", encoding="utf-8")
    (etc / "client.crt").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    (etc / "client.key").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    (etc / "command.key").write_text("k" * 44 + "\n", encoding="utf-8")
    config = etc / "site.toml"
    config.write_text(
        site_toml(tmp_path / "data")
        + '\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nusername = "t"\n'
        + f'password_file = "{etc / "mqtt.pass"}"\n'
        + f'cert_file = "{etc / "client.crt"}"\nkey_file = "{etc / "client.key"}"\n'
        + f'command_key_file = "{etc / "command.key"}"\n',
        encoding="utf-8",
    )
    return config


def test_restore_txt_run_as_it_says_puts_each_file_back_the_services_to_read(
    site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "backup"
    assert main(["backup", "-c", str(site), str(out)]) == 0
    assert "command.key" in {p.name for p in out.iterdir()}  # the key command_key_file names
    etc, data = tmp_path / "etc", tmp_path / "data"
    before = {p: p.read_bytes() for p in [*etc.iterdir(), data / DB_NAME, data / "secret.key"]}
    before[data / DB_NAME] = (
        out / DB_NAME
    ).read_bytes()  # the copy (its own journal mode), not the live file

    # The new box: nothing of the old one's files, the new one's own database left from its start.
    for path in before:
        path.unlink()
    (data / DB_NAME).write_text("the new box's own", encoding="utf-8")
    (data / "outbox-stream.json").write_text("{}", encoding="utf-8")
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "install").write_text(INSTALL_SHIM, encoding="utf-8")
    (shims / "systemctl").write_text(SYSTEMCTL_SHIM, encoding="utf-8")
    for shim in shims.iterdir():
        shim.chmod(0o755)
    log = tmp_path / "shim.log"
    env = {**os.environ, "PATH": f"{shims}:/usr/bin:/bin", "SHIM_LOG": str(log)}
    ran = subprocess.run(["sh", str(out / "RESTORE.txt")], cwd="/", env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr

    for path, data_was in before.items():
        assert path.read_bytes() == data_was, path
    assert not (data / "outbox-stream.json").exists()
    owners = dict(
        line.split(" ", 2)[1:][::-1] for line in log.read_text().splitlines() if line.startswith("install")
    )
    modes = {str(p): stat.filemode(p.stat().st_mode) for p in before}
    service = "estate-gateway:estate-gateway"
    for secret in ("mqtt.pass", "client.key", "command.key"):  # the service's alone, as it reads them
        assert (owners[str(etc / secret)], modes[str(etc / secret)]) == (service, "-rw-------"), secret
    for name in (DB_NAME, "secret.key"):
        assert (owners[str(data / name)], modes[str(data / name)]) == (service, "-rw-------"), name
    assert (owners[str(etc / "client.crt")], modes[str(etc / "client.crt")]) == (
        "root:estate-gateway",
        "-rw-r-----",
    )
    assert modes[str(site)] == "-rw-r--r--"  # as the install's sudo cp leaves it: check-config reads it
    calls = [line for line in log.read_text().splitlines() if line.startswith("systemctl")]
    assert (
        calls[0] == "systemctl stop estate-gateway" and calls[-1] == "systemctl enable --now estate-gateway"
    )


def test_a_file_the_service_user_itself_cannot_read_is_named_with_the_chown_that_mends_it(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = tmp_path / "etc" / "mqtt.pass"
    real = Path.read_bytes

    def root_600(self: Path) -> bytes:
        if self == password:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", root_600)
    # This process stands for the service's user: a nightly cron line's backup.
    monkeypatch.setattr(backup, "SERVICE_USER", pwd.getpwuid(os.geteuid()).pw_name)
    assert main(["backup", "-c", str(site), str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert f"sudo chown estate-gateway:estate-gateway {password} && sudo chmod 600 {password}" in err
    assert "sudo -u" not in err  # not told to become the user it already is


def test_a_backup_that_works_prints_nothing_for_cron_to_mail(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "-v", "-c", str(site), str(tmp_path / "by-hand")]) == 0
    assert "RESTORE.txt" in capsys.readouterr().out
    assert main(["backup", "-c", str(site), str(tmp_path / "night")]) == 0  # the service's database
    assert capsys.readouterr().out == ""


def _cron_line() -> str:
    text = README.read_text(encoding="utf-8")
    (line,) = re.findall(r"^15 3 \* \* \* estate-gateway (.*)$", text, re.M)
    return line.replace("\\%", "%")  # cron's own escape


def test_readmes_cron_line_keeps_three_nights_on_the_box_and_no_more_at_the_office(tmp_path: Path) -> None:
    line = _cron_line()
    assert "rsync -a --delete" in line
    box, office, shims = tmp_path / "box", tmp_path / "office", tmp_path / "shims"
    for folder in (box, office, shims):
        folder.mkdir()
    (shims / "date").write_text('#!/bin/sh\necho "$NIGHT"\n', encoding="utf-8")
    (shims / "backup").write_text('#!/bin/sh\nmkdir "$4" && echo db > "$4/gateway.db"\n', encoding="utf-8")
    for shim in shims.iterdir():
        shim.chmod(0o755)
    line = (
        line.replace("/var/backups/estate-gateway", str(box))
        .replace("/opt/estate-gateway/venv/bin/gateway", str(shims / "backup"))
        .replace("backup@office.example:estate-gateway/SITE/", f"{office}/")
    )
    env = {**os.environ, "PATH": f"{shims}:/usr/bin:/bin"}
    for night in range(1, 7):
        nights = [f"2026-12-0{n}" for n in range(max(1, night - 2), night + 1)]
        ran = subprocess.run(
            ["sh", "-c", line], env={**env, "NIGHT": nights[-1]}, capture_output=True, text=True
        )
        assert ran.returncode == 0 and ran.stdout == "", ran.stderr  # nothing for cron to mail
        assert sorted(p.name for p in box.iterdir()) == nights
        assert sorted(p.name for p in office.iterdir()) == nights
