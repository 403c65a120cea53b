"""A guard opening a page that cannot be shown gets a page in his language, not the API's JSON."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, app, client, log_in, site  # noqa: F401

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("address", "status", "said"),
    [
        ("/passes/999", 404, "没有这个页面，或要查看的记录已不存在"),  # a pass deleted, or mistyped
        ("/no-such-page", 404, "没有这个页面，或要查看的记录已不存在"),
        ("/passes/abc", 422, "网址有误，请从页面上的菜单进入"),
        ("/audit?before=abc", 422, "网址有误，请从页面上的菜单进入"),
    ],
)
def test_a_page_that_cannot_be_shown_is_said_in_the_guards_words(
    client: TestClient,  # noqa: F811
    address: str,
    status: int,
    said: str,
) -> None:
    """A logged-in guard opening /passes/999 (a link to a pass gone) read
    {"error":{"code":"not_found",...}}, raw English JSON, with no way back but the browser's."""
    log_in(client, GUARD)
    r = client.get(address, headers=BROWSER)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html"), r.text
    assert said in r.text and '<html lang="zh-CN">' in r.text
    assert 'id="error-back" href="/"' in r.text
    assert r.headers["cache-control"] == "no-store"


def test_an_english_guard_reads_the_error_page_in_english(client: TestClient) -> None:  # noqa: F811
    """The page is in the session's language, English where the guard chose it."""
    h = log_in(client, GUARD)
    assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
    r = client.get("/passes/999", headers=BROWSER)
    assert r.status_code == 404 and '<html lang="en">' in r.text
    assert "There is no such page, or what it showed is gone" in r.text
    assert "Back to the live lanes" in r.text


def test_the_api_and_programs_still_get_the_one_error_shape(client: TestClient) -> None:  # noqa: F811
    """Under /api/, and for a client that does not ask for HTML, the answer stays JSON."""
    log_in(client, GUARD)
    api = client.get("/api/passes/999", headers=BROWSER)
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    assert client.get("/api/no-such", headers=BROWSER).json()["error"]["code"] == "not_found"
    plain = client.get("/passes/999")  # no Accept: text/html (curl, a script)
    assert plain.status_code == 404 and plain.json()["error"]["code"] == "not_found"
