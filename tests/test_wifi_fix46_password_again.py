"""A change of one's own password sent again with its Idempotency-Key after an answer lost on the
Wi-Fi (admin page, 修改密码: app.js keyFor sends the same key for the same form sent again). The
change ends the session that made it, so the repeat was refused 401 login_required: the page went
to the login saying nothing, the guard (told "network error" the first time) took the change for
failed and typed his old password, which was refused, and five tries locked the user name out. The
repeat is answered what the first one did, the page goes to the login as on any change, and the new
password logs in."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api import session
from gateway.api.app import create_app
from tests.ui.conftest import GUARD, Site, log_in, make_config, start_site, stored

NEW = "Booth-Night-2026"
CHANGE = {"current": GUARD[1], "new": NEW}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _sent_twice(client: TestClient, key: str) -> tuple[int, int, dict[str, str]]:
    """The form sent with the guard's session, its answer lost, and sent again unchanged with the
    same key and the session's cookie and CSRF token, as the page does."""
    headers = {**log_in(client, GUARD), "Idempotency-Key": key}
    first = client.post("/api/me/password", json=CHANGE, headers=headers)
    assert first.status_code == 204, first.text
    again = client.post("/api/me/password", json=CHANGE, headers=headers)
    return first.status_code, again.status_code, {"body": again.text, **headers}


def _login(client: TestClient, password: str) -> int:
    return client.post("/api/session", json={"username": GUARD[0], "password": password}).status_code


def test_a_password_change_sent_again_is_answered_it_was_made(site: Site, client: TestClient) -> None:
    """The repeat was 401 login_required (the first change had ended the session): the page went to
    the login as if the session had merely expired. It is answered 204, as the first was, so the
    page goes to the login as after any change; the new password logs in, the old one does not, and
    the password was changed once."""
    first, again, sent = _sent_twice(client, "password-retry-1")
    assert again == first, f"the change made is answered {again}: {sent['body']}"
    audited = "SELECT count(*) FROM audit WHERE action = 'account.update' AND actor = ?"
    assert stored(site, audited, GUARD[0]) == [(1,)]
    assert _login(client, NEW) == 200
    assert _login(client, GUARD[1]) == 401


def test_the_repeat_counts_no_failed_login(client: TestClient) -> None:
    """The repeat checks no password (its current one is the old one, wrong since the change): four
    mistyped logins after it still leave the guard his fifth try with the new password."""
    _sent_twice(client, "password-retry-2")
    assert [_login(client, f"typo-{i}") for i in range(4)] == [401] * 4
    assert _login(client, NEW) == 200


def test_the_repeat_needs_the_session_and_its_csrf_token(client: TestClient) -> None:
    """Only the page that made the change is answered for it: the ended session's cookie without its
    CSRF token (a forged request) is 401 as any request of an ended session, as is the same form from
    another session of the guard's (that one checks its current password: wrong since the change)."""
    _, _, sent = _sent_twice(client, "password-retry-3")
    cookie_alone = {"Idempotency-Key": sent["Idempotency-Key"]}
    forged = client.post("/api/me/password", json=CHANGE, headers=cookie_alone)
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "login_required", forged.text
    other = {**log_in(client, (GUARD[0], NEW)), "Idempotency-Key": sent["Idempotency-Key"]}
    r = client.post("/api/me/password", json=CHANGE, headers=other)
    assert r.status_code == 403 and r.json()["error"]["code"] == "bad_password", r.text


def test_the_same_key_with_another_password_is_a_mismatch(client: TestClient) -> None:
    """A key names one change: sent with another new password it is 422 idempotency_mismatch, and
    the password stays the one the first change made."""
    _, _, sent = _sent_twice(client, "password-retry-4")
    headers = {k: v for k, v in sent.items() if k != "body"}
    other = client.post("/api/me/password", json={**CHANGE, "new": "Other-Pass-2026"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch", other.text
    assert _login(client, NEW) == 200


def test_the_key_store_keeps_no_password_and_none_is_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """What the gateway keeps in memory to know the repeat holds neither password, nor a plain hash
    of them, nor the session's cookie; and no log line holds a password."""
    caplog.set_level(logging.DEBUG)
    _sent_twice(client, "password-retry-5")
    kept = repr(session._changes._made)
    cookie = client.cookies.get("egw_session") or ""
    plain = hashlib.sha256(json.dumps(CHANGE, separators=(",", ":")).encode()).hexdigest()
    for secret in (GUARD[1], NEW, cookie, plain):
        assert secret and secret not in kept
    assert not [r for r in caplog.records if GUARD[1] in r.getMessage() or NEW in r.getMessage()]
