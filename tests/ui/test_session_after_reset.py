"""docs/guard-app.md: "gateway user passwd ... # ends zhang's sessions"; "Disabling an account,
changing its role or its password ends its sessions." A login whose password check was under way
(Argon2 takes about 0.2 s on a Pi) when an admin reset the password must not leave a live session
made with the old password: whoever stole it would keep logging in in a loop, and keep the booth."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

import gateway.api.session as session_api
from tests.ui.conftest import GUARD, LiveServer, Site, bearer

NEW = "brand-new-pass-9"
STOLEN = {"username": GUARD[0], "password": GUARD[1]}


def _guard_id(client: TestClient, site: Site) -> int:
    accounts = client.get("/api/accounts", headers=bearer(site.admin_token)).json()
    return next(int(a["id"]) for a in accounts if a["username"] == GUARD[0])


def _change_guard(client: TestClient, site: Site, change: dict[str, object]) -> None:
    r = client.patch(
        f"/api/accounts/{_guard_id(client, site)}", json=change, headers=bearer(site.admin_token)
    )
    assert r.status_code == 200, r.text


def _store_a_weaker_hash(site: Site) -> str:
    """The guard's password hashed as an older release did (less memory): due for a rehash."""
    weak = PasswordHasher(memory_cost=8192, time_cost=1).hash(GUARD[1])
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("UPDATE accounts SET password_hash = ? WHERE username = ?", (weak, GUARD[0]))
    return weak


def _stored_hash(site: Site) -> str:
    with sqlite3.connect(site.gw.db_path) as conn:
        sql = "SELECT password_hash FROM accounts WHERE username = ?"
        return str(conn.execute(sql, (GUARD[0],)).fetchone()[0])


@pytest.fixture
def admin_acts_during_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[Callable[[], None]], None]]:
    """Runs an admin's change after the password was checked and before the login is stored."""
    changes: list[Callable[[], None]] = []
    real_verify = session_api.verify_password

    def verify_then_let_the_admin_act(stored: str, password: str) -> bool:
        ok = real_verify(stored, password)
        for change in changes:
            change()
        changes.clear()
        return ok

    monkeypatch.setattr(session_api, "verify_password", verify_then_let_the_admin_act)
    yield changes.append


@pytest.mark.parametrize(
    "change", [{"password": NEW}, {"disabled": True}, {"role": "admin"}], ids=["reset", "disable", "role"]
)
def test_a_change_during_a_login_ends_that_login_too(
    app: FastAPI,
    client: TestClient,
    site: Site,
    admin_acts_during_the_check: Callable[[Callable[[], None]], None],
    change: dict[str, object],
) -> None:
    admin_acts_during_the_check(lambda: _change_guard(client, site, change))
    thief = TestClient(app)
    r = thief.post("/api/session", json=STOLEN)
    assert r.status_code == 401, f"a login checked before the change got in: {r.status_code} {r.text}"
    assert r.json()["error"]["code"] == "bad_login"
    assert thief.get("/api/me").status_code == 401


def test_a_stronger_hash_stored_at_login_does_not_undo_a_reset(
    client: TestClient,
    site: Site,
    admin_acts_during_the_check: Callable[[Callable[[], None]], None],
) -> None:
    """The gateway stores a stronger hash of the password at login when its Argon2 settings grew;
    an admin's reset made meanwhile must win, or the old password would work again."""
    _store_a_weaker_hash(site)
    admin_acts_during_the_check(lambda: _change_guard(client, site, {"password": NEW}))
    assert client.post("/api/session", json=STOLEN).status_code == 401
    assert client.post("/api/session", json=STOLEN).status_code == 401  # and stays wrong
    assert client.post("/api/session", json={"username": GUARD[0], "password": NEW}).status_code == 200


def test_a_stronger_hash_is_stored_at_login_and_other_sessions_live_on(app: FastAPI, site: Site) -> None:
    """The same password with a stronger hash is no change of password: the tablet in the other
    booth stays logged in."""
    other_booth, this_booth = TestClient(app), TestClient(app)
    assert other_booth.post("/api/session", json=STOLEN).status_code == 200
    weak = _store_a_weaker_hash(site)
    assert this_booth.post("/api/session", json=STOLEN).status_code == 200
    stored = _stored_hash(site)
    assert stored != weak and not session_api.needs_rehash(stored)
    assert other_booth.get("/api/me").status_code == 200


def test_no_session_from_logins_in_a_loop_outlives_a_password_reset(site: Site, app: FastAPI) -> None:
    """The same without any hook: the thief logs in again and again with the stolen password while
    the admin resets it; every session the thief got must be dead once the reset is done."""
    with LiveServer(app) as url:
        stop = threading.Event()
        cookies: list[str] = []

        def loop() -> None:
            body = json.dumps(STOLEN).encode()
            while not stop.is_set():
                req = urllib.request.Request(
                    f"{url}/api/session", data=body, headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        cookies.append(r.headers["set-cookie"].split(";")[0])
                except urllib.error.HTTPError:
                    pass

        threads = [threading.Thread(target=loop) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        with TestClient(app) as admin:
            _change_guard(admin, site, {"password": NEW})
        stop.set()
        for t in threads:
            t.join(30)
        alive = []
        for cookie in cookies:
            req = urllib.request.Request(f"{url}/api/me", headers={"Cookie": cookie})
            try:
                with urllib.request.urlopen(req, timeout=10):
                    alive.append(cookie)
            except urllib.error.HTTPError:
                pass
        assert cookies, "the thief never logged in: the test proves nothing"
        assert not alive, (
            f"{len(alive)} of {len(cookies)} sessions made with the old password outlive the reset"
        )
