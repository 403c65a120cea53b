"""A car with no plate (无牌车) at the car lanes: let in on a ticket the gateway gives, counted inside,
held to pay on its ticket at the exit, and in the daily report as a temporary car."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_api import serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
TICKET_1, TICKET_2 = "无牌-0303-01", "无牌-0303-02"  # T0 is 2025-03-03


class Site:
    """A running gateway whose clock the test moves, its API client and a guard's token."""

    def __init__(self, gw: Gateway, client: TestClient, auth: dict[str, str]):
        self.gw, self.client, self.auth = gw, client, auth
        self.now = T0
        gw.now = lambda: self.now  # type: ignore[method-assign]

    def typed(self, lane: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/lanes/{lane}/plate", headers=self.auth, json=body)

    def read(self, sql: str, *args: object) -> list[Any]:
        return self.gw.on_worker(lambda c: c.execute(sql, args).fetchall()).result(10)

    def show(self, lane: str, plate: str) -> AccessEvent:
        p = Presented(lane, "plate", plate, 0.97, self.now, "cam")
        return self.gw.on_worker(lambda _: self.gw.handle(p)).result(timeout=10)

    def inside(self) -> int:
        zone = self.client.get("/api/parking/occupancy").json()
        return sum(z["inside"] for z in zone if z["class"] == "car")


ENTRANCE_DISPLAY = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


@pytest.fixture
def site(make_gw: Callable[..., Gateway]) -> Iterator[Site]:
    with serving(make_gw(extra=ENTRANCE_DISPLAY)) as served:
        yield Site(*served)


def _access_records(s: Site) -> list[dict[str, Any]]:
    rows = s.read("SELECT payload FROM outbox WHERE topic = 'access' ORDER BY seq")
    return [json.loads(r[0]) for r in rows]


def test_no_plate_car_comes_in_on_a_ticket_counted_and_pays_on_it_at_the_exit(site: Site) -> None:
    s = site
    before = s.inside()
    came = s.typed("car-in", {"no_plate": True})
    assert came.status_code == 200, came.text
    ev = came.json()
    assert (ev["plate"], ev["admitted"], ev["reason"], ev["billing"]) == (
        TICKET_1,
        True,
        "temporary",
        "temporary",
    )
    assert "no_plate" in ev["flags"]
    assert s.inside() == before + 1
    assert s.gw.devices.lanes["car-in"].displays[0].shown[-1] == ["无牌车 请入场", TICKET_1]
    stays = s.client.get("/api/parking/stays", headers=s.auth).json()
    assert [(x["plate"], x["no_plate"], x["billing"]) for x in stays] == [(TICKET_1, True, "temporary")]
    # The driver's display and the centre: the ticket where the plate would be, flagged no_plate.
    sent = _access_records(s)[-1]
    assert sent["credential"]["value"] == TICKET_1 and sent["vehicle"]["plate"] == TICKET_1
    assert "no_plate" in sent["flags"]
    assert s.read("SELECT detail FROM audit WHERE action = 'lane.plate'") == [
        (f"typed 无牌车, ticket {TICKET_1}",)
    ]

    # A second one a minute later gets the next number; the exit lists them newest first.
    s.now = T0 + M
    assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_2
    picked = s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json()
    assert [t["ticket"] for t in picked] == [TICKET_2, TICKET_1]

    # Two hours on, the first leaves: typed as the guard wrote it on the paper ticket.
    s.now = T0 + 2 * H
    held = s.typed("car-out", {"plate": "无牌 0303 01"}).json()
    assert (held["plate"], held["reason"]) == (TICKET_1, "payment_due")
    display = s.gw.devices.lanes["car-out"].displays[0]
    assert display.shown[-1] == ["无牌车 请缴费 7元", TICKET_1]
    quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
    assert (quote["plate"], quote["due_fen"]) == (TICKET_1, 700)
    body = {"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"}
    paid = s.client.post("/api/parking/lanes/car-out/pay", headers=s.auth, json=body)
    assert paid.status_code == 200 and paid.json()["admitted"], paid.text
    assert display.shown[-1] == ["一路平安", TICKET_1]
    assert s.inside() == before + 1  # the second is still in
    assert [t["ticket"] for t in s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json()] == [
        TICKET_2
    ]
    assert s.read("SELECT amount_fen FROM payments") == [(700,)]


def test_the_guard_types_no_plate_as_every_car_park_system_says_it(site: Site) -> None:
    """无牌车 typed in the plate field is the same as the button."""
    came = site.typed("car-in", {"plate": "无牌车"})
    assert came.status_code == 200, came.text
    assert came.json()["admitted"] and came.json()["plate"] == TICKET_1


def test_an_exit_on_no_ticket_inside_is_refused_naming_those_inside(site: Site) -> None:
    s = site
    none_yet = s.typed("car-out", {"plate": TICKET_1})
    assert none_yet.status_code == 404 and none_yet.json()["error"]["code"] == "unknown_ticket"
    assert "no car with no plate is recorded inside" in none_yet.json()["error"]["fix"]
    s.typed("car-in", {"no_plate": True})
    logged = s.read("SELECT count(*) FROM access_log")
    wrong = s.typed("car-out", {"plate": "无牌-0303-09"}).json()["error"]
    assert wrong["code"] == "unknown_ticket" and TICKET_1 in wrong["fix"]
    no_ticket = s.typed("car-out", {"no_plate": True})
    assert no_ticket.status_code == 422 and no_ticket.json()["error"]["code"] == "ticket_needed"
    assert TICKET_1 in no_ticket.json()["error"]["fix"]
    # Nor is a ticket typed at an entrance: the entrance gives them.
    again = s.typed("car-in", {"plate": TICKET_1})
    assert again.status_code == 422 and again.json()["error"]["code"] == "ticket_at_entrance"
    assert s.read("SELECT count(*) FROM access_log") == logged  # nothing decided, nothing recorded
    assert s.inside() == 1


def test_no_plate_car_refused_when_the_car_park_is_full_keeps_its_number(
    make_gw: Callable[..., Gateway],
) -> None:
    """Capacity as for any temporary car: 2 spaces, both fixed slots, none shared."""
    with serving(make_gw(capacity=2)) as served:
        s = Site(*served)
        refused = s.typed("car-in", {"no_plate": True}).json()
        assert (refused["admitted"], refused["reason"], refused["plate"]) == (False, "zone_full", TICKET_1)
        assert s.read("SELECT count(*) FROM stays") == [(0,)]
        # Its number may be written down already: the next car gets the next one.
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_2


def test_daily_report_counts_no_plate_cars_as_temporary_cars(site: Site) -> None:
    s = site
    s.typed("car-in", {"no_plate": True})
    s.now = T0 + 2 * H
    s.typed("car-out", {"plate": TICKET_1})
    quote = s.client.get("/api/parking/lanes/car-out/quote", headers=s.auth).json()
    body = {"plate": TICKET_1, "amount_fen": quote["due_fen"], "method": "qr"}
    assert s.client.post("/api/parking/lanes/car-out/pay", headers=s.auth, json=body).status_code == 200
    report = s.gw.on_worker(lambda _: report_of_t0_day(s.gw, T0 + 3 * H)).result(10)
    vehicles = report["vehicles"]
    assert vehicles["entries"]["by_kind"]["temporary"] == 1 and vehicles["exits"]["by_kind"]["temporary"] == 1
    assert report["held_for_payment"] == 1
    assert report["parking"]["charged_fen"] == 700 and report["parking"]["revenue_by_method_fen"]["qr"] == 700
    assert report["parking"]["temporary_stays_closed"] == 1
    assert report["flags"]["no_plate"] == 2  # its entry and its hold: the records of a car with no plate


def test_no_plate_entry_corrected_to_the_plate_learned_later(site: Site) -> None:
    """The driver comes back to the booth with his new plate: the guard corrects the entry, and the
    car is then found at the exit by the camera on that plate, its stay and fee with it. A plate
    is never corrected to a ticket."""
    s = site
    entry = s.typed("car-in", {"no_plate": True}).json()
    fixed = s.client.post(
        f"/api/events/{entry['event_id']}/plate", headers=s.auth, json={"plate": "苏E12345"}
    )
    assert fixed.status_code == 200 and fixed.json()["stay_moved"], fixed.text
    assert s.client.get("/api/lanes/car-out/tickets", headers=s.auth).json() == []
    s.now = T0 + 2 * H
    held = s.show("car-out", "苏E12345")
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    read = s.show("car-in", "苏E54321")
    to_ticket = s.client.post(f"/api/events/{read.event_id}/plate", headers=s.auth, json={"plate": TICKET_2})
    assert to_ticket.status_code == 422 and to_ticket.json()["error"]["code"] == "ticket_not_a_plate"


def test_ticket_numbers_go_on_after_a_restart_and_start_again_each_day(
    make_gw: Callable[..., Gateway],
) -> None:
    """The counter is the records', not the process's: a restart does not give a number twice."""
    gw = make_gw()
    with serving(gw) as served:
        assert Site(*served).typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_1
    again = Gateway(gw.site.config)
    again.start()
    try:
        made = again.on_worker(lambda c: create_token(c, T0, "test", "booth-2", "admin", None))
        s = Site(again, TestClient(create_app(again)), {"Authorization": f"Bearer {made.result(10)[1]}"})
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_2
        s.now = datetime(2025, 3, 4, 0, 30, tzinfo=T0.tzinfo)
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == "无牌-0304-01"
    finally:
        again.stop()
