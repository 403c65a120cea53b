"""At the exit the guard types the number read off the paper ticket (0303-01), as he types it on the
车位 page to find the car: the exit tells him it is not a Chinese licence plate and to type the
plate on the car, which has none."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import T0, TICKET_1, H, Site


@pytest.mark.parametrize("typed", ["0303-01", "0303 01", "０３０３－０１", "0303—01"])
def test_the_number_off_the_paper_ticket_finds_the_car_at_the_exit(
    make_gw: Callable[..., Gateway], typed: str
) -> None:
    """The paper ticket reads 无牌-0303-01; on the booth tablet's keyboard 无牌 takes the Chinese
    input method, the number does not. The 车位 page's 按车牌查找 finds the car by that number
    (tests/ui/test_cars_inside_find_ticket.py: "1123-01, what the guard reads off the paper
    ticket"), and docs/parking.md says a ticket typed wrong at the exit is "not told it is no plate"
    but refused naming the tickets inside. Typed at the exit, the same number is answered 422
    invalid_plate "'0303-01' is not a Chinese licence plate", fix "type the plate as it is on the
    car, e.g. 豫A12345": no ticket named, the car not held for its fee. It is the ticket (or at
    the least an unknown ticket naming those inside)."""
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_1
        s.now = T0 + 2 * H
        out = s.typed("car-out", {"plate": typed})
        answer = out.json()
        error = answer.get("error") or {}
        assert error.get("code") != "invalid_plate", f"{typed!r} at the exit: {out.text}"
        decided_on_it = answer.get("plate") == TICKET_1 and answer.get("reason") == "payment_due"
        named = error.get("code") == "unknown_ticket" and TICKET_1 in error.get("fix", "")
        assert decided_on_it or named, out.text


@pytest.mark.parametrize("typed", ["0303-1", "0303", "0303-0l"])
def test_a_number_typed_wrong_at_the_exit_is_told_the_tickets_inside(
    make_gw: Callable[..., Gateway], typed: str
) -> None:
    """Its counter typed short, left out, or with a letter for a digit: told to type the plate on
    the car (which has none), it is an unknown ticket, the fix naming the tickets inside; nothing
    decided or recorded."""
    with serving(make_gw()) as served:
        s = Site(*served)
        s.typed("car-in", {"no_plate": True})
        logged = s.read("SELECT count(*) FROM access_log")
        wrong = s.typed("car-out", {"plate": typed})
        error = wrong.json()["error"]
        assert (wrong.status_code, error["code"]) == (404, "unknown_ticket"), wrong.text
        assert TICKET_1 in error["fix"], error
        assert s.read("SELECT count(*) FROM access_log") == logged


def test_the_booth_finds_the_ticket_by_its_number(make_gw: Callable[..., Gateway]) -> None:
    """At the booth the driver hands over the paper ticket: its number typed finds the car's quote
    and stay, as the ticket does."""
    with serving(make_gw()) as served:
        s = Site(*served)
        s.typed("car-in", {"no_plate": True})
        s.now = T0 + 2 * H
        quote = s.client.get("/api/parking/quote", params={"plate": "0303-01"}, headers=s.auth)
        assert quote.status_code == 200, quote.text
        assert (quote.json()["plate"], quote.json()["due_fen"]) == (TICKET_1, 700)
        stays = s.client.get("/api/parking/stays", params={"plate": "0303 01"}, headers=s.auth).json()
        assert [st["plate"] for st in stays] == [TICKET_1], stays
