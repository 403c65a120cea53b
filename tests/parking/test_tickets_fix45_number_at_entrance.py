"""The number off a paper ticket (0303-01) typed at an entrance."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import Site


@pytest.fixture
def site(make_gw: Callable[..., Gateway]) -> Iterator[Site]:
    with serving(make_gw()) as served:
        s = Site(*served)
        assert s.typed("car-in", {"no_plate": True}).status_code == 200
        yield s


@pytest.mark.parametrize("number", ["0303-01", "0303 01", "030301", "０３０３－０１", "0303—01"])
def test_a_ticket_number_typed_at_the_entrance_is_told_to_tap_no_plate(site: Site, number: str) -> None:
    """A driver back with this morning's paper ticket: the guard types its number, 0303-01, at the
    entrance and is told "'0303-01' is not a Chinese licence plate ... type the plate as it is on the
    car" (invalid_plate), for a car that has none. It is a ticket typed at an entrance: 422
    ticket_at_entrance, "tap 无牌车 No plate", as 无牌-0303-01 typed there is told (docs/guard-app.md),
    and nothing is recorded."""
    whole = site.typed("car-in", {"plate": "无牌-0303-01"}).json()["error"]
    assert whole["code"] == "ticket_at_entrance", whole
    out = site.typed("car-in", {"plate": number})
    error = out.json().get("error") or {}
    assert (out.status_code, error.get("code")) == (422, "ticket_at_entrance"), out.text
    assert "无牌车" in error["fix"], out.text
    assert site.read("SELECT count(*) FROM access_log") == [(1,)], "only the first car's entry is recorded"


def test_digits_typed_at_the_entrance_that_are_no_ticket_are_told_to_type_the_plate(site: Site) -> None:
    """A plate typed without its province (12345) is no ticket's number: the guard is told to type
    the plate as it is on the car, not to tap 无牌车."""
    out = site.typed("car-in", {"plate": "12345"})
    assert (out.status_code, out.json()["error"]["code"]) == (422, "invalid_plate"), out.text
