"""docs/guard-app.md (Pass, materials) and docs/parking.md (daily report materials_out): "Whether
typed or the pass's, the unit is recorded as the register writes it ..., so the daily report counts
one unit once however it was typed"."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


def test_one_unit_typed_two_ways_is_recorded_one_way_when_the_register_holds_both(
    client: TestClient, site: Site
) -> None:
    """3栋 2单元 has its first resident as the CSV import wrote him (3栋 / 2单元) and a new one the
    central server sent with bare numbers (3 / 2), an ordinary mixed register. A guard records a
    sofa leaving for 3 2 and one leaving for 3栋 2单元: the accountant sees materials_out split into
    two rows for one unit (the office tells the owner twice, counts two units); the docs promise
    one unit is one row however it was typed."""
    admin, guard = bearer(site.admin_token), bearer(site.guard_token)
    r = client.post(
        "/api/residents",
        json={"ref": "R9", "building": "3", "unit": "2", "room": "302", "name": "李四"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    units = set()
    for building, unit in (("3", "2"), ("3栋", "2单元")):
        r = client.post(
            "/api/materials",
            json={"items": "旧沙发", "host_building": building, "host_unit": unit},
            headers=guard,
        )
        assert r.status_code == 201, r.text
        units.add((r.json()["host_building"], r.json()["host_unit"]))
    assert len(units) == 1, units
