"""The contractors' list (施工人员) names each pass's validity dates (docs/guard-app.md: "with
company, validity dates and daily hours"). A crew's pass may last a year (contractor_max_days 366)."""

from __future__ import annotations

from datetime import date, timedelta

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


def _row(page: str, pass_id: int) -> str:
    row = page[page.index(f'data-pass="{pass_id}"') :]
    return row[: row.index("</tr>")]


def test_a_year_long_crew_pass_does_not_read_as_one_day_on_the_contractors_list(
    client: TestClient, site: Site
) -> None:
    """An admin issues a renovation crew's pass for a year, from today to the day before the same
    date next year (inclusive). The guard's 施工人员 list shows it as "MM-DD 00:00 – MM-DD 00:00"
    with the year cut off, so it reads as the same day twice (a pass of no length): the guard
    cannot tell when the crew's pass really ends. The list shows its first and last day with their years."""
    today = site.gw.now().date()
    first = today
    last = date(today.year + 1, today.month, min(today.day, 28)) - timedelta(days=1)
    r = client.post(
        "/api/contractors",
        json={**CREW, "valid_from": first.isoformat(), "valid_to": last.isoformat()},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 201, r.text
    p = r.json()
    log_in(client, GUARD)
    row = _row(client.get("/contractors").text, p["id"])
    cell = row[row.index("<small>", row.index("plate-text")) :]
    cell = cell[: cell.index("</small>")]
    assert f"{first.isoformat()} – {last.isoformat()}" in cell, (
        f"the pass runs from {p['valid_from'][:10]} to {p['valid_to'][:10]} (stored end), but its row "
        f"on the contractors list reads {cell!r}: no year, the end looks like its start"
    )
    assert "08:00-18:00" in cell, "its daily hours stay beside the days"
