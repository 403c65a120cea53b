"""Two more slot moves of the centre's snapshot (or the office's stepped import) applied in steps:
a household with two cars and two slots before and after, whose second slot is swapped with a
neighbour's, parks its second car free at every step; and a slot handed to a car paying in the
shared spaces is not handed while the slot's old household's only car, outside, has no other slot
yet (docs/parking.md, *A slot handed on*; docs/mqtt.md, *Never in the lanes' way*; README, *Large
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
from tests.parking.test_slot_move_fix48_second_car import ROWS_A_STEP, SPARE, A, B, C, Y, _parked, _slot
from tests.sync.snapshot_steps import register, snapshot, stage_snapshot

# R1 (A and B) has B001 and B003, R2 (C) has B002; the centre swaps B003 and B002, R2's row first.
TWO_SLOTS = [_slot("B001", "R1", A, B), _slot("B002", "R2", C), _slot("B003", "R1", A, B)]
SWAPPED = [_slot("B003", "R2", C), *SPARE, _slot("B002", "R1", A, B), _slot("B001", "R1", A, B)]
R5 = [
    {"kind": "resident", "ref": "R5", "building": "8栋", "unit": "1单元", "name": "孙八"},
    {"kind": "vehicle", "plate": Y, "resident": "R5"},
]
ONE_SLOT_EACH = [*R5, _slot("B001", "R1", A, B), _slot("B002", "R2", C)]
# B002 to R5's Y (its row first), R2's only car C to B003 (a later row); or R2 left with none.
HANDED = [*R5, _slot("B002", "R5", Y), *SPARE, _slot("B003", "R2", C), _slot("B001", "R1", A, B)]
HANDED_NONE_FOR_R2 = [*R5, _slot("B002", "R5", Y), *SPARE, _slot("B001", "R1", A, B)]
STEP_AT = T0 + timedelta(hours=3)


def _steps(gw: Gateway, slots: list[dict[str, Any]], rows: int, between: Callable[[int], None]) -> None:
    """The snapshot applied `rows` rows a step, `between(slot rows in)` after each step but the last."""
    meta = stage_snapshot(gw, 2, register(slots))
    assert meta["status"] == "staged", meta
    counts, staging = meta["counts"], gw.data_dir / STAGING_NAME
    before_slots = counts["residents"] + counts["vehicles"] + counts["cards"]
    done = 0
    while done < total_rows(counts):
        at = STEP_AT + timedelta(minutes=done)
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, 2, counts, done, rows, at, lambda: False, lambda r, _: r
        )
        if before_slots <= done < total_rows(counts):
            between(done - before_slots)


def _arriving_after(gw: Gateway, plate: str, slots: list[dict[str, Any]], slot_rows: int) -> AccessEvent:
    seen: list[AccessEvent] = []

    def arrive(slot_rows_in: int) -> None:
        if slot_rows_in == slot_rows:
            seen.append(show(gw, "car-in", plate, STEP_AT + timedelta(minutes=30)))

    _steps(gw, slots, 1, arrive)
    assert seen, "no step boundary there"
    return seen[0]


@pytest.mark.parametrize("shared", ["refuse", "temporary"])
def test_second_car_of_a_two_slot_household_parks_free_while_its_slot_is_swapped(
    make_gw: Callable[..., Gateway], shared: str
) -> None:
    """A on B001, C on B002. C was put on B003 in B003's step, and R1's B arriving before B002's
    row was in found B001 taken by A, B003 by C and B002 not yet its: refused slot_occupied (or
    paying as B001's second car), though R1 has two slots before and after. C stays on B002 till
    B002's row is in (B needs B003 meanwhile), and every car ends on its new slot."""
    gw = make_gw(capacity=20, shared=shared)
    snapshot(gw, 1, register(TWO_SLOTS), T0 - timedelta(hours=1))
    assert show(gw, "car-in", A, T0).billing == "slot"
    assert show(gw, "car-in", C, T0 + timedelta(minutes=1)).billing == "slot"
    entry = _arriving_after(gw, B, SWAPPED, 1)  # B003's row is in, B002's is not
    assert (entry.admitted, entry.billing) == (True, "slot"), (
        f"R1's second car mid-snapshot: {entry.reason}/{entry.billing} {entry.flags}, parked {_parked(gw)}"
    )
    assert _parked(gw) == {A: "B001", B: "B002", C: "B003"}


@pytest.mark.parametrize("rows", ROWS_A_STEP)
def test_second_car_of_a_two_slot_household_parks_free_at_every_step(
    make_gw: Callable[..., Gateway], rows: int
) -> None:
    """The same swap at 1, 2, 3 and 100 rows a step, B coming in and out at every boundary."""
    gw = make_gw(capacity=20, shared="refuse")
    snapshot(gw, 1, register(TWO_SLOTS), T0 - timedelta(hours=1))
    show(gw, "car-in", A, T0)
    show(gw, "car-in", C, T0 + timedelta(minutes=1))
    problems: list[str] = []

    def visit(slot_rows_in: int) -> None:
        at = STEP_AT + timedelta(minutes=40 + 3 * slot_rows_in)
        entry = show(gw, "car-in", B, at)
        if (entry.admitted, entry.billing) != (True, "slot"):
            problems.append(f"after {slot_rows_in} slot rows: {entry.reason}/{entry.billing} {_parked(gw)}")
        show(gw, "car-out", B, at + timedelta(minutes=1))

    _steps(gw, SWAPPED, rows, visit)
    assert problems == []
    assert _parked(gw) == {A: "B001", C: "B003"}


def _waiting_in_the_shared_spaces(make_gw: Callable[..., Gateway]) -> Gateway:
    gw = make_gw(capacity=20, shared="refuse")
    snapshot(gw, 1, register(ONE_SLOT_EACH), T0 - timedelta(hours=1))
    assert show(gw, "car-in", Y, T0).billing == "temporary"
    return gw


def test_only_car_not_refused_at_its_slot_handed_to_a_car_in_the_shared_spaces(
    make_gw: Callable[..., Gateway],
) -> None:
    """Y (R5, no slot before) pays in the shared spaces; B002's row gave B002 to Y at once, and
    R2's only car C, arriving before B003's row was in, was refused slot_occupied. C parks free on
    B002; Y, paying meanwhile, is handed B002 once C has gone out again and B003 is in."""
    gw = _waiting_in_the_shared_spaces(make_gw)
    seen: list[AccessEvent] = []

    def in_and_out(slot_rows_in: int) -> None:
        if slot_rows_in == 1:  # B002's row is in, B003's is not
            assert _parked(gw) == {Y: None}
            seen.append(show(gw, "car-in", C, STEP_AT + timedelta(minutes=30)))
            show(gw, "car-out", C, STEP_AT + timedelta(minutes=31))
        if slot_rows_in == 4:  # B003's row is in: C has a slot of its own, and B002 is Y's
            assert _parked(gw) == {Y: "B002"}

    _steps(gw, HANDED, 1, in_and_out)
    assert seen, "no step boundary there"
    assert (seen[0].admitted, seen[0].billing, seen[0].slot_id is not None) == (True, "slot", True), (
        f"R2's only car mid-snapshot: {seen[0].reason}/{seen[0].billing} flags={seen[0].flags}"
    )
    assert _parked(gw) == {Y: "B002"}
    handed = gw.conn.execute("SELECT billing, handed_over_at FROM stays WHERE plate = ?", (Y,)).fetchone()
    assert handed[1] is not None, "Y's billing never stopped"


@pytest.mark.parametrize("c_comes", [True, False], ids=["C comes meanwhile", "C stays out"])
def test_slot_handed_to_the_waiting_car_once_its_old_car_is_struck_off_it(
    make_gw: Callable[..., Gateway], c_comes: bool
) -> None:
    """R2 has no slot after the change: C parks free on B002 as it was till the second pass, which
    takes it off B002 and hands the slot to Y (left free, with Y paying beside it, it was lost)."""
    gw = _waiting_in_the_shared_spaces(make_gw)
    seen: list[AccessEvent] = []

    def arrive(slot_rows_in: int) -> None:
        if slot_rows_in == 1 and c_comes:
            seen.append(show(gw, "car-in", C, STEP_AT + timedelta(minutes=30)))

    _steps(gw, HANDED_NONE_FOR_R2, 1, arrive)
    if c_comes:
        assert (seen[0].admitted, seen[0].billing) == (True, "slot"), (seen[0].reason, seen[0].flags)
    assert _parked(gw) == ({C: None, Y: "B002"} if c_comes else {Y: "B002"})


def test_only_car_not_refused_at_its_slot_handed_by_an_import(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """The office's stepped import hands B002 to Y (paying in the shared spaces) and R2 B003 two
    rows further on: C arriving in between was refused slot_occupied."""
    gw = _waiting_in_the_shared_spaces(make_gw)
    seen: list[AccessEvent] = []

    def pause() -> None:
        listed = gw.conn.execute(
            "SELECT group_concat(v.plate) FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id "
            "JOIN vehicles v ON v.id = sv.vehicle_id WHERE s.number = 'B002'"
        ).fetchone()[0]
        b003 = gw.conn.execute("SELECT 1 FROM slots WHERE number = 'B003'").fetchone()
        if not seen and listed and Y in listed and not b003:
            seen.append(show(gw, "car-in", C, STEP_AT + timedelta(minutes=10)))

    text = f"zone,number,resident_ref,plates\nmain,B002,R5,{Y}\nmain,X000,,\nmain,B003,R2,{C}\n"
    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=1, MIN_STEP_ROWS=1, MAX_STEP_ROWS=1):
        import_csv(gw.site.config, [write_csv(tmp_path / "handed.csv", text)], pause=pause)
    assert seen, "no pause between B002's row and B003's"
    assert (seen[0].admitted, seen[0].billing) == (True, "slot"), (
        f"R2's only car mid-import: {seen[0].reason}/{seen[0].billing} flags={seen[0].flags}"
    )
    assert _parked(gw) == {C: "B003", Y: "B002"}


# R1 (A and B) loses B002 to R2 (C and Y), which moves there from B003; B003 goes to R3's D.
R2_TWO_CARS = [{"kind": "vehicle", "plate": Y, "resident": "R2"}]
LOSING = [*R2_TWO_CARS, _slot("B001", "R1", A, B), _slot("B002", "R1", A, B), _slot("B003", "R2", C, Y)]
D = "皖C44444"  # R3's
LOST = [*R2_TWO_CARS, _slot("B002", "R2", C, Y), *SPARE, _slot("B003", "R3", D), _slot("B001", "R1", A, B)]


def test_car_of_a_household_losing_its_second_slot_holds_no_car_off_it(
    make_gw: Callable[..., Gateway],
) -> None:
    """B, listed on B002 till the second pass, with A on R1's other slot B001, is given no slot it
    is not on yet: it does not need B002 (it pays as B001's second car after the change). C moves
    onto B002 in B002's step; held on B003 for B, R2 had both slots meanwhile and its second car Y
    came in free on B002 (two cars free, one slot before and after)."""
    gw = make_gw(capacity=20)
    snapshot(gw, 1, register(LOSING), T0 - timedelta(hours=1))
    assert show(gw, "car-in", A, T0).billing == "slot"
    assert show(gw, "car-in", C, T0 + timedelta(minutes=1)).billing == "slot"
    entry = _arriving_after(gw, Y, LOST, 1)  # B002's row is in, B003's is not
    assert (entry.billing, "shared_slot" in entry.flags) == ("temporary", True), (entry.reason, _parked(gw))
    assert _parked(gw) == {A: "B001", C: "B002", Y: None}
