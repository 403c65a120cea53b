"""The guard's quote names the times in the site's time, as every other answer of the API does
(the store keeps UTC): a car in at 09:00 Beijing time is not shown as in at 01:00."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import running, show  # noqa: F401  (fixture)

M = timedelta(minutes=1)


def _local(text: str, gw: Gateway) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.utcoffset() == timedelta(hours=8), f"{text} is not in the site's time (+08:00)"
    return when.astimezone(gw.site.tz)


def test_the_lane_and_booth_quotes_give_times_in_the_sites_time(
    running: tuple[Gateway, TestClient, dict[str, str]],
) -> None:
    gw, client, auth = running
    now = gw.now()
    entered = now - 122 * M
    show(gw, "car-in", "苏E12345", entered)
    held = show(gw, "car-out", "苏E12345", now - 2 * M)
    assert held.reason == "payment_due"
    lane = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    booth = client.get("/api/parking/quote", params={"plate": "苏E12345"}, headers=auth).json()
    for quote in (lane, booth):
        assert _local(quote["entered_at"], gw) == entered
        assert _local(quote["charged_until"], gw) == now - 2 * M
        _local(quote["at"], gw)
