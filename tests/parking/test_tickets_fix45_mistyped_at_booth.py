"""A ticket typed wrong at the booth (its counter short, or left out), and 无牌车 typed there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import T0, TICKET_1, H, Site


def _asked(s: Site, where: str, typed: str) -> Any:
    """What the booth is told for the car typed: its quote, its prepay, the search of the stays."""
    if where == "quote":
        return s.client.get("/api/parking/quote", params={"plate": typed}, headers=s.auth)
    if where == "prepay":
        body = {"plate": typed, "amount_fen": 500, "method": "cash"}
        return s.client.post("/api/parking/prepay", json=body, headers=s.auth)
    return s.client.get("/api/parking/stays", params={"plate": typed}, headers=s.auth)


@pytest.fixture
def site(make_gw: Callable[..., Gateway]) -> Iterator[Site]:
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.typed("car-in", {"no_plate": True}).json()["plate"] == TICKET_1
        s.now = T0 + 2 * H
        yield s


@pytest.mark.parametrize("where", ["quote", "prepay", "stays"])
@pytest.mark.parametrize("typed", ["0303-1", "无牌-0303", "0303-0l"])
def test_a_ticket_typed_wrong_at_the_booth_is_not_told_to_type_a_plate(
    site: Site, where: str, typed: str
) -> None:
    """The driver of a car with no plate pays at the booth; the guard types the ticket with its
    counter short (0303-1), left out (无牌-0303) or a letter for a digit (0303-0l). The quote
    answered 422 invalid_plate "'0303-1' is not a Chinese licence plate", fix "type the plate as it
    is written, e.g. 皖A12345": the car has none. As at the exit (docs/parking.md: a ticket typed
    wrong is "not told it is no plate"), it is refused as a ticket, naming the tickets inside."""
    out = _asked(site, where, typed)
    error = out.json().get("error") or {}
    assert (out.status_code, error.get("code")) == (404, "unknown_ticket"), (
        f"{where} on {typed!r}: {out.text}"
    )
    assert TICKET_1 in error["fix"], out.text
    assert not site.read("SELECT 1 FROM payments"), "nothing is taken on a ticket refused"


@pytest.mark.parametrize("where", ["quote", "prepay"])
def test_no_plate_typed_at_the_booth_is_asked_for_its_ticket(site: Site, where: str) -> None:
    """The guard types 无牌车 at the booth for the car, as the plate dialog takes it: it was told
    "'无牌车' is not a Chinese licence plate", fix "type the plate as it is written". As at an exit
    (ticket_needed), it is asked for the car's ticket, naming those inside."""
    out = _asked(site, where, "无牌车")
    error = out.json().get("error") or {}
    assert (out.status_code, error.get("code")) == (422, "ticket_needed"), out.text
    assert TICKET_1 in error["fix"], out.text


@pytest.mark.parametrize("where", ["quote", "stays"])
def test_a_plate_typed_wrong_at_the_booth_is_still_told_to_type_the_plate(site: Site, where: str) -> None:
    """A plate mistyped (a digit short) is a plate, not a ticket: told to type it as written."""
    out = _asked(site, where, "苏E1234")
    assert (out.status_code, out.json()["error"]["code"]) == (422, "invalid_plate"), out.text
