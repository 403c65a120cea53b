"""Review 64C: README's install steps left the installer with no way to log in. Its data-directory
line says "the import and first admin below may come before", but no first-admin step followed, and
docs/guard-app.md sends the reader to "README, Install" for it. After `systemctl enable --now` the
login page answered 用户名或密码错误 to every name, and the journal said nothing of accounts.

README's install block now makes the first admin, and a start with no account logs a warning with
the command, as `gateway user list` already said."""

from __future__ import annotations

import io
import logging
import re
import shlex
import sys
from pathlib import Path

import pytest

from gateway.cli import _parser, main
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml

README = Path(__file__).resolve().parents[2] / "README.md"
UNIT = Path(__file__).resolve().parents[2] / "systemd" / "estate-gateway.service"
FIRST_ADMIN = (
    "sudo -u estate-gateway /opt/estate-gateway/venv/bin/gateway user add "
    "-c /etc/estate-gateway/site.toml --admin NAME"
)


def _install_block() -> str:
    readme = README.read_text(encoding="utf-8")
    start = readme.index("\n## Install on Raspberry Pi OS\n")
    return readme[start : readme.index("\n```\n", readme.index("```sh", start))]


def _warnings_at_start(cfg_text: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        Gateway(parse_config(cfg_text, "site.toml")).conn.close()
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_the_start_says_how_to_add_the_first_admin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As systemd starts it (the unit's ExecStart).
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", UNIT.read_text(encoding="utf-8"), re.M)
    monkeypatch.setattr(sys, "argv", shlex.split(exec_start))
    text = site_toml(tmp_path / "data")
    said = _warnings_at_start(text, caplog)
    assert any(line.startswith("no accounts yet: ") and f"`{FIRST_ADMIN}`" in line for line in said), said

    site = tmp_path / "site.toml"
    site.write_text(text, encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-secret\n"))
    assert main(["user", "add", "-c", str(site), "--admin", "wang", "--password-stdin"]) == 0
    said = _warnings_at_start(text, caplog)
    assert not any("no accounts" in line for line in said), said


def test_the_readme_install_makes_the_first_admin() -> None:
    """As the service's user, as the other steps are, and before the service is enabled, with the
    syntax the CLI takes."""
    block = _install_block()
    lines = [line for line in block.splitlines() if " user add " in line]
    assert lines, f"README's install block makes no first admin:\n{block}"
    (line,) = lines
    command = line.split("#")[0].split()
    assert command[:4] == ["sudo", "-u", "estate-gateway", "/opt/estate-gateway/venv/bin/gateway"], line
    args = _parser().parse_args(command[4:])
    assert args.role == "admin" and Path(args.config) == Path("/etc/estate-gateway/site.toml"), line
    assert block.index(" user add ") < block.index("systemctl enable --now"), block
