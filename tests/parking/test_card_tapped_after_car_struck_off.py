"""A car held to pay on its card at a card-only exit is struck off the register while it waits
(the centre's delete; the card stays with the resident, naming no car now). docs/parking.md: a car
struck off after it was held is still the car held, and tapped again as it waits it is asked the
fee of its first tap. Taken for the resident alone (a card naming no car), it was let out free,
its fee never taken, its stay left open and the lane still quoting its hold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gateway.core import Presented
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_card_held_at_exit import CARD, SECOND_CAR, _held_on_its_card, _quote

M = timedelta(minutes=1)


def test_card_tapped_again_after_the_car_is_struck_off_while_held_is_asked_its_fee(make_gw: Any) -> None:
    """The driver taps the card again after the centre struck the car off: the lane asks the fee
    of the first tap, the car stays held and the guard's quote still names it."""
    gw = make_gw()
    with _held_on_its_card(gw) as (client, auth, held):
        delta(gw, 2, 1, gw.now(), delete=[{"kind": "vehicle", "plate": SECOND_CAR}])
        p = Presented("car-out", "card", CARD, 1.0, gw.now() + M, "reader")
        again = gw.on_worker(lambda _: gw.handle(p)).result(10)
        still_open = gw.conn.execute(
            "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL", (SECOND_CAR,)
        ).fetchone()[0]
        quote = _quote(client, auth)
    assert (again.admitted, again.reason, again.fee_fen) == (False, "payment_due", held.fee_fen), (
        f"the held car left free on its card ({again.reason}, {again.fee_fen} fen)"
    )
    assert still_open == 1
    assert (quote["plate"], quote["due_fen"]) == (SECOND_CAR, held.fee_fen), quote
