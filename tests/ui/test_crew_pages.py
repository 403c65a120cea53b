"""A renovation crew's pass as the guard sees it on the pages: the contractors list, the pass page's
materials form and its list of what left."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in

CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": "皖A8F123",
    "hours": ["08:00-18:00"],
}


def _issue(client: TestClient, site: Site, **extra: object) -> dict[str, Any]:
    valid_to = (site.gw.now() + timedelta(days=90)).date().isoformat()
    r = client.post(
        "/api/contractors", json={**CREW, "valid_to": valid_to, **extra}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_contractors_page_lists_each_pass_with_its_daily_hours_and_validity_dates(
    client: TestClient, site: Site
) -> None:
    """docs/guard-app.md: 施工人员 Contractors lists every current pass "with company, validity
    dates and daily hours (e.g. 08:00-18:00)". The guard at the door needs the crew's hours (a
    worker at 19:00 is kept out) and the day the pass began, not only its last day."""
    p = _issue(client, site, valid_from=(site.gw.now() - timedelta(days=2)).date().isoformat())
    log_in(client, GUARD)
    page = client.get("/contractors").text
    row = page[page.index(f'data-pass="{p["id"]}"') :]
    row = row[: row.index("</tr>")]
    assert "好家装饰" in row
    assert "08:00-18:00" in row, f"the crew's daily hours are not on its row: {row}"
    start = p["valid_from"][5:10]  # MM-DD, as the list prints dates
    assert start in row, f"the pass's first day {start} is not on its row: {row}"


def test_pass_page_of_a_crew_issued_for_a_unit_nobody_lives_in_lets_the_guard_name_the_owner(
    client: TestClient, site: Site
) -> None:
    """A crew's pass issued for 3栋 9单元 by a slip: recording what they carry out is refused with
    "give the owner's building and unit", so the pass page's materials form (登记放行) must offer
    those fields, as it does for a pass with no unit at all; a pass for a lived-in unit needs none."""
    slip = _issue(client, site, host_unit="9单元")
    csrf = log_in(client, GUARD)
    r = client.post("/api/materials", json={"pass_id": slip["id"], "items": "旧橱柜 1 套"}, headers=csrf)
    assert r.status_code == 422 and "owner's building and unit" in r.json()["error"]["fix"]

    def form(pass_id: int) -> str:
        page = client.get(f"/passes/{pass_id}").text
        shown = page[page.index('id="materials-form"') :]
        return shown[: shown.index("</form>")]

    assert 'name="host_building"' in form(slip["id"]) and 'name="host_unit"' in form(slip["id"]), (
        "the materials form has no building/unit fields for the owner's unit the gateway asks for"
    )
    lived_in = _issue(client, site, plate="皖A8F124")
    assert 'name="host_building"' not in form(lived_in["id"])


def test_pass_page_lists_everything_that_left_on_a_three_month_job(client: TestClient, site: Site) -> None:
    """docs/guard-app.md: the pass page shows "the list of what left on this pass". A crew clearing
    rubbish daily for three months has more than 50 records: the first cabinets carried out must
    not vanish from the guard's view."""
    p = _issue(client, site)
    guard = bearer(site.guard_token)
    for n in range(55):
        body = {"pass_id": p["id"], "items": f"建筑垃圾 第{n + 1}车"}
        assert client.post("/api/materials", json=body, headers=guard).status_code == 201
    with sqlite3.connect(site.gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM materials_out").fetchone()[0] == 55
    log_in(client, GUARD)
    page = client.get(f"/passes/{p['id']}").text
    assert page.count("建筑垃圾 第") == 55
    assert "建筑垃圾 第1车 " in page  # the first load, not only the newest
