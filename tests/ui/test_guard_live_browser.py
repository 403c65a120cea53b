"""The live page when the line to the gateway drops: silently (Wi-Fi), or the gateway restarts."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from gateway.api.app import create_app
from tests.ui.conftest import LiveServer, Site

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect  # noqa: E402  (after the skip)

from tests.ui.test_guard_browser import (  # noqa: E402
    LANDSCAPE,
    browser,  # noqa: F401  (fixture)
    browser_site,  # noqa: F401  (fixture)
    page_at,
    pytestmark,  # noqa: F401  (skipped without chromium)
)

STATUS = "#lane-door [data-status]"


class FreezableProxy:
    """A TCP relay in front of the gateway. `frozen`: no byte flows, but no socket closes either,
    as when a tablet's Wi-Fi drops (no FIN, no RST)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.frozen = False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            while self.frozen:  # what arrives during the drop waits in the air
                time.sleep(0.05)
            if not data:
                dst.close()
                return
            try:
                dst.sendall(data)
            except OSError:
                return


def test_a_silent_drop_shows_the_banner_and_comes_back(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("gateway.api.lanes.KEEPALIVE_S", 0.5)  # the page waits 2 pings and 5 s
    site, url = browser_site
    proxy = FreezableProxy(int(url.rsplit(":", 1)[1]))
    page = page_at(browser, f"http://127.0.0.1:{proxy.port}", LANDSCAPE)
    expect(page.locator(STATUS)).to_have_text("设备在线")
    page.wait_for_timeout(2000)  # pings come; no banner while they do
    expect(page.locator("#reconnecting")).to_be_hidden()
    proxy.frozen = True
    site.traffic.show("door-reader", "card", "C0FFEE02")  # refused, while the line is dead
    expect(page.locator("#reconnecting")).to_be_visible(timeout=10000)
    expect(page.locator(STATUS)).to_have_text("状态未知（未连接网关）")
    proxy.frozen = False
    expect(page.locator("#reconnecting")).to_be_hidden(timeout=10000)
    expect(page.locator(STATUS)).to_have_text("设备在线")
    expect(page.locator("#lane-door [data-latest].refused")).to_be_visible()  # caught up


def test_while_the_gateway_is_down_no_lane_says_online(
    browser_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    site, _ = browser_site
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(site.gw)

    def start() -> LiveServer:
        server = LiveServer(app)
        server.server.config.port = port
        server.__enter__()
        return server

    server = start()
    page = page_at(browser, f"http://127.0.0.1:{port}", LANDSCAPE)
    expect(page.locator(STATUS)).to_have_text("设备在线")
    server.__exit__(None, None, None)  # the gateway restarts (an upgrade)
    expect(page.locator("#reconnecting")).to_be_visible(timeout=10000)
    expect(page.locator(STATUS)).to_have_text("状态未知（未连接网关）")
    assert "ok" not in (page.get_attribute(STATUS, "class") or "").split()
    server = start()
    try:
        expect(page.locator("#reconnecting")).to_be_hidden(timeout=15000)
        expect(page.locator(STATUS)).to_have_text("设备在线")
    finally:
        server.__exit__(None, None, None)
