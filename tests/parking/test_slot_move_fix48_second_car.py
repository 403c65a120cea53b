"""R1's household (one slot B001, two cars A and B: 一位多车) while the centre's snapshot or the
office's stepped import moves its slot: A is parked on B001, so B comes in as the slot's second car
and pays, before, during and after the change (docs/parking.md, *A slot handed on*; docs/mqtt.md,
*Never in the lanes' way*; README, *Large imports and the lanes*)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.sync.apply import apply_snapshot_steps, total_rows
from gateway.sync.staging import STAGING_NAME
from tests.conftest import write_csv
from tests.parking.conftest import T0, show
from tests.sync.snapshot_steps import register, stage_snapshot

A, B, C = "皖A11111", "皖A22222", "皖B33333"  # R1's two cars on B001, R2's car on B002 (seed)
B_LEAVES = T0 + timedelta(hours=5)


def _slot(number: str, resident: str, *plates: str) -> dict[str, Any]:
    return {"kind": "slot", "zone": "main", "number": number, "resident": resident, "plates": list(plates)}


SPARE = [{"kind": "slot", "zone": "main", "number": f"X{i:03d}"} for i in range(2)]
RENUMBERED = [_slot("B101", "R1", A, B), _slot("B002", "R2", C)]  # B001 withdrawn
SWAPPED = [_slot("B001", "R2", C), *SPARE, _slot("B002", "R1", A, B)]  # two rows apart


def _owed_by_second_car(make_gw: Callable[..., Gateway]) -> int:
    """What B pays for the same stay with nothing changed: it is B001's second car."""
    control = make_gw()
    show(control, "car-in", A, T0)
    entry = show(control, "car-in", B, T0 + timedelta(minutes=10))
    assert (entry.billing, "shared_slot" in entry.flags) == ("temporary", True)
    owed = int(show(control, "car-out", B, B_LEAVES).fee_fen or 0)
    assert owed > 0
    return owed


def _second_car_mid_snapshot(gw: Gateway, slots: list[dict[str, Any]], after_slot_rows: int) -> AccessEvent:
    """A parked on B001; the snapshot applied one row a step; B comes in once `after_slot_rows`
    slot rows are in; the snapshot finishes."""
    assert show(gw, "car-in", A, T0).billing == "slot"
    meta = stage_snapshot(gw, 1, register(slots))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    arrive_at = counts["residents"] + counts["vehicles"] + counts["cards"] + after_slot_rows
    done, seen = 0, list[AccessEvent]()
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 1, counts, done, 1, T0 + timedelta(minutes=5), lambda: False, lambda r, _: r
        )
        if done == arrive_at:
            seen.append(show(gw, "car-in", B, T0 + timedelta(minutes=10)))
    assert seen, "no step boundary there"
    return seen[0]


@pytest.mark.parametrize("slots", [RENUMBERED, SWAPPED], ids=["renumbered", "swapped"])
def test_second_car_arriving_mid_snapshot_pays_as_before_and_after(
    make_gw: Callable[..., Gateway], slots: list[dict[str, Any]]
) -> None:
    """The centre renumbers R1's slot (or swaps it with R2's) and B arrives after the first slot
    row's step. B001 still listed B, and A had been moved off it: B came in free on B001, stayed
    free (moved to the shared spaces "still leaving free") and paid nothing for 5 hours."""
    owed = _owed_by_second_car(make_gw)
    gw = make_gw()
    entry = _second_car_mid_snapshot(gw, slots, after_slot_rows=1)
    fee = int(show(gw, "car-out", B, B_LEAVES).fee_fen or 0)
    assert (entry.billing, "shared_slot" in entry.flags, fee) == ("temporary", True, owed), (
        f"R1's second car came in mid-snapshot as {entry.reason}/{entry.billing} flags={entry.flags} "
        f"and was asked {fee} fen at the exit (owes {owed})"
    )


def test_second_car_arriving_mid_import_pays_as_before_and_after(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """The office's file empties B001 and gives B101 R1's two cars, one row a step; B arrives
    between the two rows. It came in free on B001 (its row moved A off but B001 still listed B
    until the second pass) and left paying nothing."""
    owed = _owed_by_second_car(make_gw)
    gw = make_gw()
    assert show(gw, "car-in", A, T0).billing == "slot"
    text = f"zone,number,resident_ref,plates\nmain,B001,R1,\nmain,B101,R1,{A};{B}\n"
    seen: list[AccessEvent] = []

    def pause() -> None:
        if not seen:  # B001's row is in, B101's is not
            seen.append(show(gw, "car-in", B, T0 + timedelta(minutes=10)))

    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=1, MIN_STEP_ROWS=1, MAX_STEP_ROWS=1):
        import_csv(gw.site.config, [write_csv(tmp_path / "renumbered.csv", text)], pause=pause)
    assert seen, "no pause between the rows"
    fee = int(show(gw, "car-out", B, B_LEAVES).fee_fen or 0)
    assert (seen[0].billing, "shared_slot" in seen[0].flags, fee) == ("temporary", True, owed), (
        f"R1's second car came in mid-import as {seen[0].reason}/{seen[0].billing} flags={seen[0].flags} "
        f"and was asked {fee} fen at the exit (owes {owed})"
    )


