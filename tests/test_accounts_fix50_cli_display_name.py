"""`gateway user add` and the admin page take an account's display name by the same rules."""

from __future__ import annotations

import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.cli import main
from gateway.errors import GatewayError
from gateway.store import accounts as store
from gateway.store.database import DB_NAME, open_database
from tests.conftest import site_toml
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401  (fixtures)

PASTED = " 王\u200b经理\u200b "  # a name pasted from WeChat: zero-width spaces, a space round it


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "cli-data"), encoding="utf-8")
    return path


def user_add(monkeypatch: pytest.MonkeyPatch, config: Path, username: str, display_name: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    argv = ["user", "add", "-c", str(config), "--admin", username, "--display-name", display_name]
    return main([*argv, "--password-stdin"])


def stored_name(config: Path, username: str) -> str | None:
    path = config.parent / "cli-data" / "gateway.db"
    if not path.exists():  # refused before the database was opened
        return None
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT display_name FROM accounts WHERE username = ?", (username,)).fetchone()
    return None if row is None else str(row[0])


def test_user_add_drops_a_pasted_names_invisible_characters_as_the_admin_page_does(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    """docs/guard-app.md: the invisible characters a name pasted from WeChat carries (U+200B) are
    dropped before an account's name is stored, and the admin page does so (and strips spaces); the
    CLI stored 王经理 with them, so its lane label and audit name differed from the same name typed
    on the page. Both should store 王经理."""
    assert user_add(monkeypatch, config, "wang", PASTED) == 0
    web = client.post(
        "/api/accounts",
        json={"username": "wang", "display_name": PASTED, "password": "a long passphrase"},
        headers=bearer(site.admin_token),
    )
    assert web.status_code == 201, web.text
    assert stored_name(config, "wang") == web.json()["display_name"] == "王经理"


def test_user_add_refuses_a_display_name_longer_than_the_admin_page_takes(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The admin page takes 40 characters; the CLI stored a name of any length (a lane label and an
    audit line the tablet cannot show). It is refused, saying how long it may be, and nothing is made."""
    assert user_add(monkeypatch, config, "wang", "王" * 41) == 1
    said = capsys.readouterr().err
    assert "41 characters" in said and "--display-name" in said and "40 characters or fewer" in said, said
    assert stored_name(config, "wang") is None
    # 40 characters, with a pasted name's invisible ones besides, are 40.
    assert user_add(monkeypatch, config, "wang", "\u200b" + "王" * 40 + " ") == 0
    assert stored_name(config, "wang") == "王" * 40


def test_the_store_keeps_a_display_name_by_the_same_rule_on_a_change(tmp_path: Path) -> None:
    """A change of name (the store's update, as the admin page's PATCH and any later path make it)
    is cleaned and limited as a new account's is."""
    conn, at = open_database(tmp_path / DB_NAME).conn, datetime.now(UTC)
    aid = store.create_account(conn, at, "admin", "li", PASTED, "guard", "x")
    assert store.get_account(conn, aid).display_name == "王经理"
    assert store.update_account(conn, at, "admin", aid, display_name=" 李\u200b师傅").display_name == "李师傅"
    with pytest.raises(GatewayError):
        store.update_account(conn, at, "admin", aid, display_name="李" * 41)
    assert store.get_account(conn, aid).display_name == "李师傅"
