"""The first admin comes from the CLI, never from a default password; tokens are shown once."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG, load_config, parse_config
from gateway.demo.run import demo_login, own_config
from tests.conftest import site_toml


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def run(monkeypatch: pytest.MonkeyPatch, argv: list[str], stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(argv)


def accounts(config: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(config.parent / "data" / "gateway.db") as conn:
        return conn.execute("SELECT username, role, substr(password_hash, 1, 10) FROM accounts").fetchall()


def test_user_add_makes_the_first_admin(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["user", "add", "-c", str(config), "--admin", "boss", "--password-stdin"]
    assert run(monkeypatch, argv, "short\n") == 1
    assert "at least 8" in capsys.readouterr().err
    assert run(monkeypatch, argv, "a long passphrase\n") == 0
    assert accounts(config) == [("boss", "admin", "$argon2id$")]
    assert run(monkeypatch, argv, "another passphrase\n") == 1
    assert "taken" in capsys.readouterr().err
    assert run(monkeypatch, ["user", "list", "-c", str(config)]) == 0
    assert "boss" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("password", "fix"),
    [
        ("Boss.Admin", "fix: choose a password other than the user name"),
        ("x" * 129, "fix: choose a shorter password"),
    ],
)
def test_user_add_says_what_password_to_choose_instead(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], password: str, fix: str
) -> None:
    """A password equal to the user name (or too long) was refused with "choose a longer password"."""
    argv = ["user", "add", "-c", str(config), "--admin", "boss.admin", "--password-stdin"]
    assert run(monkeypatch, argv, password + "\n") == 1
    err = capsys.readouterr().err
    assert fix in err and "longer" not in err, err


def test_token_add_prints_the_token_once(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, ["token", "add", "-c", str(config), "bridge", "--role", "guard"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("egw_")
    with sqlite3.connect(config.parent / "data" / "gateway.db") as conn:
        assert token not in str(conn.execute("SELECT * FROM api_tokens").fetchall())


@pytest.mark.parametrize("days", ["-1", "0"])
def test_token_add_refuses_a_lifetime_under_one_day(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], days: str
) -> None:
    # -1 printed a token that had expired yesterday; 0 silently meant "never expires".
    assert run(monkeypatch, ["token", "add", "-c", str(config), "central", "--days", days]) == 1
    out = capsys.readouterr()
    assert "store it now" not in out.out
    assert "fix: give --days 1 or more, or leave --days out" in out.err
    assert run(monkeypatch, ["token", "add", "-c", str(config), "central", "--days", "1"]) == 0


def test_the_demo_makes_an_admin_with_a_password_shown_once(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    first = demo_login(cfg)
    assert "log in as admin with password" in first
    password = first.split("password ")[1].split(" ")[0]
    assert len(password) >= 12
    second = demo_login(cfg)
    assert password not in second and "gateway user add" in second


def test_a_demo_in_its_own_data_dir_names_a_config_that_reaches_its_database(tmp_path: Path) -> None:
    """`scripts/demo --data-dir DIR`: the second start's hint `gateway user add -c ...` used to
    name config/demo.toml, whose data_dir is data/demo: the new admin could not log in."""
    config = own_config(tmp_path / "d")
    cfg = load_config(config)
    assert cfg.site.data_dir == (tmp_path / "d").resolve()
    demo_login(cfg)
    assert f"gateway user add -c {config} --admin NAME" in demo_login(cfg)


def test_a_demo_whose_folder_cannot_be_written_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gateway demo` with a data folder (or a home) it may not write printed a PermissionError
    traceback; it now says which folder and what to do, and exits as other setup errors do."""
    under_a_file = tmp_path / "file"
    under_a_file.write_text("")
    assert run(monkeypatch, ["demo", "--data-dir", str(under_a_file / "d"), "--stop-after", "0"]) == EX_CONFIG
    assert f"cannot write the demo's folder {under_a_file / 'd'}" in capsys.readouterr().err

    def denied(source: Path, target: Path) -> None:
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr("gateway.demo.run.shutil.copyfile", denied)  # as root, chmod would not do
    assert run(monkeypatch, ["demo", "--data-dir", str(tmp_path / "d"), "--stop-after", "0"]) == EX_CONFIG
    err = capsys.readouterr().err
    assert "Permission denied" in err and "fix: give --data-dir a folder you may write to" in err, err
