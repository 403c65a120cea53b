"""The guard's tools name times in the site's time, as every other answer of the API does (the
store keeps UTC): a car in at 09:00 Beijing time is not shown as in at 01:00, nor the 09:00 patrol
round as due at 01:00."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.test_api import serving, show

M = timedelta(minutes=1)
Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def served(make_gw: Callable[..., Gateway]) -> Iterator[Served]:
    with serving(make_gw()) as s:
        yield s


def _local(text: str, gw: Gateway) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.utcoffset() == timedelta(hours=8), f"{text} is not in the site's time (+08:00)"
    return when.astimezone(gw.site.tz)


def test_the_lane_and_booth_quotes_give_times_in_the_sites_time(served: Served) -> None:
    gw, client, auth = served
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


def test_patrol_rounds_are_listed_in_the_sites_time(served: Served) -> None:
    gw, client, auth = served
    due = gw.now().replace(hour=9, minute=0, second=0, microsecond=0)
    gw.on_worker(
        lambda c: c.execute(
            "INSERT INTO patrol_rounds (route, due_at, status, finished_at, evaluated_at) "
            "VALUES ('night', ?, 'done', ?, ?)",
            (to_db(due), to_db(due + 20 * M), to_db(due + 30 * M)),
        )
    ).result()
    (round_,) = client.get("/api/parking/patrols", headers=auth).json()
    assert round_["due_at"].startswith(due.strftime("%Y-%m-%dT09:00"))
    assert _local(round_["due_at"], gw) == due
    assert _local(round_["finished_at"], gw) == due + 20 * M


def test_the_stays_list_gives_times_in_the_sites_time_and_a_car_struck_off_as_unregistered(
    served: Served,
) -> None:
    """The guard's list of cars inside: entry times in the site's time; a resident's car the office
    struck off while it is parked is listed as no longer registered."""
    gw, client, auth = served
    entered = gw.now() - 30 * M
    show(gw, "car-in", "皖B33333", entered)  # R2's car, on its own slot B002
    (vid,) = gw.on_worker(
        lambda c: c.execute("SELECT id FROM vehicles WHERE plate = '皖B33333'").fetchone()
    ).result()
    assert client.delete(f"/api/vehicles/{vid}", headers=auth).status_code == 204
    (stay,) = client.get("/api/parking/stays", headers=auth).json()
    assert _local(stay["entered_at"], gw) == entered
    assert stay["registered"] is False
