"""A visitor registration answered 503 still_saving (or busy, or not stored), sent again by the
tablet with the same Idempotency-Key (docs/guard-app.md)."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from fastapi.testclient import TestClient

import gateway.api.deps as deps
import gateway.api.passes as passes
from tests.ui.conftest import Site, bearer, stored

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元", "destination": "3栋301"}


def _sent_with(site: Site, key: str) -> dict[str, str]:
    # A key of each test's own: the keys the gateway remembers outlive a test's app (in memory).
    return {**bearer(site.guard_token), "Idempotency-Key": key}


def test_a_visitor_sent_again_after_still_saving_with_the_same_key_is_one_pass(
    site: Site, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The guard registers a visitor on a slow box and is told 仍在保存 (still saving); the page keeps
    the registration's Idempotency-Key and the guard taps 登记 again: two passes were made for one
    visitor. The same key must give the one pass (or say it is still being saved), never a second."""
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 0.5)
    real_create = passes.store.create_pass
    real_wait = deps.wait_or_call_off
    began, answered = threading.Event(), threading.Event()

    def slow_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        # The worker has begun it: held up behind a lock, an SD card's slow write, until the
        # guard has been answered (was a fixed 1.5 s).
        began.set()
        answered.wait(30)
        return real_create(*args, **kwargs)

    def wait_once_begun(future, timeout):  # type: ignore[no-untyped-def]
        # The request's 0.5 s runs from when the worker has begun the write: on a loaded box the
        # worker took longer than 0.5 s to reach it, and a write not begun is called off as busy.
        began.wait(30)
        return real_wait(future, timeout)

    monkeypatch.setattr(passes.store, "create_pass", slow_create)
    monkeypatch.setattr(deps, "wait_or_call_off", wait_once_begun)
    headers = _sent_with(site, "still-saving-key-1")
    try:
        first = client.post("/api/visitors", json=VISITOR, headers=headers)
    finally:
        answered.set()
    assert first.status_code == 503 and first.json()["error"]["code"] == "still_saving", first.text
    monkeypatch.setattr(passes.store, "create_pass", real_create)
    monkeypatch.setattr(deps, "wait_or_call_off", real_wait)
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 15.0)
    again = client.post("/api/visitors", json=VISITOR, headers=headers)  # the same form, the same key
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1, (
        f"two passes for one visitor after a retry with the same Idempotency-Key ({again.status_code})"
    )
    assert again.status_code in (200, 201), again.text
    assert again.json()["id"] == stored(site, "SELECT id FROM passes")[0][0]
    # Saved since: a third tap gets the same pass too.
    third = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert third.status_code in (200, 201) and third.json()["id"] == again.json()["id"], third.text


def test_a_registration_that_could_not_be_stored_is_made_when_sent_again_with_its_key(
    site: Site, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk refuses the write (storage_failed: nothing stored). Once the disk has room, the
    guard's 登记 with the same key makes the pass: the key names nothing made."""
    real_create = passes.store.create_pass

    def full_disk(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(passes.store, "create_pass", full_disk)
    headers = _sent_with(site, "full-disk-key-1")
    first = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert first.status_code == 503 and first.json()["error"]["code"] == "storage_failed", first.text
    monkeypatch.setattr(passes.store, "create_pass", real_create)
    again = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert again.status_code == 201, again.text
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1


def test_a_registration_called_off_as_busy_is_made_when_sent_again_with_its_key(
    site: Site, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker is behind and never began the write: it is called off (503 busy, "did not save
    this"). Sent again with the same key, the pass is made, once."""
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 0.5)
    behind = threading.Event()
    site.gw.on_worker(lambda conn: behind.wait(30))  # the box far behind, until the guard is answered
    headers = _sent_with(site, "called-off-key-1")
    try:
        first = client.post("/api/visitors", json=VISITOR, headers=headers)
    finally:
        behind.set()
    assert first.status_code == 503 and first.json()["error"]["code"] == "busy", first.text
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 15.0)
    again = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert again.status_code == 201, again.text
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1
