"""`gateway user passwd NAME` typed on the box while an admin disables that account on the admin
page (the service, another process on the same database). README: "`passwd` refuses a disabled
account (exit 1: it could not log in whatever its password) and says how to enable it"; the
command's own comment: a new password "would ready a dismissed guard's account for whoever enables
it". The check is made before the password is asked for (typed twice, seconds), the change after,
with nothing checked again in its transaction."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

import gateway.accounts.cli as accounts_cli
from gateway.cli import main
from gateway.store import accounts as store
from tests.conftest import site_toml


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def _db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "data" / "gateway.db", isolation_level=None)


def test_passwd_refuses_an_account_disabled_while_its_password_was_typed(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """03:00: the installer runs `gateway user passwd zhang` (zhang asked for a reset before his
    shift). While he types the new password twice, the estate's admin, who has just dismissed
    zhang, presses 停用 Disable on the admin page. What the installer is told: exit 0, "password of
    zhang changed; its sessions have ended"; the disabled account now has the password the
    installer typed (and told zhang). What README promises: exit 1, the account is disabled,
    nothing changed."""
    monkeypatch.setattr("sys.stdin", io.StringIO("old zhang passphrase\n"))
    assert main(["user", "add", "-c", str(config), "zhang", "--password-stdin"]) == 0
    with _db(config) as conn:
        aid, before = conn.execute(
            "SELECT id, password_hash FROM accounts WHERE username = 'zhang'"
        ).fetchone()
    real = accounts_cli._password

    def typed_while_admin_disables(username: str, from_stdin: bool) -> str:
        other = _db(config)  # the service's connection: the admin page's 停用
        try:
            store.update_account(other, datetime.now(UTC), "admin", aid, disabled=True)
        finally:
            other.close()
        return real(username, from_stdin)

    monkeypatch.setattr(accounts_cli, "_password", typed_while_admin_disables)
    monkeypatch.setattr("sys.stdin", io.StringIO("new zhang passphrase\n"))
    capsys.readouterr()
    code = main(["user", "passwd", "-c", str(config), "zhang", "--password-stdin"])
    said = capsys.readouterr()
    with _db(config) as conn:
        after, disabled = conn.execute(
            "SELECT password_hash, disabled FROM accounts WHERE username = 'zhang'"
        ).fetchone()
    assert disabled == 1
    assert (code, after == before) == (1, True), (
        f"passwd on an account disabled meanwhile: exit {code}, password changed: {after != before}; "
        f"it said {said.out.strip()!r} {said.err.strip()!r}"
    )
