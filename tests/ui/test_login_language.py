"""The login page in English stays in English when it says what went wrong."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, app, client, site  # noqa: F401


def _english_login_form(client: TestClient) -> dict[str, str]:  # noqa: F811
    page = client.get("/login?lang=en&next=/visitors")
    assert "Guard login" in page.text  # the guard chose English on the login page
    field = {name: page.text.split(f'name="{name}" value="')[1].split('"')[0] for name in ("csrf", "lang")}
    return {"username": GUARD[0], "next": "/visitors", **field}


def test_a_failed_english_login_says_so_in_english(client: TestClient) -> None:  # noqa: F811
    """A guard who switched the login page to English and mistyped the password was told
    用户名或密码错误, on a page back in Chinese."""
    form = {**_english_login_form(client), "password": "wrong-password"}
    answer = client.post("/login", data=form)  # follows the redirect back to the login page
    assert answer.status_code == 200
    assert "Wrong user name or password" in answer.text
    assert "用户名或密码错误" not in answer.text, "the English login page came back in Chinese"
    assert 'name="next" value="/visitors"' in answer.text


def test_an_expired_english_login_page_says_so_in_english(client: TestClient) -> None:  # noqa: F811
    """The login page was left open so long that its form expired: the page that asks to log in
    again is in the language the guard chose."""
    form = {**_english_login_form(client), "password": GUARD[1], "csrf": "from-a-page-long-gone"}
    answer = client.post("/login", data=form)
    assert answer.status_code == 200
    assert "The page expired; log in again" in answer.text
    assert "页面已过期" not in answer.text
