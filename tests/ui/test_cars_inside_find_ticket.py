"""docs/guard-app.md, 车位 Occupancy: "场内车辆 Cars inside: the cars recorded inside, newest first (the
200 newest; 按车牌查找 Find by plate takes a piece of it, 粤B12 finds 粤B12345): plate, ...". A car with
no plate (无牌车) is inside under its ticket (无牌-0303-07), which the list shows in its plate column
(docs/guard-app.md, Cars with no plate: "decides it as a temporary car with the ticket as its plate")."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, log_in


def _listed(client: TestClient, typed: str) -> list[str]:
    page = client.get("/occupancy", params={"plate": typed})
    assert page.status_code == 200
    return re.findall(r"<tr data-stay=\"\d+\">\s*<td><strong>([^<]*)</strong>", page.text)


def test_a_car_with_no_plate_is_found_on_the_occupancy_page_by_its_ticket(client: TestClient) -> None:
    """A van with no plate came in on ticket 无牌-MMDD-01. Hours later its driver is at the booth
    with the paper ticket; the guard types the ticket (or its number) in 按车牌查找 on 车位: the page
    says no car is found, though the list shows that very ticket as a plate. It should list the van."""
    csrf = log_in(client, GUARD)
    given = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True})
    assert given.status_code == 200, given.text
    ticket = given.json()["plate"]
    assert ticket.startswith("无牌-")
    assert ticket in _listed(client, "")  # the list shows it, its ticket as its plate
    number = ticket.removeprefix("无牌-")  # 1123-01, what the guard reads off the paper ticket
    assert _listed(client, ticket) == [ticket], f"searching {ticket!r} found {_listed(client, ticket)}"
    assert _listed(client, number) == [ticket], f"searching {number!r} found {_listed(client, number)}"
