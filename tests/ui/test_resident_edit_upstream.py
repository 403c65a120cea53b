"""A resident edited at the booth: the `registry` record tells the central server what changed."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


def _registry(site: Site) -> list[dict[str, Any]]:
    site.gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(site.gw.db_path) as conn:
        query = "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq"
        return [json.loads(p) for (p,) in conn.execute(query)]


def test_the_end_of_a_tenancy_set_at_the_booth_reaches_the_centre(client: TestClient, site: Site) -> None:
    """The tenant R1 gives notice: the admin sets the end of their tenancy (valid_to), their new
    room and phone on the admin API. The central server takes booth changes into its register from
    the `registry` records, and its next snapshot replaces what it does not know: told only
    "upsert R1", it sent R1 back without an end and the ex-tenant's card opened again. The record
    carries what changed, as a vehicle's update does, with the name and phone masked."""
    admin = bearer(site.admin_token)
    body = {
        "ref": "R1",
        "building": "3栋",
        "unit": "2单元",
        "room": "302",
        "name": "张三丰",
        "phone": "13800138000",
        "valid_to": "2025-06-30",
    }
    assert client.post("/api/residents", json=body, headers=admin).status_code == 200
    upsert = [r for r in _registry(site) if r["entity"] == "resident" and r["op"] == "upsert"][-1]
    assert upsert["ref"] == "R1"
    # A whole day that ends the tenancy ends at the next midnight.
    assert upsert.get("valid_to") == "2025-07-01T00:00:00+08:00", f"the centre is told only {upsert}"
    assert (upsert.get("building"), upsert.get("unit"), upsert.get("room")) == ("3栋", "2单元", "302")
    assert upsert.get("name") == "张**"
    assert upsert.get("phone") == "138****8000"
    assert "13800138000" not in json.dumps(upsert) and "张三丰" not in json.dumps(upsert, ensure_ascii=False)


def test_a_field_the_edit_leaves_out_is_not_sent(client: TestClient, site: Site) -> None:
    """The admin form has no period field: an edit of the room alone does not tell the centre the
    tenancy has no end (the stored end stays, docs/mqtt.md)."""
    admin = bearer(site.admin_token)
    body = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "303", "name": "张三丰"}
    assert client.post("/api/residents", json=body, headers=admin).status_code == 200
    upsert = [r for r in _registry(site) if r["entity"] == "resident" and r["op"] == "upsert"][-1]
    assert upsert.get("room") == "303"
    assert "valid_to" not in upsert and "valid_from" not in upsert and "phone" not in upsert
