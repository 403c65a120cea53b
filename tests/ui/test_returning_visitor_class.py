"""A returning visitor's plate comes back with its vehicle class: a motorcyclist found by phone is
not registered, counted and billed as a car unless the guard notices."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_visitors import VISITOR


def test_find_returning_visitor_gives_the_plate_with_its_class(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    r = client.post("/api/visitors", json={**VISITOR, "vehicle_class": "motorcycle"}, headers=guard)
    assert r.status_code == 201, r.text
    found = client.post("/api/visitors/find", json={"phone": VISITOR["phone"]}, headers=guard).json()
    assert (found["plate"], found["vehicle_class"]) == ("苏E88888", "motorcycle")


def test_find_returning_visitor_on_foot_gives_no_class(client: TestClient, site: Site) -> None:
    """A visitor who came on foot: no plate, so no class to fill (the form keeps its default)."""
    guard = bearer(site.guard_token)
    r = client.post("/api/visitors", json={**VISITOR, "plate": ""}, headers=guard)
    assert r.status_code == 201, r.text
    found = client.post("/api/visitors/find", json={"phone": VISITOR["phone"]}, headers=guard).json()
    assert (found["plate"], found["vehicle_class"]) == (None, None)
