"""Accounts, sessions, CSRF, API tokens and login rate limiting, over the real app."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.accounts.ratelimit import Limit, LoginLimiter
from gateway.api.app import create_app
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in, make_config, start_site


def test_login_sets_a_strict_httponly_session_cookie(client: TestClient) -> None:
    r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    assert r.status_code == 200
    assert r.json()["role"] == "guard" and r.json()["display_name"] == "张师傅"
    cookie = r.headers["set-cookie"].lower()
    assert "egw_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie  # no TLS configured
    assert client.get("/api/me").json()["username"] == GUARD[0]


def test_the_cookie_is_secure_when_tls_is_on(tmp_path: Path) -> None:
    cfg = make_config(tmp_path / "data")
    tls = cfg.http.model_copy(
        update={"tls_cert_file": Path("/etc/gw/cert.pem"), "tls_key_file": Path("/etc/gw/key.pem")}
    )
    tls_site = start_site(cfg.model_copy(update={"http": tls}))
    try:
        with TestClient(create_app(tls_site.gw)) as c:
            r = c.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
            assert "secure" in r.headers["set-cookie"].lower()
    finally:
        tls_site.gw.stop()


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient) -> None:
    wrong = client.post("/api/session", json={"username": GUARD[0], "password": "nope-nope"})
    unknown = client.post("/api/session", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert set(wrong.json()["error"]) == {"code", "message", "fix"}


def test_passwords_are_stored_as_argon2id(site: Site) -> None:
    with sqlite3.connect(site.gw.db_path) as conn:
        stored = conn.execute(
            "SELECT password_hash FROM accounts WHERE username = ?", (GUARD[0],)
        ).fetchone()[0]
    assert stored.startswith("$argon2id$") and GUARD[1] not in stored


def test_logins_are_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert (
            client.post("/api/session", json={"username": GUARD[0], "password": "x" * 9}).status_code == 401
        )
    r = client.post("/api/session", json={"username": GUARD[0], "password": GUARD[1]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["code"] == "too_many_attempts"
    # Another account from the same address still may log in (the per-address limit is higher).
    assert client.post("/api/session", json={"username": ADMIN[0], "password": ADMIN[1]}).status_code == 200


def test_login_limiter_rules() -> None:
    limiter = LoginLimiter(per_address=Limit(3, 60), per_user=Limit(2, 60))
    assert limiter.retry_after("10.0.0.2", "a", 0) == 0
    limiter.failed("10.0.0.2", "a", 0)
    limiter.failed("10.0.0.2", "a", 10)
    assert limiter.retry_after("10.0.0.2", "a", 20) == 40  # the older failure leaves at 60
    assert limiter.retry_after("10.0.0.3", "A", 20) == 40  # user names are not case-sensitive
    assert limiter.retry_after("10.0.0.2", "b", 20) == 0
    limiter.failed("10.0.0.2", "b", 20)
    assert limiter.retry_after("10.0.0.2", "c", 30) == 30  # the address has failed 3 times
    assert limiter.retry_after("10.0.0.2", "a", 71) == 0
    limiter.succeeded("10.0.0.3", "b")
    assert limiter.retry_after("10.0.0.4", "b", 30) == 0


def test_changes_with_a_cookie_need_the_csrf_token(client: TestClient) -> None:
    csrf = log_in(client, GUARD)
    body = {"reason": "测试"}
    assert client.post("/api/lanes/door/open", json=body).status_code == 403
    assert client.post("/api/lanes/door/open", json=body, headers={"X-CSRF-Token": "x"}).status_code == 403
    foreign = {**csrf, "Origin": "http://evil.example"}
    assert client.post("/api/lanes/door/open", json=body, headers=foreign).status_code == 403
    assert client.post("/api/lanes/door/open", json=body, headers=csrf).status_code == 200


def test_logout_ends_the_session(client: TestClient) -> None:
    csrf = log_in(client, GUARD)
    cookie = client.cookies.get("egw_session")
    assert client.delete("/api/session", headers=csrf).status_code == 204
    client.cookies.set("egw_session", cookie)
    assert client.get("/api/me").status_code == 401


def test_the_logout_form_ends_the_session_only_with_its_csrf_token(client: TestClient) -> None:
    log_in(client, GUARD)
    csrf = client.get("/api/me").json()["csrf"]
    r = client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "set-cookie" not in r.headers  # the cookie stays with the browser
    assert client.get("/api/me").status_code == 200
    cross_site = {"Origin": "http://evil.example"}
    r = client.post("/logout", data={"csrf": csrf}, headers=cross_site, follow_redirects=False)
    assert r.headers["location"] == "/" and client.get("/api/me").status_code == 200
    r = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.headers["location"] == "/login" and 'egw_session=""' in r.headers["set-cookie"]
    assert client.get("/api/me").status_code == 401


def test_api_tokens_need_no_csrf_and_bad_ones_are_refused(client: TestClient, site: Site) -> None:
    r = client.post("/api/lanes/door/open", json={"reason": "bot"}, headers=bearer(site.guard_token))
    assert r.status_code == 200 and r.json()["by"] == "guard-bot"
    assert client.get("/api/me", headers=bearer("egw_wrong")).json()["error"]["code"] == "bad_token"
    token = client.post(
        "/api/tokens", json={"name": "short", "role": "guard"}, headers=bearer(site.admin_token)
    ).json()
    assert client.get("/api/me", headers=bearer(token["token"])).status_code == 200
    assert client.delete(f"/api/tokens/{token['id']}", headers=bearer(site.admin_token)).status_code == 204
    assert client.get("/api/me", headers=bearer(token["token"])).status_code == 401
    with sqlite3.connect(site.gw.db_path) as conn:
        stored = [r[0] for r in conn.execute("SELECT token_hash FROM api_tokens")]
    assert token["token"] not in stored  # only its hash is kept


def test_admin_manages_accounts_and_sessions_end(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    made = client.post(
        "/api/accounts",
        json={"username": "night", "password": "night-shift-1", "display_name": "夜班"},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["role"] == "guard"
    assert (
        client.post("/api/accounts", json={"username": "weak", "password": "short"}, headers=admin).json()[
            "error"
        ]["code"]
        == "weak_password"
    )
    assert (
        client.post(
            "/api/accounts", json={"username": "night", "password": "night-shift-2"}, headers=admin
        ).status_code
        == 409
    )
    log_in(client, ("night", "night-shift-1"))
    assert client.get("/api/me").status_code == 200
    client.patch(f"/api/accounts/{made.json()['id']}", json={"disabled": True}, headers=admin)
    assert client.get("/api/me").status_code == 401  # disabling ends its sessions
    assert (
        client.post("/api/session", json={"username": "night", "password": "night-shift-1"}).status_code
        == 401
    )


def test_the_last_admin_cannot_be_demoted(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    me = next(a for a in client.get("/api/accounts", headers=admin).json() if a["username"] == "admin")
    r = client.patch(f"/api/accounts/{me['id']}", json={"role": "guard"}, headers=admin)
    assert r.status_code == 422 and "last admin" in r.json()["error"]["message"]


def test_own_password_and_language(client: TestClient) -> None:
    csrf = log_in(client, GUARD)
    assert client.post("/api/me/language", json={"language": "en"}, headers=csrf).status_code == 204
    assert client.get("/api/me").json()["language"] == "en"
    assert "Live lanes" in client.get("/").text
    bad = client.post("/api/me/password", json={"current": "wrong", "new": "new-pass-456"}, headers=csrf)
    assert bad.status_code == 403
    ok = client.post("/api/me/password", json={"current": GUARD[1], "new": "new-pass-456"}, headers=csrf)
    assert ok.status_code == 204
    assert (
        client.post("/api/session", json={"username": GUARD[0], "password": "new-pass-456"}).status_code
        == 200
    )


def test_form_login_checks_its_csrf_cookie_and_redirects(client: TestClient) -> None:
    page = client.get("/login?next=/visitors")
    assert page.status_code == 200 and "egw_login=" in page.headers["set-cookie"]
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"username": GUARD[0], "password": GUARD[1], "csrf": csrf, "next": "/visitors"}
    forged = client.post("/login", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert forged.headers["location"].startswith("/login?error=expired")
    outside = client.post("/login", data={**form, "next": "//evil.example/"}, follow_redirects=False)
    assert outside.status_code == 303 and outside.headers["location"] == "/"  # never off-site
    assert client.get("/visitors").status_code == 200
    assert client.get("/login?next=/visitors", follow_redirects=False).headers["location"] == "/visitors"


def test_pages_send_anonymous_users_to_the_login_page(client: TestClient) -> None:
    for path in ("/", "/visitors", "/lookup", "/admin", "/passes/1"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"


def test_pages_carry_a_strict_content_security_policy(client: TestClient) -> None:
    log_in(client, GUARD)
    r = client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert "<script>" not in r.text  # nothing inline: the boot data is application/json


def test_a_flood_of_other_failed_logins_does_not_free_a_locked_account() -> None:
    """Someone guesses at admin until the limit stops him, then sends throw-away failures (a new
    name each time, from many addresses, each within its own limit) until the limiter's memory is
    full: it forgot the oldest key, admin's, and the guessing could start again at once."""
    limiter = LoginLimiter(per_address=Limit(10, 300), per_user=Limit(5, 300), max_keys=200)
    for i in range(5):
        limiter.failed(f"10.0.0.{i}", "admin", i)
    assert limiter.retry_after("10.0.9.9", "admin", 10) > 0
    for n in range(1_000):
        limiter.failed(f"10.1.{n // 10}.1", f"nobody{n}", 20 + n * 0.01)
    assert limiter.retry_after("10.0.9.9", "admin", 40) > 0, "admin may be guessed at again"
