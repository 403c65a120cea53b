"""Review 64Rh fault 3: a household whose lease has ended (its valid_to passed: docs/parking.md, "a
household moved out") was still a visitor's host: the visitor form took it, materials carried out
on the pass were reported to it, and its unit validated the visitor's parking. A lease ending today
includes the whole of today, as at the lanes."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in


def _lease_ends(client: TestClient, site: Site, days: int) -> None:
    """R1 (3栋 2单元 301, the unit's only household) has a lease ending `days` from today (a bare
    date: that whole day included)."""
    last = (site.gw.now() + timedelta(days=days)).date().isoformat()
    r1 = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三丰", "valid_to": last}
    moved = client.post("/api/residents", json=r1, headers=bearer(site.admin_token))
    assert moved.status_code == 200, moved.text


def _visitor(client: TestClient, site: Site) -> int:
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": "3栋", "host_unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_the_visitor_form_refuses_a_host_who_moved_out(client: TestClient, site: Site) -> None:
    _lease_ends(client, site, days=-1)  # the last day was yesterday
    made = client.post(
        "/api/visitors",
        json={"name": "钱七", "host_building": "三栋", "host_unit": "二单元"},
        headers=bearer(site.guard_token),
    )
    assert made.status_code == 422 and made.json()["error"]["code"] == "no_such_unit", made.text


def test_a_lease_ending_today_is_still_a_host(client: TestClient, site: Site) -> None:
    _lease_ends(client, site, days=0)
    _visitor(client, site)


def test_materials_on_the_pass_of_a_host_who_moved_out_are_not_reported_to_that_unit(
    client: TestClient, site: Site
) -> None:
    pass_id = _visitor(client, site)  # registered while R1 lived there
    _lease_ends(client, site, days=-1)
    guard = bearer(site.guard_token)
    out = client.post("/api/materials", json={"pass_id": pass_id, "items": "旧橱柜 1 套"}, headers=guard)
    assert out.status_code == 422 and out.json()["error"]["code"] == "no_one_in_pass_unit", out.text
    typed = client.post(
        "/api/materials",
        json={"items": "旧沙发", "host_building": "3栋", "host_unit": "2单元"},
        headers=guard,
    )
    assert typed.status_code == 422 and typed.json()["error"]["code"] == "no_such_unit", typed.text
    log_in(client, GUARD)
    assert 'id="m-unit"' in client.get(f"/passes/{pass_id}").text  # the guard is asked for the owner's
