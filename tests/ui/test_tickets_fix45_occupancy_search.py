"""The 车位 page's 按车牌查找 with a no-plate car's ticket as the guard has it in hand."""

from __future__ import annotations

import re
import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.timefmt import to_db
from tests.ui.conftest import GUARD, Site, log_in


def _listed(client: TestClient, typed: str) -> list[str]:
    page = client.get("/occupancy", params={"plate": typed})
    assert page.status_code == 200, page.text
    return re.findall(r"<tr data-stay=\"\d+\">\s*<td><strong>([^<]*)</strong>", page.text)


@pytest.mark.parametrize(
    "form",
    ["{day} {n}", "{day}{n}", "{day}—{n}", "无牌-{day}", "无牌 {day}", "无牌—{day}—{n}", "{day}-", "{day} 0"],
)
def test_the_ticket_number_as_the_exit_takes_it_finds_the_car_on_the_occupancy_page(
    client: TestClient, form: str
) -> None:
    """The exit takes the paper ticket's number typed with a space (0303 01), without its dash
    (030301) or with a Chinese keyboard's dash (0303—01), and the LED shows a long ticket's first
    part as 无牌-0303; typed into 车位's 按车牌查找 each found no car (有 0 辆), though the car is
    listed under 无牌-0303-01. The guard looking the car up sees it, as with a piece of its number
    begun (0303-, 0303 0)."""
    csrf = log_in(client, GUARD)
    given = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True})
    assert given.status_code == 200, given.text
    ticket = given.json()["plate"]
    _, day, n = ticket.split("-")
    typed = form.format(day=day, n=n)
    assert _listed(client, typed) == [ticket], (
        f"searching {typed!r} for {ticket} found {_listed(client, typed)}"
    )


def test_the_thousandth_ticket_number_finds_the_car_on_the_occupancy_page(
    client: TestClient, site: Site
) -> None:
    """A busy day's 1000th car with no plate has 无牌-MMDD-1000; its number off the paper ticket,
    MMDD-1000, typed into 按车牌查找 found no car (the page took a counter of up to 3 digits as a
    ticket's piece, and read MMDD-1000 as the plate MMDD1000). It lists the car, as
    MMDD-100 does for the 100th."""
    csrf = log_in(client, GUARD)
    first = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True}).json()["plate"]
    day = first.split("-")[1]

    def earlier(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO stays (subject, plate, class, zone, billing, entered_at)"
            " VALUES (?, ?, 'car', 'main', 'temporary', ?)",
            (f"plate:无牌-{day}-999", f"无牌-{day}-999", to_db(site.gw.now())),
        )

    site.gw.on_worker(earlier).result(10)
    given = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True})
    ticket = given.json()["plate"]
    assert ticket == f"无牌-{day}-1000", given.text
    number = f"{day}-1000"
    assert ticket in _listed(client, number), f"searching {number!r} found {_listed(client, number)}"


def test_a_plate_searched_still_finds_the_car_and_no_ticket(client: TestClient) -> None:
    """A plate's piece, digits alone included, is searched as the plate grammar reads it."""
    csrf = log_in(client, GUARD)
    assert client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True}).status_code == 200
    assert client.post("/api/lanes/car-in/plate", headers=csrf, json={"plate": "苏E12345"}).status_code == 200
    assert _listed(client, "e123") == ["苏E12345"]
    assert _listed(client, "2345") == ["苏E12345"]
