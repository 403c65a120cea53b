"""A visitor's phone as guards type it: a landline is not shown nearly whole, and a mobile typed
with +86 is the same person as without."""

from __future__ import annotations

import json
import re
import sqlite3

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元"}


def _register(client: TestClient, site: Site, phone: str) -> dict[str, object]:
    r = client.post("/api/visitors", json={**VISITOR, "phone": phone}, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_landline_is_shown_stored_and_sent_up_by_its_last_four_digits(
    client: TestClient, site: Site
) -> None:
    shown = _register(client, site, "8765-4321")["phone"]
    with sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True) as conn:
        stored = conn.execute("SELECT phone_masked FROM passes").fetchone()[0]
        payload = conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()[0]
    sent = json.loads(payload)["pass"]["phone"]
    assert shown == stored == sent == "****4321"  # was 876****4321: seven of its eight digits


def test_a_returning_visitor_is_found_whether_or_not_plus86_was_typed(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    assert _register(client, site, "+86 138 0013 8000")["phone"] == "138****8000"
    for typed in ("13800138000", "+86 138 0013 8000", "0086 138 0013 8000"):
        found = client.post("/api/visitors/find", json={"phone": typed}, headers=guard).json()
        assert found["found"], typed
        assert re.fullmatch(r"王\*", found["name"])
