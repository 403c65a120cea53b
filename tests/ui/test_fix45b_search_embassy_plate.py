"""The 车位 page's 按车牌查找 with the digits of an embassy car's plate (使224001)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gateway.store.occupancy import count_open_stays
from tests.ui.conftest import GUARD, Site, log_in


def _listed(client: TestClient, typed: str) -> list[str]:
    page = client.get("/occupancy", params={"plate": typed})
    assert page.status_code == 200, page.text
    return re.findall(r"<tr data-stay=\"\d+\">\s*<td><strong>([^<]*)</strong>", page.text)


def test_the_digits_of_an_embassy_plate_find_the_car_on_the_occupancy_page(client: TestClient) -> None:
    """An embassy car 使224001 is inside; the guard types its digits, 224001, into 按车牌查找 (使
    needs the Chinese input method). The page listed no car (有 0 辆): the six digits were read as
    the ticket 无牌-2240-01, which cannot exist (there is no month 22). It lists 使224001, as 2240
    does: the docs say the search takes a piece of the plate."""
    csrf = log_in(client, GUARD)
    typed = client.post("/api/lanes/car-in/plate", headers=csrf, json={"plate": "使224001"})
    assert typed.status_code == 200, typed.text
    assert _listed(client, "2240") == ["使224001"]
    assert _listed(client, "224001") == ["使224001"], (
        f"searching 224001 (the digits of 使224001) found {_listed(client, '224001')}"
    )


def test_digits_that_are_a_tickets_number_and_a_plates_piece_find_both_cars(
    client: TestClient, site: Site
) -> None:
    """Six digits can be both a ticket's number and an embassy plate's digits: 030301 off a paper
    ticket, and of 使030301. The page lists both cars, and counts both (the count past the 200
    shown)."""
    csrf = log_in(client, GUARD)
    given = client.post("/api/lanes/car-in/plate", headers=csrf, json={"no_plate": True})
    assert given.status_code == 200, given.text
    ticket = given.json()["plate"]
    digits = ticket.removeprefix("无牌-").replace("-", "")
    embassy = f"使{digits}"
    typed = client.post("/api/lanes/car-in/plate", headers=csrf, json={"plate": embassy})
    assert typed.status_code == 200, typed.text
    assert sorted(_listed(client, digits)) == sorted([ticket, embassy])
    counted = site.gw.on_worker(lambda c: count_open_stays(c, (ticket, digits))).result(10)
    assert counted == 2
    # Typed with its dash the number is the ticket only: no plate holds a dash.
    number = ticket.removeprefix("无牌-")
    assert _listed(client, number) == [ticket]
