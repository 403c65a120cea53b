"""The login page's lock-out words, through the real app (tests/ui fixtures)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import ADMIN


def _form_login(client: TestClient, username: str, password: str) -> str:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    form = {"username": username, "password": password, "csrf": csrf, "next": "/"}
    r = client.post("/login", data=form, follow_redirects=False)
    return client.get(r.headers["location"]).text


def test_tablet_locked_by_address_is_not_told_to_use_another_account(client: TestClient) -> None:
    """Night shift at the booth tablet (one address): three guards mistype a few times each (10
    failures, none of them 5 for one name). The next login is refused with 登录失败次数过多，请 N
    秒后再试，或用其他账号登录 ("or log in with another account"). The admin comes and logs in with
    his own, right password on the same tablet: refused again, the same words. The lock is on the
    tablet's address, so the page should not send the guards to another account (it should say to
    wait, or to log in from another device)."""
    for i in range(10):
        _form_login(client, ["guard1", "guard2", "guard3"][i % 3], f"wrong-pass-{i}")
    text = _form_login(client, "guard1", "still-wrong-pass")
    error = text.split('id="login-error">')[1].split("</p>")[0]
    assert "登录失败次数过多" in error
    told_another_account = "其他账号" in error
    admin_page = _form_login(client, ADMIN[0], ADMIN[1])
    admin_refused = 'id="login-error"' in admin_page and "登录失败次数过多" in admin_page
    assert not (told_another_account and admin_refused), (
        f"the page said {error!r}; the admin's own right password on that tablet was then refused too"
    )


def test_an_address_lock_is_told_apart_in_english_and_by_the_api(client: TestClient) -> None:
    """The same tablet in English: the page says this device must wait, not another account; the
    API's 429 says the address is what is locked, and a user name's lock still offers another account."""
    for i in range(10):
        client.post("/api/session", json={"username": f"guard{i % 3 + 1}", "password": f"wrong-pass-{i}"})
    r = client.post("/api/session", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 429 and "from this address" in r.json()["error"]["message"], r.text
    assert "another account" not in r.json()["error"]["fix"]
    page = client.get(f"/login?error=too_many_here&wait={r.headers['Retry-After']}&lang=en").text
    error = page.split('id="login-error">')[1].split("</p>")[0]
    assert "from this device" in error and f"{r.headers['Retry-After']} seconds" in error, error
    assert "another account" not in error


def test_a_user_name_lock_still_offers_another_account(client: TestClient) -> None:
    for i in range(5):
        client.post("/api/session", json={"username": "guard1", "password": f"wrong-pass-{i}"})
    r = client.post("/api/session", json={"username": "guard1", "password": "still-wrong"})
    assert r.status_code == 429 and "for this user name" in r.json()["error"]["message"], r.text
    assert "another account" in r.json()["error"]["fix"]
    page = _form_login(client, "guard1", "still-wrong")
    assert "或用其他账号登录" in page.split('id="login-error">')[1].split("</p>")[0]
