"""What the gateway keeps of who logged in, and of each account, when staff leave (Review 67 D2-D4):
a login's address in its audit row, a login to a disabled account said apart in the journal (the
client told no more than for a wrong password), the audit trail found by the display name it
shows, a rename on record with the old name, and who made each account, when, and its last login."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.cli import main
from tests.conftest import site_toml
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in


def _guard_id(office: TestClient, site: Site) -> int:
    accounts = office.get("/api/accounts", headers=bearer(site.admin_token)).json()
    return int(next(a["id"] for a in accounts if a["username"] == GUARD[0]))


def test_a_login_says_where_it_came_from_and_a_disabled_accounts_apart(
    app: FastAPI, site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    adm = bearer(site.admin_token)
    with TestClient(app, client=("10.9.9.77", 50000)) as phone, TestClient(app) as office:
        log_in(phone, GUARD)
        (row,) = office.get(
            "/api/audit", params={"actor": "guard1", "action": "session.login"}, headers=adm
        ).json()
        assert "10.9.9.77" in row["detail"]
        (listed,) = [a for a in office.get("/api/accounts", headers=adm).json() if a["username"] == "guard1"]
        assert listed["last_login_at"] == row["at"]

        office.patch(f"/api/accounts/{_guard_id(office, site)}", json={"disabled": True}, headers=adm)
        wrong = phone.post("/api/session", json={"username": GUARD[0], "password": "not-his-password"})
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gateway.api.session"):
            right = phone.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
        assert (right.status_code, right.json()) == (wrong.status_code, wrong.json()) == (401, wrong.json())
        (said,) = [r.getMessage() for r in caplog.records if r.name == "gateway.api.session"]
        assert "disabled account 'guard1'" in said and "10.9.9.77" in said and "with its password" in said


def test_the_audit_trail_is_found_by_the_display_name_it_shows(app: FastAPI, site: Site) -> None:
    with TestClient(app) as booth, TestClient(app) as office:
        booth.post("/api/lanes/door/open", json={"reason": "送快递"}, headers=log_in(booth, GUARD))
        log_in(office, ADMIN)
        by_name = office.get("/audit", params={"actor": "张师傅"}).text
        by_user = office.get("/audit", params={"actor": "guard1"}).text
        rows = re.findall(r"<tr><td><small>", by_user)
        assert len(rows) == 2 and len(re.findall(r"<tr><td><small>", by_name)) == len(rows)
        api = office.get("/api/audit", params={"actor": "张师傅"}, headers=bearer(site.admin_token)).json()
        assert {r["action"] for r in api} == {"session.login", "lane.open"}

        # A rename keeps the old name on record, and the new one finds his rows (the old, too).
        gid = _guard_id(office, site)
        office.patch(
            f"/api/accounts/{gid}", json={"display_name": "李师傅"}, headers=bearer(site.admin_token)
        )
        (renamed,) = office.get(
            "/api/audit",
            params={"action": "account.update", "target": "guard1"},
            headers=bearer(site.admin_token),
        ).json()
        assert "李师傅" in renamed["detail"] and "张师傅" in renamed["detail"]
        assert len(re.findall(r"<tr><td><small>", office.get("/audit", params={"actor": "李师傅"}).text)) == 2


def test_each_account_says_who_made_it_when_and_its_last_login(app: FastAPI, site: Site) -> None:
    with TestClient(app) as office:
        log_in(office, ADMIN)
        page = office.get("/admin").text
        (admin_row,) = re.findall(r'<tr[^>]*data-account="admin".*?</tr>', page, re.S)
        assert "test" in admin_row and "最近登录" in admin_row  # made by `test` (the seed), logged in now
        (guard_row,) = re.findall(r'<tr[^>]*data-account="guard1".*?</tr>', page, re.S)
        assert "从未登录" in guard_row
        (listed,) = [
            a
            for a in office.get("/api/accounts", headers=bearer(site.admin_token)).json()
            if a["username"] == "admin"
        ]
        assert listed["created_by"] == "test" and listed["created_at"] and listed["last_login_at"]


def test_user_list_says_who_made_each_account_and_its_last_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    monkeypatch.setenv("SUDO_USER", "installer")
    assert main(["user", "add", "-c", str(config), "--admin", "boss", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["user", "list", "-c", str(config)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("boss") and "made 20" in line and "(sudo installer)" in line
    assert "never logged in" in line
