"""A guard logs in while storage takes no writes (Review 67 E1): the next shift's login is a write,
and on a card gone read-only it was answered 503, the login form showing the API's JSON in English:
nobody could log in, so nobody could open a gate by hand while every resident was refused
storage_failed. The session is kept in memory, its record waiting as an opening by hand's does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.web.i18n import translator
from tests.sdcard import site_on_card
from tests.ui.conftest import GUARD, Site, fill_the_disk, free_the_disk, stored, wait_for


def _login_form(client: TestClient) -> tuple[int, str | None]:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    sent = {"username": GUARD[0], "password": GUARD[1], "csrf": csrf.group(1), "next": "/"}
    r = client.post("/login", data=sent, follow_redirects=False)
    return r.status_code, r.headers.get("location")


def test_the_next_shift_logs_in_and_opens_by_hand_on_a_card_gone_read_only(tmp_path: Path) -> None:
    with site_on_card(tmp_path / "data") as (site, card):
        card.fail()
        night = TestClient(create_app(site.gw))
        r = night.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
        assert r.status_code == 200, r.text
        csrf = {"X-CSRF-Token": r.json()["csrf"]}
        assert night.get("/api/me").json()["username"] == GUARD[0]
        opened = night.post("/api/lanes/door/open", json={"reason": "住户"}, headers=csrf)
        assert opened.status_code == 200 and opened.json()["record_waits"], opened.text
        # The login page too: to the live page, not a JSON error.
        form = TestClient(create_app(site.gw))
        assert _login_form(form) == (303, "/")
        assert form.get("/", follow_redirects=False).status_code == 200
        # Logged out, that session ends at once, though its end cannot be written either.
        assert night.delete("/api/session", headers=csrf).status_code == 204
        night.cookies.clear()
        night.cookies.set("egw_session", r.cookies["egw_session"])
        assert night.get("/api/me").status_code == 401


def test_a_login_kept_while_the_disk_was_full_is_on_record_once_it_has_room(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.runtime.hand_opens.UNRECORDED_RETRY_S", 0.05)  # tried again at once
    gw = site.gw
    fill_the_disk(site)
    client = TestClient(create_app(gw))
    r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    assert r.status_code == 200, r.text
    assert stored(site, "SELECT count(*) FROM sessions") == [(0,)]
    free_the_disk(site)
    wait_for(lambda: stored(site, "SELECT count(*) FROM sessions") == [(1,)])
    assert stored(site, "SELECT actor FROM audit WHERE action = 'session.login'") == [(GUARD[0],)]
    # The session on record now, the same cookie: the guard is not sent to log in again.
    assert client.get("/api/me").json()["username"] == GUARD[0]
    assert client.delete("/api/session", headers={"X-CSRF-Token": r.json()["csrf"]}).status_code == 204
    wait_for(lambda: stored(site, "SELECT count(*) FROM sessions") == [(0,)])
    assert client.get("/api/me").status_code == 401


def test_a_login_that_cannot_be_made_says_so_in_the_guard_s_words(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the sessions memory keeps, the login form says what happened, in the page's language,
    not the API's JSON error in English."""
    monkeypatch.setattr("gateway.runtime.kept_sessions.MAX_KEPT", 0)
    fill_the_disk(site)
    client = TestClient(create_app(site.gw))
    status, where = _login_form(client)
    assert status == 303 and where is not None and "error=storage" in where, where
    page = client.get(where)
    assert translator("zh")("login.storage") in page.text
