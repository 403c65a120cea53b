"""A slot renumbered (B001 given up, B101 given for the same cars) while the household's car is
parked on B001 and its second car is inside paying in the shared spaces (一位多车)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

import pytest
from snapshot_steps import register, snapshot

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta

A, B = "皖A11111", "皖A22222"  # R1's two cars on slot B001 (tests/parking/conftest.py seed)
B101 = {"kind": "slot", "zone": "main", "number": "B101", "resident": "R1", "plates": [A, B]}
B002 = {"kind": "slot", "zone": "main", "number": "B002", "resident": "R2", "plates": ["皖B33333"]}
LATER = T0 + timedelta(hours=1)


def _by_delta(gw: Gateway, _: Path) -> None:
    delta(gw, 1, 0, LATER, upsert=[B101], delete=[{"kind": "slot", "zone": "main", "number": "B001"}])


def _by_snapshot(gw: Gateway, _: Path) -> None:
    snapshot(gw, 1, register([B101, B002]), LATER)


def _by_import(gw: Gateway, tmp_path: Path) -> None:
    """The office's file empties B001 and gives B101 the same cars (an import deletes no slot)."""
    text = f"zone,number,resident_ref,plates\nmain,B001,R1,\nmain,B101,R1,{A};{B}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "renumbered.csv", text)])


def _by_import_one_row_a_step(gw: Gateway, tmp_path: Path) -> None:
    """The same, B001's row in one step and B101's in the next: A waits in the shared spaces between
    them (B001 no longer lists it, B101 is not in yet)."""
    with patch.multiple("gateway.store.csv_steps", STEP_ROWS=1, MIN_STEP_ROWS=1, MAX_STEP_ROWS=1):
        _by_import(gw, tmp_path)


RENUMBERINGS = [_by_delta, _by_snapshot, _by_import, _by_import_one_row_a_step]


def _inside(gw: Gateway) -> dict[str, tuple[str | None, str | None]]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number, s.handed_over_at FROM stays s "
        "LEFT JOIN slots sl ON sl.id = s.slot_id WHERE s.exited_at IS NULL"
    )
    return {plate: (number, handed) for plate, number, handed in rows}


def _owed_by_b(gw: Gateway) -> int:
    """What B is asked at the exit five hours after A came in."""
    return int(show(gw, "car-out", B, T0 + timedelta(hours=5)).fee_fen or 0)


@pytest.mark.parametrize("renumber", RENUMBERINGS)
def test_renumbered_slot_keeps_its_parked_car_when_the_second_car_is_inside_paying(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    renumber: Callable[[Gateway, Path], None],
) -> None:
    """R1's car A is parked free on B001 and the second car B is inside paying. Renumbered, A is on
    B101 and B goes on paying (docs/parking.md, *A slot handed on*). B101 was handed to B (its
    billing stopped) and A moved to the shared spaces, free: one slot, two cars, neither paying."""
    control = make_gw()  # the same two cars, no renumbering: what B owes for the same stay
    show(control, "car-in", A, T0)
    show(control, "car-in", B, T0 + timedelta(minutes=10))
    gw = make_gw()
    assert show(gw, "car-in", A, T0).billing == "slot"
    second = show(gw, "car-in", B, T0 + timedelta(minutes=10))
    assert (second.billing, "shared_slot" in second.flags) == ("temporary", True), second
    renumber(gw, tmp_path)
    assert _inside(gw) == {A: ("B101", None), B: (None, None)}
    assert _owed_by_b(gw) == _owed_by_b(control) > 0


@pytest.mark.parametrize("renumber", RENUMBERINGS)
def test_the_car_parked_free_is_put_on_the_renumbered_slot_before_a_paying_one_that_came_in_first(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    renumber: Callable[[Gateway, Path], None],
) -> None:
    """B came in first, paying (it was on no slot then: the office put it on B001 only later), then
    A, free on B001. Renumbered, B101 goes to A, the car that pays nothing, not to the car waiting
    longest (as at an exit): handed to B, it stopped B's billing and left A free in the shared
    spaces, two cars free on one slot."""
    gw = make_gw()
    only_a = f"zone,number,resident_ref,plates\nmain,B001,R1,{A}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "a_only.csv", only_a)])
    assert show(gw, "car-in", B, T0).billing == "temporary"
    assert show(gw, "car-in", A, T0 + timedelta(minutes=10)).billing == "slot"
    both = f"zone,number,resident_ref,plates\nmain,B001,R1,{A};{B}\n"
    import_csv(gw.site.config, [write_csv(tmp_path / "both.csv", both)])
    assert _inside(gw) == {A: ("B001", None), B: (None, None)}
    renumber(gw, tmp_path)
    assert _inside(gw) == {A: ("B101", None), B: (None, None)}
