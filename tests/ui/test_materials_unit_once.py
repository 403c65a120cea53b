"""docs/guard-app.md (Pass, materials) and docs/parking.md (daily report materials_out): "Whether
typed or the pass's, the unit is recorded as the register writes it ..., so the daily report counts
one unit once however it was typed"."""

from __future__ import annotations

from datetime import datetime, timedelta

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


def test_a_unit_s_materials_are_one_row_when_its_oldest_resident_moves_out(
    client: TestClient, site: Site
) -> None:
    """3栋 2单元: R1 imported long ago as 3栋 / 2单元, R9 sent by the centre as 3 / 2. R1 moves out
    and carries his sofa out in the morning (recorded 3栋 / 2单元); the office removes R1 from the
    register at noon; in the afternoon his old wardrobe leaves too, typed exactly as before, and is
    stored as the register now writes the unit (3 / 2). That day's report lists materials_out for
    the unit once, with both records, as docs/parking.md says ("one unit is one row however it was
    typed"), not one row for "3栋 2单元" and another for "3 2"."""
    admin, guard = bearer(site.admin_token), bearer(site.guard_token)
    r = client.post(
        "/api/residents",
        json={"ref": "R9", "building": "3", "unit": "2", "room": "302", "name": "李四"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    ats = []

    def carry(items: str) -> None:
        r = client.post(
            "/api/materials",
            json={"items": items, "host_building": "3栋", "host_unit": "2单元"},
            headers=guard,
        )
        assert r.status_code == 201, r.text
        ats.append(datetime.fromisoformat(r.json()["at"]))

    carry("旧沙发")
    r = client.delete(f"/api/residents/{site.resident_id}", headers=admin)  # R1 moved out
    assert r.status_code == 204, r.text
    carry("旧衣柜")
    gw = site.gw
    # The report day whose period (from [reports] hour to the same hour next day) holds the records.
    days = {(at - timedelta(hours=gw.site.config.reports.hour)).date() for at in ats}
    assert len(days) == 1, ats
    (day,) = days
    body = gw.operations.build_report(day, ats[-1] + timedelta(days=2))
    rows = [(m["building"], m["unit"], m["records"]) for m in body["materials_out"]]
    assert len(rows) == 1 and rows[0][2] == 2, f"one unit split into rows in the day's report: {rows}"
