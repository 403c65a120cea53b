"""The language a guard reads his pages in holds across the login, the logout and a session that ends."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from gateway.api.auth import SESSION_COOKIE
from tests.ui.conftest import GUARD, Site, app, client, log_in, site, stored  # noqa: F401


def login_form(client: TestClient, address: str, account: tuple[str, str] = GUARD) -> dict[str, str]:  # noqa: F811
    """The login form of the page at `address` as the browser sends it: its hidden fields (csrf,
    next, lang, and chose when the guard switched the page's language) and the account's."""
    page = client.get(address)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    return {**hidden, "username": account[0], "password": account[1]}


def switch_language(client: TestClient, address: str = "/login?next=/") -> str:  # noqa: F811
    """Where the language link of the login page at `address` leads: the guard switching it."""
    page = client.get(address)
    return html.unescape(re.findall(r'<p class="lang"><a href="([^"]+)"', page.text)[0])


def _login_form(client: TestClient, lang: str) -> dict[str, str]:  # noqa: F811
    """The login page in `lang` as the shared tablet shows it (the last guard's), not switched."""
    return login_form(client, f"/login?lang={lang}&next=/")


def test_english_chosen_on_the_login_page_is_kept_after_login(client: TestClient, site: Site) -> None:  # noqa: F811
    """A guard switched the login page to English and logged in: his pages came up in Chinese."""
    form = login_form(client, switch_language(client))  # the site reads Chinese
    assert form["lang"] == "en" and form["chose"] == "1", form
    answer = client.post("/login", data=form)  # follows to /
    assert answer.status_code == 200
    assert '<html lang="en">' in answer.text, answer.text[:80]
    assert stored(site, "SELECT language FROM accounts WHERE username = ?", GUARD[0]) == [("en",)]
    assert '<html lang="en">' in client.get("/visitors").text  # his choice, kept on his account


def test_a_language_the_guard_chose_before_wins_over_the_login_page(client: TestClient, site: Site) -> None:  # noqa: F811
    """The shared tablet's login page is in English (the last guard's); a guard who chose Chinese
    for his pages logs in on it and gets his Chinese pages, not the last guard's language."""
    h = log_in(client, GUARD)
    assert client.post("/api/me/language", json={"language": "zh"}, headers=h).status_code == 204
    client.post("/logout", data={"csrf": h["X-CSRF-Token"]})
    answer = client.post("/login", data=_login_form(client, "en"))
    assert '<html lang="zh-CN">' in answer.text, answer.text[:80]
    assert stored(site, "SELECT language FROM accounts WHERE username = ?", GUARD[0]) == [("zh",)]


def test_an_english_guard_logs_out_to_an_english_login_page(client: TestClient) -> None:  # noqa: F811
    """A guard reading English logged out and landed on the Chinese login page."""
    h = log_in(client, GUARD)
    assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
    assert '<html lang="en">' in client.get("/").text
    out = client.post("/logout", data={"csrf": h["X-CSRF-Token"]})
    assert out.status_code == 200
    assert str(out.url).endswith("/login?lang=en")
    assert "Guard login" in out.text


def test_an_english_guard_whose_session_ended_logs_in_on_an_english_page(client: TestClient) -> None:  # noqa: F811
    """An English-reading guard's session ended (its hours over): the page that asks him to log in
    again was in Chinese."""
    h = log_in(client, GUARD)
    assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
    assert '<html lang="en">' in client.get("/visitors").text
    client.cookies.delete(SESSION_COOKIE)  # as the browser drops it when the session's hours end
    page = client.get("/visitors")  # follows to /login?next=/visitors
    assert "/login?next=/visitors" in str(page.url)
    assert "Guard login" in page.text
    assert 'name="lang" value="en"' in page.text
