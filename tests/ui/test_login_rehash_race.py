"""docs/guard-app.md, Security choices: passwords are "re-hashed at login when the parameters change".
After an update that raised the Argon2 settings, the first login of a shift stores a stronger hash;
a second login with the same right password at the same moment (the gate tablet and the booth PC,
or a double-submitted form) must get in too, not be told the password was wrong."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import urllib.error
import urllib.request

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

import gateway.api.session as session_api
from tests.ui.conftest import GUARD, LiveServer, Site

RIGHT = {"username": GUARD[0], "password": GUARD[1]}


def _login(url: str, answers: list[tuple[int, str]]) -> None:
    req = urllib.request.Request(
        f"{url}/api/session", data=json.dumps(RIGHT).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            answers.append((r.status, ""))
    except urllib.error.HTTPError as exc:
        answers.append((exc.code, exc.read().decode()))


def _store_a_weaker_hash(site: Site) -> None:
    """The guard's password hashed as an older release did (less memory): due for a rehash."""
    weak = PasswordHasher(memory_cost=8192, time_cost=1).hash(GUARD[1])
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("UPDATE accounts SET password_hash = ? WHERE username = ?", (weak, GUARD[0]))


def test_two_booths_logging_in_together_after_an_upgrade_both_get_in(
    site: Site, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day shift logs in on the gate tablet and the booth PC at the same moment, right after an
    update that raised the Argon2 settings, with the right password: both get in. The second was
    told "wrong user name or password": the first login's stronger hash looked like a reset."""
    _store_a_weaker_hash(site)
    both_checked = threading.Barrier(2, timeout=20)
    checks = itertools.count()
    real_verify = session_api.verify_password

    def verify(stored: str, password: str) -> bool:
        ok = real_verify(stored, password)
        if next(checks) < 2:  # both logins' password checks finish before either goes on
            both_checked.wait()
        return ok

    monkeypatch.setattr(session_api, "verify_password", verify)
    answers: list[tuple[int, str]] = []
    with LiveServer(app) as url:
        threads = [threading.Thread(target=_login, args=(url, answers)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert sorted(a[0] for a in answers) == [200, 200], answers
