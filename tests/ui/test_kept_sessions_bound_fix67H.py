"""Logins kept in memory while storage takes no writes (Review 67 H3). Their records and logouts'
shared the 1,000 records that wait with the guards' openings by hand (3 here, to be quick): a login
pushed an opening out of memory, and openings pushed the login's own record out, its session then
living in memory alone, brought back by disabling and enabling the guard. Logins and logouts now
wait within a bound of their own; a login's record lost at it ends its session; a kept session its
account's change ended stays ended."""

from __future__ import annotations

import logging
import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import (
    ADMIN,
    GUARD,
    Site,
    fill_the_disk,
    free_the_disk,
    stored,
    wait_for,
)

LOST = "lost (too many records waiting)"


def _log_in(site: Site, who: tuple[str, str]) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(create_app(site.gw))
    r = client.post("/api/session", json={"username": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return client, {"X-CSRF-Token": r.json()["csrf"]}


def test_logins_and_openings_by_hand_never_push_each_other_out(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("gateway.runtime.hand_opens.MAX_UNRECORDED", 3)
    monkeypatch.setattr("gateway.runtime.hand_opens.UNRECORDED_RETRY_S", 0.05)
    caplog.set_level(logging.ERROR, logger="gateway.runtime.hand_opens")
    gw = site.gw
    fill_the_disk(site)
    guard, csrf = _log_in(site, GUARD)
    for _ in range(3):
        opened = guard.post("/api/lanes/door/open", json={"reason": "住户"}, headers=csrf)
        assert opened.json()["record_waits"], opened.text
    _log_in(site, ADMIN)  # the next shift
    assert [r.what for r in gw._waiting.kept_now()] == ["login", *["lane open by hand"] * 3, "login"]
    assert not [r.getMessage() for r in caplog.records if LOST in r.getMessage()]

    free_the_disk(site)
    wait_for(lambda: gw._waiting.waiting() == 0)
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'lane.open'") == [(3,)]
    admin = {"Authorization": f"Bearer {site.admin_token}"}
    [account] = [a for a in guard.get("/api/accounts", headers=admin).json() if a["username"] == GUARD[0]]
    for disabled in (True, False):
        changed = guard.patch(f"/api/accounts/{account['id']}", json={"disabled": disabled}, headers=admin)
        assert changed.status_code == 200, changed.text
    assert guard.get("/api/me").status_code == 401  # disabling ended the session for good


def test_a_login_lost_at_the_bound_ends_its_session(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("gateway.runtime.hand_opens.MAX_LOGINS_WAITING", 1)
    caplog.set_level(logging.ERROR, logger="gateway.runtime.hand_opens")
    fill_the_disk(site)
    guard, _ = _log_in(site, GUARD)
    assert guard.get("/api/me").status_code == 200
    _log_in(site, ADMIN)  # its record pushes the guard's login out
    lost = [r.getMessage() for r in caplog.records if LOST in r.getMessage()]
    assert len(lost) == 1 and lost[0].startswith(f"login {LOST} user={GUARD[0]!r}"), lost
    assert guard.get("/api/me").status_code == 401  # on no record, it lives nowhere


def test_a_kept_session_its_accounts_change_ended_stays_ended(site: Site) -> None:
    fill_the_disk(site)
    guard, _ = _log_in(site, GUARD)
    # Disabled and enabled again while the login's record still waits (an admin's change once the
    # card takes writes, before the worker gets to the records that waited).
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("UPDATE accounts SET disabled = 1 WHERE username = ?", (GUARD[0],))
    assert guard.get("/api/me").status_code == 401
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("UPDATE accounts SET disabled = 0 WHERE username = ?", (GUARD[0],))
    assert guard.get("/api/me").status_code == 401
    free_the_disk(site)
    wait_for(lambda: site.gw._waiting.waiting() == 0)
    assert guard.get("/api/me").status_code == 401
    assert stored(site, "SELECT count(*) FROM audit WHERE action = 'session.login'") == [(1,)]
