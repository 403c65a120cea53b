"""A session cookie nobody was given opens no session, not even while a guard is logged in: a
tablet sending a made-up or mistyped egw_session cookie gets 401, never the logged-in guard's
account. The session check (gateway/store/accounts.py session_account) must match the cookie's
hash as well as the session's time; the reviewer of round 58d found that no test sent a cookie
the gateway had not given while another session was live."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.api.auth import SESSION_COOKIE
from tests.ui.conftest import GUARD, log_in


def test_a_made_up_session_cookie_is_refused_while_a_guard_is_logged_in(
    app: FastAPI, client: TestClient
) -> None:
    log_in(client, GUARD)
    assert client.get("/api/me").status_code == 200
    with TestClient(app) as other:
        other.cookies.set(SESSION_COOKIE, "made-up")
        me = other.get("/api/me")
    assert me.status_code == 401, me.text
