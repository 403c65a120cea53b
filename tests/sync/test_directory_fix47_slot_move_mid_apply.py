"""A resident's car moved from one fixed slot to another in the centre's daily snapshot, arriving at
the lane while the snapshot's steps run (docs/mqtt.md, *Never in the lanes' way*: "a lane sees each
entry either as it was or as the snapshot has it")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from snapshot_steps import register, stage_snapshot

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_snapshot_steps, total_rows
from gateway.sync.staging import STAGING_NAME
from tests.parking.conftest import T0, make_gw, parking_toml, seed, show  # noqa: F401  (fixture)

CAR = "皖B33333"  # R2's, on slot B002 (tests/parking/conftest.py seed)
SPARE = [{"kind": "slot", "zone": "main", "number": f"X{i:03d}"} for i in range(25)]
MOVED = [
    {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": ["皖A11111", "皖A22222"]},
    {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": []},
    *SPARE,
    {"kind": "slot", "zone": "main", "number": "B003", "resident": "R2", "plates": [CAR]},
]


def test_a_car_moved_to_another_slot_is_not_refused_while_the_snapshot_is_applied(tmp_path: Path) -> None:
    """Policy no_slot = "refuse" (the example estate's). The centre's snapshot moves R2's car from
    B002 to B003; the two slots fall in different apply steps (steps are at least 20 rows). R2
    drives in between those steps: the car is on the register all along and had a slot before and
    after, so it comes in as the resident's, free on a slot. It was refused no_slot at the barrier."""
    text = parking_toml(tmp_path / "data", capacity=40).replace('no_slot = "temporary"', 'no_slot = "refuse"')
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        meta = stage_snapshot(gw, 1, register(MOVED))
        assert meta["status"] == "staged", meta
        counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
        b002_done = counts["residents"] + counts["vehicles"] + counts["cards"] + 2
        done, seen = 0, []
        while done < total_rows(counts):
            done, _, _ = apply_snapshot_steps(
                gw.conn, staging, 1, counts, done, 20, T0, lambda: False, lambda r, _: r
            )
            if b002_done <= done < b002_done + len(SPARE) and not seen:
                seen.append(show(gw, "car-in", CAR, T0 + timedelta(seconds=1)))
        assert seen, "no step boundary fell between B002 and B003"
        entry = seen[0]
        assert (entry.admitted, entry.reason, entry.billing) == (True, "resident", "slot"), (
            f"R2's car arriving mid-snapshot was {entry.reason}/{entry.billing} (admitted={entry.admitted})"
        )
        on = gw.conn.execute(
            "SELECT sl.number FROM stays s JOIN slots sl ON sl.id = s.slot_id "
            "WHERE s.plate = ? AND s.exited_at IS NULL",
            (CAR,),
        ).fetchone()
        assert on == ("B003",), f"after the snapshot R2's car is on {on}"
    finally:
        gw.conn.close()


def test_two_households_swapping_slots_mid_apply_keep_one_car_a_slot(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The snapshot swaps B001 (R1: A, B) and B002 (R2: C), one row a step, while A is parked on
    B001. For a moment a car is on both its old and its new slot's list: C, coming in then, parks
    free on B002 (its slot before and after); B, coming in once both slots list it, is R1's second
    car and pays, as before and after. Each slot holds one car throughout, and once the snapshot is
    in each car is on its new slot: C on B001, A on B002, B paying in the shared spaces."""
    gw, (a, b, c) = make_gw(), ("皖A11111", "皖A22222", CAR)
    swapped = [
        {"kind": "slot", "zone": "main", "number": "B001", "resident": "R2", "plates": [c]},
        *SPARE[:3],
        {"kind": "slot", "zone": "main", "number": "B002", "resident": "R1", "plates": [a, b]},
    ]
    assert show(gw, "car-in", a, T0).billing == "slot"
    meta = stage_snapshot(gw, 1, register(swapped))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    first_slot = counts["residents"] + counts["vehicles"] + counts["cards"]
    arrivals = {first_slot + 1: c, first_slot + len(swapped): b}
    entries, done = {}, 0
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 1, counts, done, 1, T0, lambda: False, lambda r, _: r
        )
        if done in arrivals:
            entries[arrivals[done]] = show(gw, "car-in", arrivals[done], T0 + timedelta(minutes=done))
        assert _most_cars_on_one_slot(gw) == 1, f"two cars on one slot after row {done}"
    assert {p: (e.reason, e.billing, "shared_slot" in e.flags) for p, e in entries.items()} == {
        c: ("resident", "slot", False),
        b: ("temporary", "temporary", True),
    }
    assert _slots_of_cars_inside(gw) == {a: "B002", b: None, c: "B001"}


def _most_cars_on_one_slot(gw: Gateway) -> int:
    sql = """SELECT max(n) FROM (SELECT count(*) AS n FROM stays
        WHERE exited_at IS NULL AND slot_id IS NOT NULL GROUP BY slot_id)"""
    return int(gw.conn.execute(sql).fetchone()[0] or 0)


def _slots_of_cars_inside(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())
