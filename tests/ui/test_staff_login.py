"""Logins at the booth over a year of staff turnover, through the real app (tests/ui fixtures)."""

from __future__ import annotations

import re
import sqlite3

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in, password_hash


def _id(client: TestClient, site: Site, username: str) -> int:
    accounts = client.get("/api/accounts", headers=bearer(site.admin_token)).json()
    return next(a["id"] for a in accounts if a["username"] == username)


def _form_login(client: TestClient, username: str, password: str) -> str:
    """Log in with the /login form as the tablet does; the page the browser lands on."""
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"username": username, "password": password, "csrf": csrf, "next": "/"}
    r = client.post("/login", data=form, follow_redirects=False)
    return client.get(r.headers["location"]).text


def test_a_locked_out_guard_is_told_how_long_to_wait_on_the_login_page(client: TestClient) -> None:
    """A guard who mistyped 5 times is locked out for up to 5 minutes. The API says how long
    (Retry-After, "wait N seconds"), but the login page the tablet shows says only 登录失败次数过多，
    请稍后再试 ("wait and try again"): the guard at the gate cannot tell a minute from an hour,
    nor that another account may log in meanwhile. The page should say how long (N 秒 / 分钟)."""
    for i in range(5):
        _form_login(client, GUARD[0], f"wrong-pass-{i}")
    text = _form_login(client, GUARD[0], GUARD[1])
    assert 'id="login-error"' in text
    error = text.split('id="login-error">')[1].split("</p>")[0]
    assert "登录失败次数过多" in error  # the lockout it is
    assert re.search(r"\d", error), error  # ... and how long it lasts


