"""Two of one household's cars held at a card-only exit (review s38_l): 张三 (R1)'s second car
皖A22222 on its own card (B001 is taken by 皖A11111: it pays by the hour, shared_slot_second_car =
"temporary"), and a car let in on R1's door card that names no car. docs/parking.md: the guard
takes the fee "by its resident, resident_id; one of the three, as the quote names the car"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
M = timedelta(minutes=1)
DOOR = "0077001122"  # R1's door card, naming no car
CAR2 = "0088001122"  # R1's card of 皖A22222


def _tap(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, at, "reader"))


def test_fee_taken_by_resident_id_is_the_hold_the_quote_names(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    delta(
        gw,
        1,
        0,
        T0 - H,
        upsert=[
            {"kind": "card", "card": DOOR, "resident": "R1"},
            {"kind": "card", "card": CAR2, "resident": "R1", "plate": "皖A22222"},
        ],
    )
    assert show(gw, "car-in", "皖A11111", T0 - 30 * M).admitted  # on B001
    assert _tap(gw, "car-in", CAR2, T0).admitted  # the slot's second car: pays by the hour
    assert _tap(gw, "car-in", DOOR, T0 + 2 * H).admitted  # the door card: the resident alone
    car2 = _tap(gw, "car-out", CAR2, T0 + 3 * H)
    assert car2.reason == "payment_due", car2
    door = _tap(gw, "car-out", DOOR, T0 + 3 * H + M)
    assert door.reason == "payment_due", door
    assert door.fee_fen != car2.fee_fen, (door.fee_fen, car2.fee_fen)
    again = _tap(gw, "car-out", CAR2, T0 + 3 * H + 2 * M)  # the second car's card shown again
    assert again.reason == "payment_due", again
    quote = gw.parking.lane_quote(gw.conn, "car-out", T0 + 3 * H + 3 * M)
    assert quote is not None and quote["resident"] is not None, quote
    assert quote["due_fen"] == door.fee_fen, quote
    # The tablet sends the quote back as it is.
    take = gw.parking.pay_at_lane(
        "car-out",
        "",
        quote["due_fen"],
        "cash",
        "",
        "guard1",
        T0 + 3 * H + 4 * M,
        resident_id=quote["resident"]["id"],
    )
    ev = gw.decide_now(take)
    assert ev.admitted and ev.vehicle_id is None, ev
