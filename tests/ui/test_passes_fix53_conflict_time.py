"""A plate held by another pass is refused naming when that pass ends in the site's time, to the
second (review 53d): the message gave the stored UTC text, 03:50:07.621900+00:00 for a pass that
ends at 11:50:07 on an Asia/Shanghai site."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer

VISITOR = {"name": "李四", "host_building": "3栋", "host_unit": "2单元", "plate": "苏E55555"}


def test_the_plate_conflict_names_the_held_pass_end_in_site_time(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    today = client.post("/api/visitors", json=VISITOR, headers=guard).json()
    start = site.gw.now() + timedelta(days=2)
    window = {"valid_from": start.isoformat(), "valid_to": (start + timedelta(hours=4)).isoformat()}
    later = client.post("/api/visitors", json={**VISITOR, **window}, headers=guard)
    assert later.status_code == 409, later.text
    message = later.json()["error"]["message"]
    # The pass as the API gives it (site time, +08:00), to the second.
    ends = datetime.fromisoformat(today["valid_to"]).isoformat(timespec="seconds")
    assert ends.endswith("+08:00"), ends
    assert f"valid until {ends}" in message, message
    assert "+00:00" not in message
