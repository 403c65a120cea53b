"""Review K (on fd893513, Review 66 E): a crew's pass that closed management keeps out at every
moment from now on was still issued, because the check looked for an open moment from the pass's
first day, in the past. Under a period closed to contractors 07:00-21:00 from 1 March to 31 May, an
admin at 10:00 on 3 March issued a pass for that day, 06:00-18:00 (201, already 封闭管理期间不予
放行: its 06:00-07:00 was over), and one back-dated to 20 February, 08:00-18:00 to 30 April. Both are
now refused 422 `closed_management`; the stored window is as typed. Extending (延期) a crew's pass
into closed hours only is refused alike (docs/guard-app.md, *Contractors*)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer
from tests.ui.test_contractor_closed_hours_fix66E import TZ, Clock, _issue, closed_site  # noqa: F401


@pytest.fixture
def crew_site(closed_site: Site) -> Site:  # noqa: F811
    """10:00 on 3 March, the third day of a period closed to contractors 07:00-21:00 to 31 May."""
    return closed_site


@pytest.mark.parametrize(
    "body",
    [
        # 10:00 on 3 March, for that day alone: its only open hour, 06:00-07:00, is over.
        {"hours": ["06:00-18:00"], "valid_from": "2025-03-03", "valid_to": "2025-03-03"},
        # Back-dated to 20 February: its days before the period are past, every one from now closed.
        {"hours": ["08:00-18:00"], "valid_from": "2025-02-20", "valid_to": "2025-04-30"},
    ],
)
def test_a_pass_open_only_in_the_past_is_refused(crew_site: Site, body: dict[str, Any]) -> None:
    r = _issue(crew_site, **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "closed_management"


def test_a_pass_issued_before_its_open_hour_today_is_issued_with_its_window(crew_site: Site) -> None:
    crew_site.gw.now = Clock(datetime(2025, 3, 3, 5, 30, tzinfo=TZ))
    r = _issue(crew_site, hours=["06:00-18:00"], valid_from="2025-03-03", valid_to="2025-03-03")
    assert r.status_code == 201, r.text
    assert r.json()["valid_from"].startswith("2025-03-03T00:00"), r.json()["valid_from"]


def test_an_extension_into_closed_hours_only_is_refused(crew_site: Site) -> None:
    site = crew_site
    site.gw.now = Clock(datetime(2025, 2, 20, 9, 0, tzinfo=TZ))  # before the period
    made = _issue(site, hours=["08:00-18:00"], valid_from="2025-02-20", valid_to="2025-02-28")
    assert made.status_code == 201, made.text
    site.gw.now = Clock(datetime(2025, 3, 3, 10, 0, tzinfo=TZ))  # the pass is over; the period on
    with TestClient(create_app(site.gw)) as client:
        url = f"/api/passes/{made.json()['id']}/extend"
        closed = client.post(url, json={"valid_to": "2025-04-30"}, headers=bearer(site.admin_token))
        assert closed.status_code == 422, closed.text
        assert closed.json()["error"]["code"] == "closed_management"
        assert (
            client.get(f"/api/passes/{made.json()['id']}", headers=bearer(site.admin_token))
            .json()["valid_to"]
            .startswith("2025-03-01")
        )
        past = client.post(url, json={"valid_to": "2025-06-10"}, headers=bearer(site.admin_token))
        assert past.status_code == 200, past.text
