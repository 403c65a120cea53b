"""A parked car moved between slots by the centre's snapshot (or the office's stepped import) while
the cars of the slot it is moved onto, or of the slot it leaves, still need them: a household with
one car and one slot parks free on its old slot or its new one at every step, never refused
slot_occupied because a neighbour's car was put on its old slot before its new one was in; and a
slot handed to a new household is not taken back by the old car going out and in meanwhile
(docs/parking.md, *A slot handed on*; docs/mqtt.md, *Never in the lanes' way*; README, *Large
imports and the lanes*)."""

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
from tests.parking.test_slot_move_fix48_second_car import (
    HANDED,
    ROWS_A_STEP,
    SPARE,
    A,
    B,
    C,
    Y,
    _parked,
    _slot,
)
from tests.sync.snapshot_steps import register, stage_snapshot

# Every slot number shifts by one: R1's B001 -> B002, R2's B002 -> B003 (B001 withdrawn).
SHIFTED = [_slot("B002", "R1", A, B), *SPARE, _slot("B003", "R2", C)]
# R1 and R2 swap slots, R1's row first.
SWAPPED_R1_FIRST = [_slot("B002", "R1", A, B), *SPARE, _slot("B001", "R2", C)]
SHIFTED_CSV = f"main,B001,R1,\nmain,B002,R1,{A};{B}\nmain,B003,R2,{C}\n"


def _listed(gw: Gateway, plate: str, number: str) -> bool:
    return bool(
        gw.conn.execute(
            "SELECT 1 FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id JOIN vehicles v "
            "ON v.id = sv.vehicle_id WHERE s.number = ? AND v.plate = ?",
            (number, plate),
        ).fetchone()
    )


def _steps(gw: Gateway, slots: list[dict[str, Any]], rows: int, between: Callable[[int], None]) -> None:
    """The snapshot applied `rows` rows a step, `between(slot rows in)` after each step."""
    meta = stage_snapshot(gw, 1, register(slots))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    before_slots = counts["residents"] + counts["vehicles"] + counts["cards"]
    done = 0
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 1, counts, done, rows, T0 + timedelta(minutes=5), lambda: False, lambda r, _: r
        )
        between(done - before_slots)


def _first_arrival(gw: Gateway, plate: str, slots: list[dict[str, Any]]) -> AccessEvent:
    seen: list[AccessEvent] = []

    def arrive(slot_rows_in: int) -> None:
        if slot_rows_in == 1:
            seen.append(show(gw, "car-in", plate, T0 + timedelta(minutes=10)))

    _steps(gw, slots, 1, arrive)
    assert seen, "no step boundary there"
    return seen[0]


@pytest.mark.parametrize("slots", [SHIFTED, SWAPPED_R1_FIRST], ids=["shifted", "swapped"])
def test_one_car_household_parks_free_while_its_slot_is_renumbered(
    make_gw: Callable[..., Gateway], slots: list[dict[str, Any]]
) -> None:
    """R2 has one car C and one slot B002; the centre gives B002 to R1 (whose A is parked on B001)
    and R2 a new slot in a later row. C arrived after B002's row: A had been put on B002 at once,
    so C was refused slot_occupied (B003 not in yet). It parks free on B002 or its new slot."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", A, T0).billing == "slot"
    entry = _first_arrival(gw, C, slots)
    assert (entry.admitted, entry.billing) == (True, "slot"), (
        f"R2's only car came in mid-snapshot as admitted={entry.admitted} {entry.reason}/{entry.billing} "
        f"flags={entry.flags}"
    )


def test_one_car_household_parks_free_while_an_import_renumbers_its_slot(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """The office's stepped import shifts the slots (R1's B001 -> B002, R2's B002 -> B003), A
    parked; C arrives after B002's row and before B003's: it was refused slot_occupied."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", A, T0).billing == "slot"
    seen: list[AccessEvent] = []

    def pause() -> None:
        if not seen and _listed(gw, A, "B002") and not _listed(gw, C, "B003"):
            seen.append(show(gw, "car-in", C, T0 + timedelta(minutes=10)))

    text = "zone,number,resident_ref,plates\n" + SHIFTED_CSV
    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=1, MIN_STEP_ROWS=1, MAX_STEP_ROWS=1):
        import_csv(gw.site.config, [write_csv(tmp_path / "shifted.csv", text)], pause=pause)
    assert seen, "no pause between B002's row and B003's"
    assert (seen[0].admitted, seen[0].billing) == (True, "slot"), (
        f"R2's only car came in mid-import as admitted={seen[0].admitted} {seen[0].reason}/{seen[0].billing} "
        f"flags={seen[0].flags}"
    )


