"""How long a pass registered through the API lasts: `visitors.default_hours` of real time when the
guard leaves its end empty, also on the night the clocks change (an estate abroad, on
Europe/Berlin), and the whole of the day a bare end date names, as in an import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元"}


@pytest.mark.parametrize(
    "registered",
    [
        datetime(2025, 3, 30, 0, 30, tzinfo=BERLIN),  # 4 hours across 02:00 CET -> 03:00 CEST
        datetime(2025, 10, 26, 0, 30, tzinfo=BERLIN),  # 4 hours across 03:00 CEST -> 02:00 CET
    ],
    ids=["spring", "autumn"],
)
def test_a_pass_without_an_end_lasts_the_default_hours_on_the_night_the_clocks_change(
    berlin_site: Site, registered: datetime
) -> None:
    """A visitor registered at 00:30 with the end left empty (visitors.default_hours = 4) may stay
    4 hours: not 3 on the night the clocks go forward, nor 5 on the night they go back."""
    gw = berlin_site.gw
    gw.now = lambda: registered  # type: ignore[method-assign]
    with TestClient(create_app(gw)) as client:
        r = client.post("/api/visitors", json=VISITOR, headers=bearer(berlin_site.guard_token))
    assert r.status_code == 201, r.text
    p = r.json()
    start, end = (datetime.fromisoformat(p[k]) for k in ("valid_from", "valid_to"))
    lasts = end.astimezone(UTC) - start.astimezone(UTC)
    assert lasts == timedelta(hours=4), (
        f"the pass runs {p['valid_from']} to {p['valid_to']}: {lasts} of real time"
    )


@pytest.mark.parametrize(
    ("path", "token", "extra"),
    [
        ("/api/visitors", "guard", {"plate": "苏E12345"}),
        ("/api/contractors", "admin", {"company": "好家装饰"}),
    ],
    ids=["visitor", "contractor"],
)
def test_a_pass_until_a_bare_date_covers_that_whole_day(
    site: Site, path: str, token: str, extra: dict[str, str]
) -> None:
    """A visitor staying with family "until the 5th" (valid_to "2025-03-05"), or a renovation crew
    working until then, is still let in at noon on the 5th: a bare end date includes that whole day,
    as in a CSV import and the central server's pass entries."""
    gw = site.gw
    headers = bearer(site.admin_token if token == "admin" else site.guard_token)
    gw.now = lambda: datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)  # type: ignore[method-assign]
    with TestClient(create_app(gw)) as client:
        r = client.post(path, json={**VISITOR, **extra, "valid_to": "2025-03-05"}, headers=headers)
        assert r.status_code == 201, r.text
        p = r.json()
        gw.now = lambda: datetime(2025, 3, 5, 12, 0, tzinfo=SHANGHAI)  # type: ignore[method-assign]
        state = client.get(f"/api/passes/{p['id']}", headers=headers).json()["state"]
    assert p["valid_to"] == "2025-03-06T00:00:00+08:00"
    assert state == "active", (
        f"a pass until 2025-03-05 stored to {p['valid_to']}: at noon on the 5th it is {state}"
    )
