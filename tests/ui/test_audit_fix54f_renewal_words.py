"""A monthly period changed on a vehicle says on its audit row which month was sold, or ended."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.timefmt import last_day
from gateway.web.audit_words import vehicle_detail
from gateway.web.i18n import translator
from tests.ui.conftest import ADMIN, PLATE, Site, bearer, client, log_in, site, stored  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _renew(client: TestClient, site: Site, until: str | None) -> None:  # noqa: F811
    answer = client.patch(
        f"/api/vehicles/{site.vehicle_id}", json={"monthly_until": until}, headers=bearer(site.admin_token)
    )
    assert answer.status_code == 204, answer.text


def _details(site: Site) -> list[str]:  # noqa: F811
    rows = stored(site, "SELECT detail FROM audit WHERE action = 'vehicle.update' ORDER BY id")
    return [r[0] for r in rows]


def test_a_renewal_audits_the_last_days_before_and_after(client: TestClient, site: Site) -> None:  # noqa: F811
    """A renewal's audit row was the plate alone ('admin', 'vehicle.update', 'vehicle:1', '皖A12345'):
    the accountant could not tell it from a class change, nor see which month was sold; a period
    ended by hand read the same."""
    _renew(client, site, "2026-04-07")  # a car never monthly sold its first month
    _renew(client, site, "2027-04-07")
    _renew(client, site, None)  # ended now
    today = last_day(site.gw.now(), site.gw.site.tz).isoformat()
    assert _details(site) == [
        f"{PLATE} monthly none -> 2026-04-07",
        f"{PLATE} monthly 2026-04-07 -> 2027-04-07",
        f"{PLATE} monthly 2027-04-07 -> {today} (ended)",
    ]
    # Upstream the registry record is as it was: the plate and the period's end, no audit words.
    sent = stored(site, "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
    renewal = json.loads(sent[-2][0])
    assert set(renewal) - {"v", "type", "event_id"} == {"op", "entity", "id", "plate", "monthly_until", "at"}
    assert renewal["monthly_until"] == "2027-04-08T00:00:00+08:00", renewal

    h = log_in(client, ADMIN)  # Chinese by default
    page = client.get("/audit?action=vehicle.update").text
    assert f"{PLATE} · 月租到期日 无 → 2026-04-07" in page, page
    assert f"{PLATE} · 月租到期日 2027-04-07 → {today}（已终止）" in page, page
    assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
    page = client.get("/audit?action=vehicle.update").text
    assert f"{PLATE} · Monthly pass last day 2026-04-07 → 2027-04-07" in page, page
    assert f"{PLATE} · Monthly pass last day 2027-04-07 → {today} (ended)" in page, page
    assert not re.search(r"monthly \S+ -&gt;", page), "the stored words shown"


def test_a_class_change_alone_is_audited_as_before(client: TestClient, site: Site) -> None:  # noqa: F811
    answer = client.patch(
        f"/api/vehicles/{site.vehicle_id}",
        json={"vehicle_class": "motorcycle"},
        headers=bearer(site.admin_token),
    )
    assert answer.status_code == 204, answer.text
    assert _details(site) == [PLATE]


@pytest.mark.parametrize(
    ("end", "day"),
    [
        (datetime(2025, 4, 1, tzinfo=SHANGHAI), "2025-03-31"),  # a month "to 31 March" inclusive
        (datetime(2025, 3, 31, 17, tzinfo=UTC), "2025-04-01"),  # 01:00 on 1 April at the site
        (datetime(2025, 3, 31, 16, tzinfo=UTC), "2025-03-31"),  # midnight at the site
        (datetime(2025, 3, 3, 10, tzinfo=SHANGHAI), "2025-03-03"),  # ended by hand that morning
    ],
)
def test_the_last_day_is_the_sites(end: datetime, day: str) -> None:
    assert last_day(end, SHANGHAI).isoformat() == day


@pytest.mark.parametrize(
    ("detail", "zh", "en"),
    [
        (
            "皖C44444 monthly 2025-03-31 -> 2026-04-07",
            "皖C44444 · 月租到期日 2025-03-31 → 2026-04-07",
            "皖C44444 · Monthly pass last day 2025-03-31 → 2026-04-07",
        ),
        (
            "皖C44444 corrected to 皖C44445 monthly none -> 2025-03-31",
            "皖C44444 corrected to 皖C44445 · 月租到期日 无 → 2025-03-31",
            "皖C44444 corrected to 皖C44445 · Monthly pass last day none → 2025-03-31",
        ),
        ("皖C44444", "皖C44444", "皖C44444"),
        (
            "皖C44444 corrected to 皖C44445",
            "皖C44444 corrected to 皖C44445",
            "皖C44444 corrected to 皖C44445",
        ),
    ],
)
def test_a_vehicle_detail_is_worded_or_left_as_stored(detail: str, zh: str, en: str) -> None:
    assert vehicle_detail(detail, translator("zh")) == zh
    assert vehicle_detail(detail, translator("en")) == en