def test_new_household_parks_free_on_its_slot_after_the_old_car_goes_out_and_in(
    make_gw: Callable[..., Gateway],
) -> None:
    """The centre hands B001 to R5 (its only car Y) and R1 to B003 (a later row). A, parked on
    B001, waits in the shared spaces from B001's step; A went out and came back before B003 was
    in and parked free on B001 again (its pair put back "while it waits"), so Y was refused
    slot_occupied at the slot just written for it."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", A, T0).billing == "slot"
    seen: list[AccessEvent] = []

    def out_and_in(slot_rows_in: int) -> None:
        if slot_rows_in == 1:
            show(gw, "car-out", A, T0 + timedelta(minutes=10))
            back = show(gw, "car-in", A, T0 + timedelta(minutes=12))  # on no slot till B003 is in
            assert (back.admitted, back.billing, back.slot_id) == (True, "temporary", None), back.reason
            seen.append(show(gw, "car-in", Y, T0 + timedelta(minutes=15)))

    _steps(gw, HANDED, 1, out_and_in)
    assert seen, "no step boundary there"
    assert (seen[0].admitted, seen[0].billing) == (True, "slot"), (
        f"R5's only car Y at its new slot B001: {seen[0].reason}/{seen[0].billing} flags={seen[0].flags}"
    )
    assert _parked(gw) == {A: "B003", Y: "B001"}


def test_new_household_keeps_its_slot_when_its_car_goes_out_and_in(make_gw: Callable[..., Gateway]) -> None:
    """The same change; A waits in the shared spaces from B001's step, Y parks on B001, goes out
    and comes back before B003 is in. A, still listed on B001 while it waited, was handed B001 at
    Y's exit (a slot's car waiting in the shared spaces), and Y was refused slot_occupied."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", A, T0).billing == "slot"
    seen: list[AccessEvent] = []

    def in_out_in(slot_rows_in: int) -> None:
        if slot_rows_in == 1:
            assert show(gw, "car-in", Y, T0 + timedelta(minutes=10)).billing == "slot"
            show(gw, "car-out", Y, T0 + timedelta(minutes=12))
            seen.append(show(gw, "car-in", Y, T0 + timedelta(minutes=15)))

    _steps(gw, HANDED, 1, in_out_in)
    assert seen, "no step boundary there"
    assert (seen[0].admitted, seen[0].billing) == (True, "slot"), (seen[0].reason, seen[0].flags)
    assert _parked(gw) == {A: "B003", Y: "B001"}


# The reviewer's scenarios at 1, 2, 3 and 100 rows a step, R1's second car B and then R2's only
# car C coming in (and out again) at every step boundary. C parks free each time, on its old slot
# or its new one, and no slot ever holds two cars. B is R1's second car, paying, at every boundary
# but those between B002's row and the row that gives C its new slot: R1's car A is held on B001
# then (C needs B002), and R1 has both slots for that moment, as a household moved from one slot to
# another does (B parks free on B002). From C's new slot's step A is on B002.
SWEEPS = {  # name: (slots, C's new slot)
    "shifted": (SHIFTED, "B003"),
    "swapped, R1's row first": (SWAPPED_R1_FIRST, "B001"),
}


class Visits:
    """B's and C's visits at each step boundary, and what the store held then."""

    def __init__(self, gw: Gateway, c_new: str) -> None:
        self.gw, self.c_new = gw, c_new
        self.problems: list[str] = []
        self.n = 0

    def visit(self) -> None:
        held = _listed(self.gw, A, "B002") and not _listed(self.gw, C, self.c_new)
        if _listed(self.gw, C, self.c_new) and _parked(self.gw)[A] != "B002":
            self.problems.append(f"boundary {self.n}: C's new slot is in, A still on {_parked(self.gw)[A]}")
        b = self._visit(B)
        if (b.billing, "shared_slot" in b.flags) != ("temporary", True) and not held:
            self.problems.append(f"boundary {self.n}: B {b.reason}/{b.billing} {b.flags}")
        c = self._visit(C)
        if (c.admitted, c.billing) != (True, "slot"):
            self.problems.append(f"boundary {self.n}: C {c.reason}/{c.billing} {c.flags}")
        self.n += 1

    def _visit(self, plate: str) -> AccessEvent:
        at = T0 + timedelta(minutes=30 + 3 * self.n + (plate == C))
        entry = show(self.gw, "car-in", plate, at)
        most = self.gw.conn.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM stays WHERE exited_at IS NULL "
            "AND slot_id IS NOT NULL GROUP BY slot_id)"
        ).fetchone()[0]
        if (most or 0) > 1:
            self.problems.append(f"boundary {self.n}: {most} cars on one slot with {plate} in")
        show(self.gw, "car-out", plate, at + timedelta(seconds=30))
        return entry


@pytest.mark.parametrize("rows", ROWS_A_STEP)
@pytest.mark.parametrize("name", list(SWEEPS))
def test_only_car_parks_free_at_every_step_of_a_snapshot(
    make_gw: Callable[..., Gateway], name: str, rows: int
) -> None:
    slots, c_new = SWEEPS[name]
    gw = make_gw(capacity=20)
    assert show(gw, "car-in", A, T0).billing == "slot"
    visits = Visits(gw, c_new)
    _steps(gw, slots, rows, lambda _: visits.visit())
    assert visits.problems == []
    assert _parked(gw) == {A: "B002"}


@pytest.mark.parametrize("rows", ROWS_A_STEP)
def test_only_car_parks_free_at_every_step_of_an_import(
    make_gw: Callable[..., Gateway], tmp_path: Path, rows: int
) -> None:
    gw = make_gw(capacity=20)
    assert show(gw, "car-in", A, T0).billing == "slot"
    visits = Visits(gw, "B003")
    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=rows, MIN_STEP_ROWS=rows, MAX_STEP_ROWS=rows):
        path = write_csv(tmp_path / "slots.csv", "zone,number,resident_ref,plates\n" + SHIFTED_CSV)
        import_csv(gw.site.config, [path], pause=visits.visit)
    assert visits.problems == []
    assert _parked(gw) == {A: "B002"}
