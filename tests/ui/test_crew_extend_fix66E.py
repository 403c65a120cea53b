"""Review 66 E2: a crew renewed with a new pass and gone home was counted inside for a week. Three
workers walked in on the old QR, the office issued a new pass, they walked out on the new one (each
exit no_entry_record): next day the old pass showed 已过期仍未离开 with 3 inside, and occupancy 3
people inside. People on foot are counted per pass. An admin now extends the pass itself (延期,
`POST /api/passes/{id}/extend`): the same pass and QR, a new end; the crew walks out on the QR it
walked in on (docs/guard-app.md, *Contractors*)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from tests.ui.conftest import ADMIN, Site, bearer, log_in, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
EXIT = '\n[[lanes]]\nid = "door-out"\ngate = "north"\ndirection = "exit"\ntype = "pedestrian"\n'
CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "host_building": "3栋",
    "host_unit": "2单元",
    "passengers": 3,
    "hours": ["08:00-18:00"],
    "valid_to": "2025-03-31",
}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def crew_site(tmp_path: Path) -> Iterator[Site]:
    site = start_site(make_config(tmp_path / "data", EXIT))
    site.gw.now = Clock(datetime(2025, 3, 3, 7, 0, tzinfo=TZ))
    yield site
    site.gw.stop()


def _qr(site: Site, lane: str, value: str, at: datetime) -> AccessEvent:
    site.gw.now = Clock(at)
    return site.gw.on_worker(lambda c: site.gw.handle(Presented(lane, "qr", value, 1.0, at, "t"))).result(10)


def _extend(client: TestClient, site: Site, pass_id: int, token: str, valid_to: str) -> Any:
    return client.post(f"/api/passes/{pass_id}/extend", json={"valid_to": valid_to}, headers=bearer(token))


def test_a_crew_extended_walks_out_on_its_own_qr_and_is_not_left_inside(crew_site: Site) -> None:
    site = crew_site
    with TestClient(create_app(site.gw)) as client:
        crew = client.post("/api/contractors", json=CREW, headers=bearer(site.admin_token)).json()
        for i in range(3):
            assert _qr(site, "door", crew["qr"], datetime(2025, 3, 31, 8, 0, i, tzinfo=TZ)).admitted
        site.gw.now = Clock(datetime(2025, 3, 31, 10, 0, tzinfo=TZ))
        extended = _extend(client, site, crew["id"], site.admin_token, "2025-04-30")
        assert extended.status_code == 200, extended.text
        assert extended.json()["qr"] == crew["qr"] and extended.json()["valid_to"].startswith("2025-05-01")
        outs = [
            _qr(site, "door-out", crew["qr"], datetime(2025, 3, 31, 17, 30, i, tzinfo=TZ)) for i in range(3)
        ]
        assert all(e.admitted and "no_entry_record" not in e.flags for e in outs), [e.flags for e in outs]
        site.gw.now = Clock(datetime(2025, 4, 1, 9, 0, tzinfo=TZ))
        listed = client.get("/api/contractors", headers=bearer(site.guard_token)).json()
        people = client.get("/api/occupancy", headers=bearer(site.guard_token)).json()["people_inside"]
        assert people == 0 and not any(p["overstaying"] for p in listed), listed
        assert _qr(site, "door", crew["qr"], datetime(2025, 4, 1, 9, 0, tzinfo=TZ)).reason == "contractor"
    site.gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(site.gw.db_path) as conn:
        sent = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'")]
        trail = conn.execute("SELECT actor, target FROM audit WHERE action = 'contractor.extend'").fetchall()
    assert [r["op"] for r in sent] == ["created", "extended"]
    assert sent[1]["pass"]["valid_to"] == "2025-05-01T00:00:00+08:00", sent[1]
    assert [target for _, target in trail] == [f"pass:{crew['id']}"] and "admin" in trail[0][0]


def test_only_an_admin_extends_and_not_a_pass_ended_or_the_centres(crew_site: Site) -> None:
    site = crew_site
    with TestClient(create_app(site.gw)) as client:
        crew = client.post("/api/contractors", json=CREW, headers=bearer(site.admin_token)).json()
        guard = _extend(client, site, crew["id"], site.guard_token, "2025-04-30")
        assert guard.status_code == 403, guard.text
        earlier = _extend(client, site, crew["id"], site.admin_token, "2025-03-20")
        assert earlier.status_code == 422 and earlier.json()["error"]["code"] == "invalid_pass", earlier.text
        again = _extend(client, site, crew["id"], site.admin_token, "2025-03-31")  # a retry: as it is
        assert again.status_code == 200, again.text
        ended = client.post(f"/api/passes/{crew['id']}/checkout", headers=bearer(site.admin_token))
        assert ended.status_code == 200, ended.text
        refused = _extend(client, site, crew["id"], site.admin_token, "2025-04-30")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "pass_ended", refused.text
        central = client.post("/api/contractors", json=CREW, headers=bearer(site.admin_token)).json()
        site.gw.on_worker(
            lambda c: c.execute("UPDATE passes SET ref = 'RENO-1' WHERE id = ?", (central["id"],))
        ).result(10)
        theirs = _extend(client, site, central["id"], site.admin_token, "2025-04-30")
        assert theirs.status_code == 409 and theirs.json()["error"]["code"] == "central_pass", theirs.text


def test_the_pass_page_offers_an_admin_the_extension(crew_site: Site) -> None:
    site = crew_site
    with TestClient(create_app(site.gw)) as client:
        crew = client.post("/api/contractors", json=CREW, headers=bearer(site.admin_token)).json()
        log_in(client, ADMIN)
        page = client.get(f"/passes/{crew['id']}").text
        assert f'data-api="/api/passes/{crew["id"]}/extend"' in page
