"""Digits typed at a car lane that are no ticket's number (there is no month 22): the plate's to read."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from gateway.core.tickets import as_ticket_or_number
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.parking.test_no_plate_car import Site


@pytest.fixture
def site(make_gw: Callable[..., Gateway]) -> Iterator[Site]:
    with serving(make_gw()) as served:
        yield Site(*served)


@pytest.mark.parametrize("digits", ["224001", "2240-01", "1301 01", "0230-01", "0000-01", "123456"])
def test_six_digits_that_are_no_tickets_number_are_told_to_type_the_plate(site: Site, digits: str) -> None:
    """An embassy car (使224001) at the entrance; the guard types its digits, 224001, without the 使
    the Chinese input method gives. The answer was 422 ticket_at_entrance, "无牌-2240-01 is a
    ticket ... tap 无牌车 No plate": a ticket that cannot exist (month 22), and a fix that gives a
    car with a plate a no-plate ticket. As for 12345 (corrections._ticket_typed: "digits that are
    no ticket's number are left to the plate's check"), it is told to type the plate
    (invalid_plate), and nothing is recorded."""
    out = site.typed("car-in", {"plate": digits})
    error = out.json().get("error") or {}
    assert (out.status_code, error.get("code")) == (422, "invalid_plate"), (
        f"{digits} at the entrance: {out.status_code} {error.get('code')}: {error.get('message')} / "
        f"fix: {error.get('fix')}"
    )
    assert "无牌车" not in error["fix"], error
    assert site.read("SELECT count(*) FROM access_log") == [(0,)]


@pytest.mark.parametrize("number", ["0229-01", "1231 05", "0101-1000"])
def test_a_number_of_any_day_of_the_year_is_still_a_ticket_at_the_entrance(site: Site, number: str) -> None:
    """A ticket has no year: 29 February's is a ticket's number in any year, and so told to tap
    无牌车 at an entrance."""
    out = site.typed("car-in", {"plate": number})
    assert (out.status_code, out.json()["error"]["code"]) == (422, "ticket_at_entrance"), out.text


@pytest.mark.parametrize(
    ("typed", "ticket"),
    [
        ("0303-07", "无牌-0303-07"),
        ("030307", "无牌-0303-07"),
        ("0229 01", "无牌-0229-01"),
        ("1231-1000", "无牌-1231-1000"),
        ("0131-01", "无牌-0131-01"),
        ("224001", None),
        ("0230-01", None),
        ("0431-01", None),
        ("1301-01", None),
        ("0003-01", None),
        ("0100-01", None),
        ("无牌-0303-07", "无牌-0303-07"),
    ],
)
def test_a_number_is_a_tickets_only_where_it_begins_with_a_month_day(typed: str, ticket: str | None) -> None:
    assert as_ticket_or_number(typed) == ticket
