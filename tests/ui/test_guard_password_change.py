"""Changing one's own password checks the current one under the login limits: a session left open
on the booth tablet is no way to guess the password without end."""

from __future__ import annotations

import sqlite3

from fastapi.testclient import TestClient

from tests.ui.conftest import ADMIN, GUARD, Site, log_in


def _stored_hash(site: Site) -> str:
    with sqlite3.connect(site.gw.db_path) as conn:
        return str(
            conn.execute("SELECT password_hash FROM accounts WHERE username = ?", (GUARD[0],)).fetchone()[0]
        )


def _change(client: TestClient, csrf: dict[str, str], current: str) -> int:
    r = client.post("/api/me/password", json={"current": current, "new": "new-pass-456"}, headers=csrf)
    return r.status_code


def test_guessing_the_current_password_is_stopped_like_a_login(client: TestClient, site: Site) -> None:
    csrf = log_in(client, GUARD)
    before = _stored_hash(site)
    assert [_change(client, csrf, f"guess-{i}") for i in range(5)] == [403] * 5
    r = client.post("/api/me/password", json={"current": GUARD[1], "new": "new-pass-456"}, headers=csrf)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert _stored_hash(site) == before  # even the right password waits
    # The same limiter: logging in as that user waits too; another user from the tablet may.
    login = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    assert login.status_code == 429
    assert client.post("/api/session", json={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_the_right_current_password_clears_the_count(client: TestClient) -> None:
    csrf = log_in(client, GUARD)
    assert [_change(client, csrf, f"guess-{i}") for i in range(4)] == [403] * 4
    assert _change(client, csrf, GUARD[1]) == 204
    csrf = log_in(client, (GUARD[0], "new-pass-456"))  # changing it ended the session
    assert [_change(client, csrf, f"guess-{i}") for i in range(4)] == [403] * 4
