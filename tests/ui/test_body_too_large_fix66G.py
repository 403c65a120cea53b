"""A request's body is bounded (Review 66 G): one 300 MB POST to the login, from anything on the
estate's network and before any login, took the gateway's memory to 1 GB and on a small box had the
OOM killer end it, every lane with it. Now a body over 1 MB is answered 413 body_too_large, whether
its size is declared or it comes in chunks, and the gateway goes on answering."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from gateway.api.body_limit import MAX_BODY_BYTES
from tests.ui.conftest import GUARD, log_in


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def test_a_declared_large_body_is_refused_unread(client: TestClient) -> None:
    r = client.post(
        "/api/session",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    assert r.json()["error"]["fix"]


def test_a_chunked_large_body_is_refused_once_past_the_bound(client: TestClient) -> None:
    r = client.post(
        "/api/session",
        content=_chunks(4 * MAX_BODY_BYTES),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"


def test_an_ordinary_login_still_works_after_a_refused_body(client: TestClient) -> None:
    assert client.post("/api/session", content=b"x" * (2 * MAX_BODY_BYTES)).status_code == 413
    assert log_in(client, GUARD)  # the gateway goes on answering
