"""A delta from the centre handing slots to other cars while the slots' cars are parked: one turn of
the decision worker (docs/mqtt.md, "Never in the lanes' way": one transaction, up to 5,000 changes),
which every card and plate at a lane waits for. Its work per slot must not grow with the cars the
delta moves into the shared spaces: each slot's handover looked at every one of them, and a delta of
5,000 slots held a resident's card at the door for over 2 s (review 59f). Counted in SQLite's steps,
not timed (as tests/parking/test_clock_fix45b_redate_work.py does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.slot_handover import _HANDOVER_CANDIDATE
from gateway.timefmt import to_db
from tests.conftest import query_plan
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)


def _plate(i: int) -> str:
    return f"皖H{i:05d}"


def _slot(i: int, car: int) -> dict[str, Any]:
    return {
        "kind": "slot",
        "zone": "main",
        "number": f"H{i:05d}",
        "resident": f"H{car}",
        "plates": [_plate(car)],
    }


def _slots_handed_on_steps(gw: Gateway, n: int) -> int:
    """SQLite's steps in applying a delta that gives each of `n` slots, its car parked on it, to the
    next household's car (the year's slot leases renewed)."""
    people: list[dict[str, Any]] = []
    for i in range(n + 1):
        people += [
            {"kind": "resident", "ref": f"H{i}", "building": "9栋", "unit": "1单元", "name": "张三"},
            {"kind": "vehicle", "plate": _plate(i), "resident": f"H{i}"},
        ]
    delta(gw, 1, 0, T0, upsert=people + [_slot(i, i) for i in range(n)])
    with gw.conn:  # evening: each slot's car parked on it
        gw.conn.execute(
            "INSERT INTO stays (subject, plate, vehicle_id, class, zone, slot_id, billing, entered_at) "
            "SELECT 'resident:' || v.resident_id, v.plate, v.id, 'car', 'main', sv.slot_id, 'slot', ? "
            "FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id JOIN vehicles v ON v.id = sv.vehicle_id "
            "WHERE s.number LIKE 'H%'",
            (to_db(T0),),
        )
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    gw.conn.set_progress_handler(count, 1)
    try:
        delta(gw, 2, 1, T0 + H, upsert=[_slot(i, i + 1) for i in range(n)])
    finally:
        gw.conn.set_progress_handler(None, 0)
    return steps[0]


def _where_parked(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT t.plate, s.number FROM stays t LEFT JOIN slots s ON s.id = t.slot_id "
        "WHERE t.exited_at IS NULL AND t.plate LIKE '皖H%'"
    )
    return dict(rows.fetchall())


def test_each_car_parked_is_on_the_slot_the_delta_gives_it(make_gw: Callable[..., Gateway]) -> None:
    """What the change does, kept: every car parked is on the slot now listing it (its neighbour's,
    handed over at once), and the first household's car, listed on none now, in the shared spaces."""
    gw = make_gw(capacity=500)
    _slots_handed_on_steps(gw, 30)
    assert _where_parked(gw) == {_plate(0): None} | {_plate(i + 1): f"H{i:05d}" for i in range(29)}
    handed = gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'stay' AND payload LIKE '%handover%'")
    assert handed.fetchone()[0] == 29


def test_a_delta_handing_slots_on_costs_the_same_per_slot_however_many(
    make_gw: Callable[..., Gateway],
) -> None:
    """Four times the slots (and four times the cars moved into the shared spaces) cost about four
    times the work, not sixteen: each slot's handover reads the slot's own cars, not every car in
    the zone's shared spaces. Steps per slot were 1,410 for 100 slots and 2,906 for 400, about 920
    for both now; 5,000 slots took 2.2 s, 0.24 s now."""
    few = _slots_handed_on_steps(make_gw(capacity=2000), 100)
    many = _slots_handed_on_steps(make_gw(capacity=2000), 400)
    assert many / 400 < 1.3 * few / 100, (
        f"steps per slot: {few / 100:.0f} for 100 slots, {many / 400:.0f} for 400"
    )


def test_a_handover_reads_the_slots_cars_not_the_shared_spaces(make_gw: Callable[..., Gateway]) -> None:
    plan = query_plan(make_gw().conn, _HANDOVER_CANDIDATE, 7, 0)
    assert "stays_open_vehicle" in plan and "stays_open_shared" not in plan, plan