def test_a_password_reset_by_the_admin_lets_the_locked_out_guard_in(client: TestClient, site: Site) -> None:
    """03:00: a guard forgot the password and tried 5 times. The refusal's fix says "an admin
    can reset the password"; the admin does (admin page, reset password). The guard types the new
    password at once and is still refused 429 for the rest of the 5 minutes: the lock was on the
    old password's guesses, which the reset made worthless. A reset by an admin should lift the
    user name's lockout (the per-address limit still bounds a guesser)."""
    for i in range(5):
        r = client.post("/api/session", json={"username": GUARD[0], "password": f"wrong-pass-{i}"})
        assert r.status_code == 401
    assert "admin can reset" in r.json()["error"]["fix"]
    gid = _id(client, site, GUARD[0])
    r = client.patch(
        f"/api/accounts/{gid}", json={"password": "fresh-night-pass"}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 200, r.text
    r = client.post("/api/session", json={"username": GUARD[0], "password": "fresh-night-pass"})
    assert r.status_code == 200, r.text


def test_a_user_name_typed_with_the_keyboards_trailing_space_logs_in(client: TestClient) -> None:
    """A tablet keyboard's suggestion puts a space after the word: "guard1 ". User names never
    hold spaces (the admin page refuses them), yet the login answers "wrong user name or
    password", and the guard retypes the password until locked out. The name should be taken
    without the space around it."""
    r = client.post("/api/session", json={"username": GUARD[0] + " ", "password": GUARD[1]})
    assert r.status_code == 200, r.text


def test_a_user_name_typed_in_full_width_logs_in(client: TestClient) -> None:
    """The booth tablet's Chinese keyboard left in full-width mode types ｇｕａｒｄ１. User names are
    ASCII only, and the gateway takes full-width digits elsewhere (building and unit), but the
    login says "wrong user name or password". The name should be read as guard1 (NFKC)."""
    r = client.post("/api/session", json={"username": "ｇｕａｒｄ１", "password": GUARD[1]})
    assert r.status_code == 200, r.text


def test_a_guard_account_cannot_take_the_gateways_or_the_centres_name(client: TestClient, site: Site) -> None:
    """The audit trail names the gateway itself as `gateway` (a lane held again after a restart)
    and the central server as `central` (a block it sent, a snapshot applied). An admin may make
    a guard account named `gateway` or `central`: that guard's openings and blocks are then on
    record exactly as the gateway's or the centre's own, and the audit filter by person mixes
    them. Those names should be refused as user names."""
    admin = bearer(site.admin_token)
    for name in ("gateway", "central"):
        r = client.post(
            "/api/accounts", json={"username": name, "password": "some-long-pass-1"}, headers=admin
        )
        assert r.status_code == 422, (name, r.status_code, r.text)


def test_a_revoked_tokens_name_can_be_given_to_its_replacement(client: TestClient, site: Site) -> None:
    """The property company's tool token is rotated: the admin revokes `property-tools` and
    makes a new `property-tools`. It is refused 409 "a token named 'property-tools' exists",
    fix "choose another name or revoke it", though it is revoked already (the admin page shows
    已撤销). Either the name should be free again once revoked, or the refusal should say the old
    token is revoked and that its name stays taken for the audit trail, not ask to revoke it."""
    admin = bearer(site.admin_token)
    made = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    assert made.status_code == 201
    assert client.delete(f"/api/tokens/{made.json()['id']}", headers=admin).status_code == 204
    again = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    if again.status_code != 201:
        fix = again.json()["error"]["fix"]
        assert "revoke it" not in fix, again.json()


def test_the_audit_filter_finds_a_guard_typed_as_he_logs_in(client: TestClient) -> None:
    """User names are not case-sensitive: ZHANG logs in as zhang, and the rate limit counts
    them as one. The audit page's person filter is: the manager types the user name as the
    guard types it to log in (Guard1) and the dispute's rows are not found (共 0 条)."""
    csrf = log_in(client, ("Guard1", GUARD[1]))
    assert client.post("/api/lanes/door/open", json={"reason": "送快递"}, headers=csrf).status_code == 200
    exact = client.get("/api/audit", params={"actor": GUARD[0], "action": "lane.open"}).json()
    assert exact and exact[0]["detail"] == "送快递"  # on record as guard1
    rows = client.get("/api/audit", params={"actor": "Guard1", "action": "lane.open"}).json()
    assert rows and rows[0]["detail"] == "送快递", rows


def test_the_wait_is_said_in_english_too_and_a_bad_wait_is_ignored(client: TestClient) -> None:
    page = client.get("/login?error=too_many&wait=42&lang=en").text
    error = page.split('id="login-error">')[1].split("</p>")[0]
    assert "42 seconds" in error and "another account" in error, error
    for wait in ("abc", "²", "0x10"):
        r = client.get(f"/login?error=too_many&wait={wait}")
        assert r.status_code == 200 and "登录失败次数过多，请稍后再试" in r.text


def test_a_reset_leaves_the_per_address_limit(client: TestClient, site: Site) -> None:
    """The reset lifts the user name's lock only: ten wrong passwords from one address (for two
    names) still stop that address."""
    for i in range(10):
        name = GUARD[0] if i < 5 else "nobody"
        client.post("/api/session", json={"username": name, "password": f"wrong-pass-{i}"})
    gid = _id(client, site, GUARD[0])
    r = client.patch(
        f"/api/accounts/{gid}", json={"password": "fresh-night-pass"}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 200, r.text
    r = client.post("/api/session", json={"username": GUARD[0], "password": "fresh-night-pass"})
    assert r.status_code == 429, r.text


def test_a_full_width_name_counts_against_the_same_lock(client: TestClient) -> None:
    """ｇｕａｒｄ１ and `guard1 ` are guard1 for the limit as for the lookup: no way round a lock."""
    for i, name in enumerate(["ｇｕａｒｄ１", "guard1 ", "GUARD1", "ｇｕａｒｄ１", " guard1"]):
        r = client.post("/api/session", json={"username": name, "password": f"wrong-pass-{i}"})
        assert r.status_code == 401
    r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    assert r.status_code == 429


def test_reserved_names_are_refused_in_any_case_and_an_old_one_still_logs_in(
    client: TestClient, site: Site
) -> None:
    admin = bearer(site.admin_token)
    r = client.post(
        "/api/accounts", json={"username": "Gateway", "password": "some-long-pass-1"}, headers=admin
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "reserved_username", r.text
    assert "audit trail" in r.json()["error"]["message"]
    # One made before the check (an older gateway) keeps working.
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute(
            "INSERT INTO accounts (username, role, password_hash, created_at) VALUES (?, 'guard', ?, ?)",
            ("import", password_hash("old-import-pass"), "2025-01-01T00:00:00Z"),
        )
    r = client.post("/api/session", json={"username": "import", "password": "old-import-pass"})
    assert r.status_code == 200, r.text


def test_a_revoked_tokens_name_is_refused_saying_so(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    made = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    again = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    assert again.status_code == 409 and "revoke it" in again.json()["error"]["fix"]  # live: revoke it
    client.delete(f"/api/tokens/{made.json()['id']}", headers=admin)
    again = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    assert again.status_code == 409
    error = again.json()["error"]
    assert "revoked" in error["message"] and "property-tools-20" in error["fix"], error


def test_the_user_name_words_say_what_is_allowed_in_both_languages() -> None:
    from gateway.web.i18n import js_texts

    zh, en = js_texts("zh"), js_texts("en")
    assert "字母" in zh["err.bad_username"] and "显示名" in zh["err.bad_username"]
    assert "letters" in en["err.bad_username"] and "display name" in en["err.bad_username"]
    assert "gateway" in zh["err.reserved_username"] and "gateway" in en["err.reserved_username"]
