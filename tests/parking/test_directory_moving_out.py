"""A household that moves out in a delta from the central server takes its cards with it."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta, stage_delta

CARD = "0022334455"
CAR = "皖B33333"  # R2's car in the seeded register


def _give_r2_a_card_for_its_car(gw: Gateway) -> None:
    card = {"kind": "card", "card": CARD, "resident": "R2", "plate": CAR}
    delta(gw, 1, 0, T0 - timedelta(hours=2), upsert=[card])


def test_a_household_moving_out_and_selling_its_car_to_a_neighbour_is_one_delta(gw: Gateway) -> None:
    """R2 (car 皖B33333 and a card that names it) moves out and sells the car to R1. The centre
    sends that as one delta: the car upserted for R1, resident R2 deleted (its cards go with it).
    Nothing of R2 is left to open for R1's car, so the delta applies; it was refused whole ("move
    the card or clear its plate"), the gateway asked for a snapshot and the car stayed R2's."""
    _give_r2_a_card_for_its_car(gw)
    delta(
        gw,
        2,
        1,
        T0 - timedelta(hours=1),
        upsert=[{"kind": "vehicle", "plate": CAR, "resident": "R1"}],
        delete=[{"kind": "resident", "ref": "R2"}],
    )
    owner = gw.conn.execute(
        "SELECT r.ref FROM vehicles v JOIN residents r ON r.id = v.resident_id WHERE v.plate = ?", (CAR,)
    ).fetchone()
    assert owner == ("R1",)
    assert gw.conn.execute("SELECT 1 FROM credentials WHERE value = ?", (CARD,)).fetchone() is None


def test_selling_the_car_while_the_seller_stays_still_asks_to_move_their_card(gw: Gateway) -> None:
    """R2 sells the car to R1 but stays: R2's card still names the car, so the delta that leaves
    the card as it is would let R2's card open the barrier for R1's car; it is refused."""
    _give_r2_a_card_for_its_car(gw)
    meta = stage_delta(gw, 2, 1, upsert=[{"kind": "vehicle", "plate": CAR, "resident": "R1"}])
    assert meta["status"] == "rejected"
    assert any(CARD in p and "move the card" in p for p in meta["problems"]), meta["problems"]
