"""The login's `next` must never send the guard off the gateway (tests/ui/test_guard_auth.py says
"never off-site" for //evil.example). Browsers read a backslash in a URL's path as a slash
(WHATWG URL Standard), so /\\evil.example is //evil.example to them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, log_in

CHROMIUM = Path("/usr/bin/chromium")


def _login_csrf(client: TestClient, nxt: str) -> str:
    page = client.get("/login", params={"next": nxt})
    return page.text.split('name="csrf" value="')[1].split('"')[0]


@pytest.mark.parametrize("target", ["/\\evil.example/", "/\t/evil.example/", "/\\/evil.example/"])
def test_the_login_form_never_redirects_off_site(client: TestClient, target: str) -> None:
    csrf = _login_csrf(client, "/")
    form = {"username": GUARD[0], "password": GUARD[1], "csrf": csrf, "next": target}
    r = client.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303
    location = r.headers["location"]
    # What a browser makes of it: backslashes are slashes, tabs and newlines are dropped.
    as_browser = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    assert not as_browser.startswith("//"), f"the login sends the guard off-site: {location!r}"


def test_a_logged_in_guard_is_not_redirected_off_site_by_a_link(client: TestClient) -> None:
    log_in(client, GUARD)
    r = client.get("/login", params={"next": "/\\evil.example/"}, follow_redirects=False)
    assert r.status_code == 303
    as_browser = r.headers["location"].replace("\\", "/")
    assert not as_browser.startswith("//"), f"off-site: {r.headers['location']!r}"


class _Phish(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<title>phish</title>session expired, type your password again")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def phishing_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Phish)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs chromium")
def test_in_chromium_a_login_link_lands_the_guard_on_another_site(live_url: str, phishing_site: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    from tests.ui.test_guard_browser import LAUNCH_ARGS, sign_in

    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30000)  # a loaded CI machine, not a speed check
            # The link an attacker hands the guard: the gateway's own login page.
            page.goto(f"{live_url}/login?next=/%5C{phishing_site}/")
            sign_in(page, GUARD)
            page.wait_for_load_state("load")
            assert page.url.startswith(live_url), f"after logging in the guard is on {page.url}"
        finally:
            browser.close()
