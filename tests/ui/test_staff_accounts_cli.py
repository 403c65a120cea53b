"""Staff turnover through the `gateway user` CLI, as an installer runs it on the box."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.store import accounts as store
from tests.conftest import site_toml


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "data" / "gateway.db")


def test_an_account_made_under_sudo_names_the_person_who_ran_it(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README tells the installer to run every `gateway` command as `sudo -u estate-gateway
    gateway ...`. The audit row of an account made that way names only `cli:estate-gateway`, the
    service's user: which of the estate's staff made the admin account is lost, though sudo says
    so (SUDO_USER). The audit trail should name the person (e.g. `cli:wang` or
    `cli:estate-gateway (sudo wang)`)."""
    # What sudo -u estate-gateway sets in the environment of the command it runs for wang.
    for key in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(key, "estate-gateway")
    monkeypatch.setenv("SUDO_USER", "wang")
    argv = ["user", "add", "-c", str(config), "--admin", "boss", "--password-stdin"]
    assert run(monkeypatch, argv, "a long passphrase\n") == 0
    with db(config) as conn:
        actor = conn.execute(
            "SELECT actor FROM audit WHERE action = 'account.create' AND target = 'boss'"
        ).fetchone()[0]
    assert "wang" in actor, actor


def _dismissed_guard(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard zhang is added, then disabled by the admin after a dispute."""
    argv = ["user", "add", "-c", str(config), "zhang", "--password-stdin"]
    assert run(monkeypatch, argv, "old zhang passphrase\n") == 0
    with db(config) as conn:
        aid = conn.execute("SELECT id FROM accounts WHERE username = 'zhang'").fetchone()[0]
        store.update_account(conn, datetime.now(UTC), "admin", aid, disabled=True)


def test_adding_a_new_guard_with_a_dismissed_guards_name_does_not_point_to_taking_over_his_account(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new guard who is also called Zhang joins after the old zhang was dismissed (disabled).
    `gateway user add zhang` refuses and its fix says `use gateway user passwd ... zhang`: the
    dismissed guard's account, whose audit rows name what the old Zhang did. Followed, the new
    guard would act under the old one's name (and the account is still disabled, so it would not
    even log in). The refusal should say the name belongs to a disabled account and ask for
    another user name (zhang2), never point to passwd."""
    _dismissed_guard(config, monkeypatch)
    capsys.readouterr()
    argv = ["user", "add", "-c", str(config), "zhang", "--password-stdin"]
    assert run(monkeypatch, argv, "new zhang passphrase\n") == 1
    err = capsys.readouterr().err
    assert "passwd" not in err, err
    assert "disabled" in err, err


def test_passwd_on_a_disabled_account_says_it_is_disabled(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """03:00, a guard cannot log in; the installer runs `gateway user passwd zhang` and is told
    "password of zhang changed; its sessions have ended" (exit 0). The account is disabled, so
    the guard's login with the new password still fails as "wrong user name or password" and
    nobody learns why. passwd should say the account is disabled (and how to enable it)."""
    _dismissed_guard(config, monkeypatch)
    capsys.readouterr()
    argv = ["user", "passwd", "-c", str(config), "zhang", "--password-stdin"]
    code = run(monkeypatch, argv, "new zhang passphrase\n")
    said = capsys.readouterr()
    assert "disabled" in (said.out + said.err), (code, said.out, said.err)


def test_the_cli_actor_names_sudo_only_when_it_is_someone_else(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cli:estate-gateway (sudo wang)` under sudo; plain `cli:USER` without it, or when sudo ran
    it for the same user."""
    from gateway.accounts.cli import cli_actor

    monkeypatch.setattr("getpass.getuser", lambda: "estate-gateway")
    monkeypatch.setenv("SUDO_USER", "wang")
    assert cli_actor() == "cli:estate-gateway (sudo wang)"
    monkeypatch.setenv("SUDO_USER", "estate-gateway")
    assert cli_actor() == "cli:estate-gateway"
    monkeypatch.delenv("SUDO_USER")
    assert cli_actor() == "cli:estate-gateway"


def test_a_disabled_accounts_password_is_left_as_it_was(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """passwd refuses (exit 1) and changes nothing: the fix says how to enable the account, or to
    give a new person a name of their own."""
    _dismissed_guard(config, monkeypatch)
    with db(config) as conn:
        before = conn.execute("SELECT password_hash FROM accounts WHERE username = 'zhang'").fetchone()
    capsys.readouterr()
    argv = ["user", "passwd", "-c", str(config), "zhang", "--password-stdin"]
    assert run(monkeypatch, argv, "new zhang passphrase\n") == 1
    err = capsys.readouterr().err
    assert "启用" in err and "zhang2" in err, err
    with db(config) as conn:
        assert (
            conn.execute("SELECT password_hash FROM accounts WHERE username = 'zhang'").fetchone() == before
        )


def test_a_taken_enabled_name_still_points_to_passwd(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["user", "add", "-c", str(config), "zhang", "--password-stdin"]
    assert run(monkeypatch, argv, "old zhang passphrase\n") == 0
    capsys.readouterr()
    assert run(monkeypatch, argv, "new zhang passphrase\n") == 1
    err = capsys.readouterr().err
    assert "taken" in err and "gateway user passwd" in err and "disabled" not in err, err


def test_the_cli_refuses_the_audit_trails_own_names(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["user", "add", "-c", str(config), "Central", "--password-stdin"]
    assert run(monkeypatch, argv, "a long passphrase\n") == 1
    assert "audit trail" in capsys.readouterr().err
