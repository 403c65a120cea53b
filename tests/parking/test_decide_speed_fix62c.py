"""The shared spaces a car park counts as taken, read the cheaper way (store/lookup.py
_SHARED_OCCUPIED: the zone's open shared stays less the car's own, stop 62's bench), are the spaces
the one count over every open stay gave: the same cars let in and refused zone_full."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.core import LaneRules, Presented
from gateway.runtime.gateway import Gateway
from gateway.store.lookup import lookup
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show

# The count as it was asked before: every open shared stay of the zone's class but the car's own.
OTHERS_SHARED = """
SELECT count(*) FROM stays
WHERE exited_at IS NULL AND slot_id IS NULL AND zone = ? AND class = ? AND subject != ?
"""


def _stay(
    gw: Gateway,
    subject: str,
    *,
    cls: str = "car",
    zone: str | None = "main",
    slot: int | None = None,
    closed: bool = False,
) -> None:
    gw.conn.execute(
        "INSERT INTO stays (subject, plate, class, zone, slot_id, entered_at, exited_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (subject, None, cls, zone, slot, to_db(T0), to_db(T0) if closed else None),
    )


def _shared_taken(gw: Gateway, plate: str, lane: LaneRules) -> int:
    facts = lookup(gw.conn, Presented(lane.id, "plate", plate, 0.97, T0, "cam"), lane, gw.site.capacity)
    assert facts.zone is not None
    return facts.zone.shared_occupied


def test_each_car_is_told_the_spaces_the_others_hold_as_one_count_told_it(gw: Gateway) -> None:
    slot = gw.conn.execute("SELECT id FROM slots ORDER BY id LIMIT 1").fetchone()[0]
    _stay(gw, "plate:苏E00001")
    _stay(gw, "plate:苏E00002")
    _stay(gw, "plate:苏E00002")  # two open stays of one car (a missed exit left): neither is another's
    _stay(gw, "plate:苏E00003", closed=True)
    _stay(gw, "plate:苏E00004", slot=slot)  # on a fixed slot, not a shared space
    _stay(gw, "plate:苏E00005", cls="motorcycle")
    _stay(gw, "plate:苏E00006", zone="other")
    _stay(gw, "plate:苏E00007", zone=None)
    lane = gw.site.lanes["car-in"]
    plates = ["苏E00001", "苏E00002", "苏E00003", "苏E00004", "苏E00005", "苏E00006", "苏E00007", "苏E09999"]
    for plate in plates:
        told = _shared_taken(gw, plate, lane)
        assert told == gw.conn.execute(OTHERS_SHARED, ("main", "car", f"plate:{plate}")).fetchone()[0], plate
    assert [_shared_taken(gw, p, lane) for p in plates] == [2, 1, 3, 3, 3, 3, 3, 3]


@pytest.mark.parametrize("capacity", [3, 4])
def test_a_full_zone_lets_a_car_back_into_its_own_space_and_refuses_a_stranger(
    make_gw: Callable[..., Gateway], capacity: int
) -> None:
    gw = make_gw(capacity=capacity)  # 2 fixed slots, the rest shared
    shared = capacity - 2
    for n in range(shared):
        assert show(gw, "car-in", f"苏E0000{n}", T0).admitted
    assert show(gw, "car-in", "苏E09999", T0).reason == "zone_full"
    again = show(gw, "car-in", "苏E00000", T0.replace(hour=12))  # its exit read was missed
    assert again.admitted and "already_inside" in again.flags
    assert show(gw, "car-in", "苏E09998", T0.replace(hour=12)).reason == "zone_full"
