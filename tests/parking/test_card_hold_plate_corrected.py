"""A car held to pay on its card at a card-only exit whose plate the office corrects while it waits
(PATCH /api/vehicles/{id} {"plate"}: the car keeps its stay, cards and slot). It is still the car
held, by the plate it has now: the guard's quote names the corrected plate and the fee of its first
tap, the fee taken with that plate lets it out, and its card tapped again asks that fee. Keyed by
the plate it was held on, the quote named the old plate with nothing owed, paying by the new one
was refused `fee_changed`, and the next tap began a second hold at a higher fee."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.test_card_held_at_exit import CARD, SECOND_CAR, _held_on_its_card, _quote

M = timedelta(minutes=1)
FIXED = "皖A22228"  # the plate on the car; SECOND_CAR was typed wrong


def _correct_the_plate(gw: Gateway, client: TestClient, auth: dict[str, str]) -> None:
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (SECOND_CAR,)).fetchone()[0]
    r = client.patch(f"/api/vehicles/{vid}", headers=auth, json={"plate": FIXED})
    assert r.status_code in (200, 204), r.text


def test_quote_after_plate_corrected_while_held_on_card(make_gw: Any) -> None:
    """The guard's "Take the fee" names the car by its corrected plate, with its stay and the fee
    the lane display asked, and taking that fee lets the car out."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        _correct_the_plate(gw, client, auth)
        quote = _quote(client, auth)
        assert (quote["plate"], quote["due_fen"]) == (FIXED, held.fee_fen), quote
        assert quote["stay_id"] is not None, quote
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": quote["plate"], "amount_fen": quote["due_fen"], "method": "cash"},
        )
        assert paid.status_code == 200 and paid.json()["admitted"], paid.text


def test_card_tapped_again_after_plate_corrected_is_one_hold(make_gw: Any) -> None:
    """The driver taps the card again 20 minutes later (past the hour): the display asks the fee of
    the first tap, not a larger one, and the quote still names that fee."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        _correct_the_plate(gw, client, auth)
        p = Presented("car-out", "card", CARD, 1.0, gw.now() + 20 * M, "reader")
        again = gw.on_worker(lambda _: gw.handle(p)).result(10)
        assert (again.reason, again.fee_fen) == ("payment_due", held.fee_fen), again
        quote = _quote(client, auth)
        assert (quote["plate"], quote["due_fen"]) == (FIXED, held.fee_fen), quote