# The whole change at 1, 2, 3 and 100 rows a step, B coming in (and out again, within its free
# minutes) at every step boundary: B is R1's second car throughout, no slot ever holds two cars, R1
# never has more cars free than it has slots, and once the change is in each car parked is on its
# new slot.
D = "皖C44444"  # R3's, put on a third slot B003 for the rotation
ROTATED = [_slot("B001", "R2", C), *SPARE, _slot("B002", "R3", D), _slot("B003", "R1", A, B)]
C_MOVED = [_slot("B001", "R1", A, B), *SPARE, _slot("B003", "R2", C)]  # B002 withdrawn
Y = "皖E77777"  # a new household's car, on no slot before
HANDED = [  # B001 to R5's Y, which has no other slot (A moves off B001 in B001's step), R1 to B003
    {"kind": "resident", "ref": "R5", "building": "8栋", "unit": "1单元", "name": "孙八"},
    {"kind": "vehicle", "plate": Y, "resident": "R5"},
    _slot("B001", "R5", Y),
    *SPARE,
    _slot("B003", "R1", A, B),
]
SNAPSHOTS = {  # name: (slots, cars parked before it besides A, where each car parked is after it)
    "renumbered": (RENUMBERED, (), {A: "B101"}),
    "swapped": (SWAPPED, (), {A: "B002"}),
    "swapped, both parked": (SWAPPED, (C,), {A: "B002", C: "B001"}),
    "rotated": (ROTATED, (C, D), {A: "B003", C: "B001", D: "B002"}),
    "C moved, B002 withdrawn": (C_MOVED, (C,), {A: "B001", C: "B003"}),
    "handed to a new car": (HANDED, (), {A: "B003"}),
}
IMPORTS = {  # name: (the slots file's rows, cars parked besides A, where each car parked is after it)
    "renumbered": (f"main,B001,R1,\nmain,B101,R1,{A};{B}\n", (), {A: "B101"}),
    "swapped": (f"main,B001,R2,{C}\nmain,X000,,\nmain,B002,R1,{A};{B}\n", (), {A: "B002"}),
    "swapped, both parked": (
        f"main,B001,R2,{C}\nmain,X000,,\nmain,B002,R1,{A};{B}\n",
        (C,),
        {A: "B002", C: "B001"},
    ),
}
ROWS_A_STEP = [1, 2, 3, 100]


class SecondCar:
    """B's visits at each step boundary, and what the store held then."""

    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.entries: list[AccessEvent] = []
        self.problems: list[str] = []

    def visit(self) -> None:
        at = T0 + timedelta(minutes=10 + 2 * len(self.entries))
        self.entries.append(entry := show(self.gw, "car-in", B, at))
        if entry.billing != "temporary":
            self.problems.append(f"visit {len(self.entries)}: {entry.reason}/{entry.billing} {entry.flags}")
        self._check_store(f"visit {len(self.entries)}")
        show(self.gw, "car-out", B, at + timedelta(minutes=1))

    def _check_store(self, when: str) -> None:
        most = self.gw.conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM stays WHERE exited_at IS NULL "
            "AND slot_id IS NOT NULL GROUP BY slot_id)"
        ).fetchone()[0]
        free = self.gw.conn.execute(
            "SELECT count(*) FROM stays s JOIN vehicles v ON v.id = s.vehicle_id "
            "JOIN residents r ON r.id = v.resident_id WHERE s.exited_at IS NULL AND r.ref = 'R1' "
            "AND s.billing = 'slot'"
        ).fetchone()[0]
        if (most or 0) > 1 or free > 1:
            self.problems.append(f"{when}: {most} cars on one slot, R1 has {free} cars free")


def _parked(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


def _park(gw: Gateway, cars: tuple[str, ...]) -> None:
    for minutes, car in enumerate((A, *cars)):
        assert show(gw, "car-in", car, T0 + timedelta(minutes=minutes)).billing == "slot", car


def _third_slot(gw: Gateway, tmp_path: Path) -> None:
    """R3's car D on a slot B003 of its own, for the rotation."""
    text = f"zone,number,resident_ref,plates\nmain,B003,R3,{D}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "b003.csv", text)])


@pytest.mark.parametrize("rows", ROWS_A_STEP)
@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_second_car_pays_at_every_step_of_a_snapshot(
    make_gw: Callable[..., Gateway], tmp_path: Path, name: str, rows: int
) -> None:
    """The centre's snapshot moves R1's slot, or others beside it, applied `rows` rows a step."""
    slots, others, after = SNAPSHOTS[name]
    gw = make_gw(capacity=20)  # cars moved off their slots wait in the shared spaces
    if D in others:
        _third_slot(gw, tmp_path)
    _park(gw, others)
    meta = stage_snapshot(gw, 1, register(slots))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    second, done = SecondCar(gw), 0
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 1, counts, done, rows, T0 + timedelta(minutes=5), lambda: False, lambda r, _: r
        )
        second.visit()
    assert second.problems == []
    assert _parked(gw) == after


@pytest.mark.parametrize("rows", ROWS_A_STEP)
@pytest.mark.parametrize("name", list(IMPORTS))
def test_second_car_pays_at_every_step_of_an_import(
    make_gw: Callable[..., Gateway], tmp_path: Path, name: str, rows: int
) -> None:
    """The office's slots file moves R1's slot, written `rows` rows a step."""
    text, others, after = IMPORTS[name]
    gw = make_gw(capacity=20)
    _park(gw, others)
    second = SecondCar(gw)
    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=rows, MIN_STEP_ROWS=rows, MAX_STEP_ROWS=rows):
        path = write_csv(tmp_path / "slots.csv", "zone,number,resident_ref,plates\n" + text)
        import_csv(gw.site.config, [path], pause=second.visit)
    assert second.problems == []
    assert _parked(gw) == after
