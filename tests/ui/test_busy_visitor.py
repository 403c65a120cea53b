"""The box falls behind just as a guard registers a visitor. The pass was made and read back in two
turns on the decision worker, so the reply could say 503 busy, "not saved", with the pass saved, and
the guard's retry made a second one (docs/guard-app.md: a change answered busy is called off)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

import gateway.api.deps as deps
import gateway.api.passes as passes
from tests.ui.conftest import Site, app, bearer, client, site, stored  # noqa: F401

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元", "destination": "3栋301"}


def test_a_visitor_answered_busy_was_not_saved_and_the_retry_makes_one_pass(
    site: Site,  # noqa: F811
    client: TestClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 1.0)  # the real 15 s, shortened
    real_create = passes.store.create_pass

    def create_then_the_box_falls_behind(*args, **kwargs):  # type: ignore[no-untyped-def]
        made = real_create(*args, **kwargs)
        # Other work reaches the worker meanwhile (a snapshot applied, decisions behind a lock):
        # whatever the request asks of the worker next waits past the answer's limit.
        site.gw.on_worker(lambda conn: time.sleep(2.0))
        return made

    monkeypatch.setattr(passes.store, "create_pass", create_then_the_box_falls_behind)
    headers = {**bearer(site.guard_token), "Idempotency-Key": "tablet-key-1"}
    first = client.post("/api/visitors", json=VISITOR, headers=headers)
    monkeypatch.setattr(passes.store, "create_pass", real_create)
    # Made and read back in one turn: the reply says what happened, whatever the worker does next.
    assert first.status_code == 201, first.text
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1  # (waits for the worker to catch up)
    again = client.post("/api/visitors", json=VISITOR, headers=headers)  # a tap that went twice
    assert again.status_code in (200, 201) and again.json()["id"] == first.json()["id"], again.text
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1
