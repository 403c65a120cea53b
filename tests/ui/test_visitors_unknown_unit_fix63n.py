"""Review n: a visitor registered at the booth for a unit where nobody lives (the visitor names
30栋 2单元, or the guard mistypes 3栋 as 30栋) got a QR pass that opens the doors and the car lane all
day, while materials leaving and a stay's validation refuse such a unit (`no_such_unit`). Now the
registration is refused the same way, naming the unit and what to do, wherever the register holds
residents; the unit may still be left empty (a visit to the management office), and a site whose
residents were never imported registers as before (docs/guard-app.md)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.store import registry
from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_visitors import VISITOR


def _visit(client: TestClient, site: Site, building: str, unit: str, plate: str = "") -> tuple[int, dict]:
    body = {**VISITOR, "host_building": building, "host_unit": unit, "plate": plate}
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    return r.status_code, r.json()


def test_registering_a_visitor_for_a_unit_nobody_lives_in_is_refused(client: TestClient, site: Site) -> None:
    # The site's resident lives in 3栋 2单元.
    body = {**VISITOR, "host_building": "30栋", "host_unit": "2单元"}
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 422 and "no_such_unit" in r.text, (
        "a visit to a unit where no resident lives should be refused (or at least flagged) with "
        f"no_such_unit, as materials and validation are; got {r.status_code} and a working QR pass"
    )
    error = r.json()["error"]
    assert "30栋 2单元" in error["message"] and error["unit"] == "30栋 2单元"
    assert "empty" in error["fix"], "the guard is told a visit to the office leaves the unit empty"
    assert error["state"] == "may_be_empty"  # the page says so in its words (err.no_such_unit.may_be_empty)
    assert set(error["fields"]) == {"host_building", "host_unit"}
    made = site.gw.on_worker(lambda c: c.execute("SELECT count(*) FROM passes").fetchone()[0]).result(10)
    assert made == 0, "nothing is registered"


def test_a_building_alone_must_be_one_where_someone_lives(client: TestClient, site: Site) -> None:
    assert _visit(client, site, "30栋", "")[0] == 422
    assert _visit(client, site, "3栋", "")[0] == 201


def test_the_unit_as_the_register_writes_it_or_with_its_room_is_taken(client: TestClient, site: Site) -> None:
    """3栋 2单元 is the resident's; typed 3 / 2, ３栋 / 2单元, with the room after the unit (the field
    says 单元/房号: 2单元301), or the flat whole in the unit field, it is the same unit."""
    typed = (("3", "2"), ("３栋", "2单元"), ("3栋", "2单元301"), ("", "3栋2单元"), ("3栋", "301"))
    for building, unit in typed:
        status, answer = _visit(client, site, building, unit)
        assert status == 201, (building, unit, answer)


def test_a_room_or_unit_in_the_unit_field_must_be_one_where_someone_lives(
    client: TestClient, site: Site
) -> None:
    """The register records 3栋's resident in room 301: room 1201 and unit 9单元 are nobody's."""
    assert _visit(client, site, "3栋", "1201")[0] == 422
    assert _visit(client, site, "3栋", "9单元")[0] == 422
    assert _visit(client, site, "", "2单元")[0] == 422  # a unit of which building?


def test_a_crew_may_work_in_a_flat_nobody_lives_in_yet(client: TestClient, site: Site) -> None:
    """A contractor's pass (an admin's) for a flat being renovated before its owner moves in."""
    valid_to = (site.gw.now() + timedelta(days=30)).date().isoformat()
    crew = {
        "name": "赵装修",
        "company": "好家装饰",
        "host_building": "3栋",
        "host_unit": "9单元",
        "valid_to": valid_to,
    }
    assert client.post("/api/contractors", json=crew, headers=bearer(site.admin_token)).status_code == 201


def test_a_visit_to_the_management_office_leaves_the_unit_empty(client: TestClient, site: Site) -> None:
    assert _visit(client, site, "", "")[0] == 201


def test_a_site_whose_residents_were_never_imported_registers_as_before(
    client: TestClient, site: Site
) -> None:
    """No resident on the register: the gateway cannot tell a unit from a typo, so it does not try."""
    site.gw.on_worker(lambda c: registry.delete_resident(c, site.gw.now(), "test", site.resident_id)).result(
        timeout=30
    )
    assert _visit(client, site, "30栋", "2单元")[0] == 201
