"""On a shared tablet the login page comes up in the last guard's language: the next guard who logs
in on it without touching the language switch must not get that language saved to his account.

What a guard noticed: after the English-reading admin logged out, the next guard, who had never
chosen a language, logged in on the tablet as it stood and found his pages in English, on every
tablet from then on, and the audit saying he had changed his language himself (review 54g, a
regression of 4ddf43b: the login form always sent the page's language, and a successful login saved
it to an account with none chosen).
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import ADMIN, GUARD, Site, app, client, log_in, site, stored  # noqa: F401
from tests.ui.test_lang_fix54_login_logout import login_form, switch_language


def _english_admin_logs_out(client: TestClient) -> str:  # noqa: F811
    """The admin reads English and logs out: the address of the login page the tablet is left on."""
    h = log_in(client, ADMIN)
    assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
    client.get("/")  # app.js reloads the page after the switch: egw_lang=en
    out = client.post("/logout", data={"csrf": h["X-CSRF-Token"]})
    assert str(out.url).endswith("/login?lang=en")
    return "/login?lang=en"


def _language_changes(site: Site) -> list[tuple[str, str, str]]:  # noqa: F811
    return stored(
        site,
        "SELECT actor, action, detail FROM audit WHERE target = ? AND detail LIKE '%language%'",
        GUARD[0],
    )


def test_the_next_guard_does_not_inherit_the_last_guards_language(client: TestClient, site: Site) -> None:  # noqa: F811
    """Guard1 logs in on the English login page the admin left, by its address or as it comes up
    after (egw_lang): his account keeps no language, his pages are in the site's Chinese, and the
    audit records no language change of his."""
    for as_it_comes_up in (False, True):
        left_on = _english_admin_logs_out(client)
        form = login_form(client, "/login?next=/" if as_it_comes_up else left_on)
        assert form["lang"] == "en" and "chose" not in form, form  # the admin's English, not switched
        answer = client.post("/login", data=form)
        assert answer.status_code == 200
        assert '<html lang="zh-CN">' in answer.text, answer.text[:80]
        assert stored(site, "SELECT language FROM accounts WHERE username = ?", GUARD[0]) == [(None,)]
        assert client.cookies.get("egw_lang") == "zh"  # the next login page is in his language
        csrf = answer.text.split('name="csrf" value="')[1].split('"')[0]
        assert client.post("/logout", data={"csrf": csrf}).status_code == 200
    assert _language_changes(site) == []


def test_a_guard_who_switches_the_last_guards_login_page_back_and_forth_gets_what_he_chose(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    """On the English page the admin left, guard1 switches to Chinese and back to English, then
    logs in: English is his choice, saved to his account."""
    to_chinese = switch_language(client, _english_admin_logs_out(client))
    form = login_form(client, switch_language(client, to_chinese))
    assert form["lang"] == "en" and form["chose"] == "1", form
    answer = client.post("/login", data=form)
    assert '<html lang="en">' in answer.text, answer.text[:80]
    assert stored(site, "SELECT language FROM accounts WHERE username = ?", GUARD[0]) == [("en",)]
