"""What the guard and the crew's driver are told about a crew: the lane display at the exit, and
the recent decisions the guard's tools read (GET /api/events)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.texts import display_lines
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import Site, bearer, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
VAN = "皖A8F123"
CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
    "plate": VAN,
    "hours": ["08:00-18:00"],
}


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _present(site: Site, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    gw = site.gw
    return gw.on_worker(lambda c: gw.handle(Presented(lane, kind, value, 0.97, at, "test"))).result(10)


def test_crew_van_asked_to_pay_at_the_exit_is_not_called_a_temporary_car(tmp_path: Path) -> None:
    """A registered crew's van that owes its day's fee must not read 临时车 请缴费 21元 (temporary
    car), as a stranger's car does, where a visitor's car reads 访客 请缴费: the foreman, who holds
    a pass, would be told his van is not registered, and the guard gets the argument."""
    site = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    gw = site.gw
    try:
        gw.now = Clock(datetime(2025, 3, 3, 7, 0, tzinfo=TZ))  # type: ignore[method-assign]
        with TestClient(create_app(gw)) as client:
            body = {**CREW, "valid_to": "2025-05-31"}
            r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
            assert r.status_code == 201, r.text
        _present(site, "car-in", "plate", VAN, datetime(2025, 3, 3, 8, 30, tzinfo=TZ))
        out = _present(site, "car-out", "plate", VAN, datetime(2025, 3, 3, 17, 30, tzinfo=TZ))
    finally:
        gw.stop()
    assert (out.reason, out.holder_kind, out.fee_fen) == ("payment_due", "contractor", 2100)
    assert display_lines(out, "zh", "exit") == ["施工车 请缴费 21元", VAN]
    assert display_lines(out, "en", "exit") == ["CREW: PAY 21", VAN]  # board words (Review 66L)


def test_recent_decisions_give_the_time_in_the_sites_zone(client: TestClient, site: Site) -> None:
    """docs/parking.md: times are in the site's time "as every answer of the API". A crew member
    kept out at 09:00 on 1 April (the pass ended on 31 March) must be listed by GET /api/events at
    09:00+08:00, not at 01:00 UTC: a script that prints the time would show the refusal at night."""
    site.gw.now = Clock(datetime(2025, 3, 3, 9, 0, tzinfo=TZ))  # type: ignore[method-assign]
    body = {**CREW, "plate": "", "valid_to": "2025-03-31"}
    r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
    assert r.status_code == 201, r.text
    kept_out = _present(site, "door", "qr", r.json()["qr"], datetime(2025, 4, 1, 9, 0, tzinfo=TZ))
    assert kept_out.reason == "expired"
    listed = client.get("/api/events?lane=door", headers=bearer(site.guard_token)).json()[0]
    assert listed["reason"] == "expired"
    assert listed["at"] == "2025-04-01T09:00:00+08:00"
