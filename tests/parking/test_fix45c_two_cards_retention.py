"""A household's two cards, both on the owner's record (one resident: one presence), and retention
(docs/parking.md, *Nobody is kept in*, *Retention*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.registry import delete_resident
from tests.parking.conftest import DOOR_OUT, T0
from tests.parking.test_operations import ops

D = timedelta(days=1)
HIS, HERS = "0000000001", "0000000003"
NEIGHBOUR = "0000000002"
LATER = T0 + 200 * D


def _at(gw: Gateway, lane: str, card: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, at, f"{lane}-reader"))


def test_the_husband_deleted_after_half_a_year_at_home_is_let_out_on_his_own_card(
    make_gw: Callable[..., Gateway],
) -> None:
    """张三's household (R1) holds two cards: his and his wife's. He walks in on his on 3 March and
    stays at home 200 days; she walks in on hers on 13 March. Retention keeps only the household's
    latest entry on foot (hers), deleting his; when the household is deleted in September he taps
    his card at the exit door and it stays shut (`unknown`): nothing was remembered for his card.
    He should be let out as resident 1, as his wife is on hers."""
    gw = make_gw(extra=DOOR_OUT)
    for card, rid in ((HIS, 1), (HERS, 1), (NEIGHBOUR, 2)):
        gw.conn.execute(
            "INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, ?)", (card, rid)
        )
    assert _at(gw, "door", HIS, T0).reason == "resident"
    assert _at(gw, "door", HERS, T0 + 10 * D).reason == "resident"
    _at(gw, "door", NEIGHBOUR, LATER - D)
    ops(gw).retention(LATER)  # access_records_days = 180
    delete_resident(gw.conn, LATER, "admin", 1)
    hers = _at(gw, "door-out", HERS, LATER + timedelta(minutes=20))
    his = _at(gw, "door-out", HIS, LATER + timedelta(minutes=30))
    assert (hers.admitted, hers.reason) == (True, "resident")
    assert (his.admitted, his.reason, his.holder_id) == (True, "resident", 1), (
        f"张三, deleted with his household after 200 days at home, taps his own card at the exit "
        f"door: {his.reason}, admitted={his.admitted} (retention deleted his card's entry on foot, "
        "keeping only his wife's)"
    )
