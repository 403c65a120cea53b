"""A plate a guard types with spaces and dots between its parts (苏 A · 1234 应急, as it reads on
the car), in the fee quote, the cars-inside search and the fee (review 54, special plates): the
plate check takes it as 苏A1234应急, but these fields stopped at 12 characters first, and the guard
read a generic 'the request is not valid' instead of his car's fee."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, Site, bearer, log_in

SPACED = "苏 A · 1234 应急"  # 13 characters: the longest plate with its parts apart


def test_a_plate_typed_with_its_parts_apart_is_quoted_and_searched(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    quote = client.get("/api/parking/quote", params={"plate": SPACED}, headers=guard)
    assert quote.status_code == 200, quote.text
    assert quote.json()["plate"] == "苏A1234应急"
    inside = client.get("/api/parking/stays", params={"plate": SPACED}, headers=guard)
    assert inside.status_code == 200, inside.text
    log_in(client, GUARD)
    page = client.get("/occupancy", params={"plate": SPACED}, follow_redirects=False)
    assert page.status_code == 200, page.text


def test_a_fee_for_a_plate_typed_with_its_parts_apart_is_checked_as_a_plate(
    client: TestClient, site: Site
) -> None:
    """No car inside under that plate: the fee is refused for what it is, not as a bad request."""
    body = {"plate": SPACED, "amount_fen": 500, "method": "cash"}
    paid = client.post("/api/parking/prepay", json=body, headers=bearer(site.guard_token))
    assert paid.status_code != 404, paid.text  # the route, not an unknown address
    assert paid.json()["error"]["code"] != "invalid_request", paid.text
