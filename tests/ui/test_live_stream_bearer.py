"""A live screen that sends its API token as "authorization: bearer ..." (lowercase, as some HTTP
clients do; the scheme is case-insensitive, RFC 9110) keeps its stream: it was let in, so the check
the stream makes again every KEEPALIVE_S must not cut it off a few seconds later."""

from __future__ import annotations

import threading

import httpx2
import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, screen_token


def test_a_stream_opened_with_a_lowercase_bearer_keeps_going(
    live_url: str,
    site: Site,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = screen_token(client, site, monkeypatch)
    kept_alive, ended = threading.Event(), threading.Event()

    def listen() -> None:
        headers = {"authorization": f"bearer {made['token']}"}
        with httpx2.stream("GET", f"{live_url}/api/live/stream", headers=headers, timeout=10) as r:
            assert r.status_code == 200
            keepalives = 0
            for line in r.iter_lines():
                keepalives += line.startswith(": keepalive")
                if keepalives == 4:  # checked again three times, and still allowed
                    kept_alive.set()
                    return
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    assert kept_alive.wait(10), "the stream was cut at its first recheck" if ended.is_set() else "no stream"
