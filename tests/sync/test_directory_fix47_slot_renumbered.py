"""The centre renumbers a fixed slot (B001 no longer sent, B101 sent for the same household and
cars) while the household's first car is parked on it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from snapshot_steps import register, snapshot

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta

A, B = "皖A11111", "皖A22222"  # R1's two cars, on slot B001 (tests/parking/conftest.py seed)
B101 = {"kind": "slot", "zone": "main", "number": "B101", "resident": "R1", "plates": [A, B]}
B002 = {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": ["皖B33333"]}


def _by_delta(gw: Gateway) -> None:
    b001 = {"kind": "slot", "zone": "main", "number": "B001"}
    delta(gw, 1, 0, T0 + timedelta(hours=1), upsert=[B101], delete=[b001])


def _by_snapshot(gw: Gateway) -> None:
    snapshot(gw, 1, register([B101, B002]), T0 + timedelta(hours=1))


def _slots_of_cars_inside(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


@pytest.mark.parametrize("renumber", [_by_delta, _by_snapshot])
def test_slot_renumbered_by_the_centre_keeps_the_parked_car_on_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
    renumber: Callable[[Gateway], None],
) -> None:
    """R1's car A is parked free on B001; the centre replaces B001 by B101 with R1's two cars. A
    car that came in free on its slot, moved off it, and that a slot lists again is put back on it
    (docs/parking.md, *A slot handed on*), so R1's second car B is the slot's second car and pays.
    It was left in the shared spaces, B101 read free, and B drove in free onto it: one slot, two
    cars inside, neither paying."""
    gw = make_gw()
    assert show(gw, "car-in", A, T0).billing == "slot"
    renumber(gw)
    assert _slots_of_cars_inside(gw) == {A: "B101"}
    second = show(gw, "car-in", B, T0 + timedelta(hours=2))
    assert (second.billing, "shared_slot" in second.flags) == ("temporary", True), (
        f"B came in as {second.reason}/{second.billing} flags {second.flags}"
    )
