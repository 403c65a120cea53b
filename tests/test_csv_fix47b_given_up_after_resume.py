"""An import cut short between its two passes over a slots file's plates, then given up when the
next `gateway import` finishes it (README, *Large imports*; the error: "the first N rows are in
..., the rest only as far as the release before the upgrade wrote them").

Cut short by a release before schema 70, which kept no record of how far its steps got: the next
run begins again at the first row. (One this release cut short goes on after its last step:
tests/test_csv_resumed_import_fix65a.py; one cut again after the upgrade, or cut in its first step:
tests/test_csv_resume_given_up_fix65a2.py.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta

CAR = "皖B33333"  # R2's, on slot B002 (tests/parking/conftest.py seed)
FILE = (
    "zone,number,resident_ref,plates\n"
    "main,X000,,\n"
    "main,C001,R3,\n"  # R3 is deleted by the centre before the import is finished
    "main,B002,R1,皖A22222\n"  # B002 handed to R1's second car
    f"main,B003,R2,{CAR}\n"  # R2's car moved to B003
    "main,B004,R4,皖D55555\n"  # R4's car given a slot of its own
)


@pytest.fixture
def one_row_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)


def _listed_on(gw: Gateway) -> dict[str, list[str]]:
    rows = gw.conn.execute(
        "SELECT s.number, v.plate FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id "
        "JOIN vehicles v ON v.id = sv.vehicle_id ORDER BY s.number, v.plate"
    )
    listed: dict[str, list[str]] = {}
    for number, plate in rows:
        listed.setdefault(number, []).append(plate)
    return listed


def as_a_release_before_schema_70_left_it(gw: Gateway) -> None:
    """Its steps kept no record of how far they got (import_steps), nor did its staging file say
    that they keep one (meta.steps_kept)."""
    gw.conn.execute("DELETE FROM import_steps")
    with sqlite3.connect(gw.data_dir / "import-staging.db") as c:
        c.execute("ALTER TABLE meta DROP COLUMN steps_kept")


def _interrupted_after(step: int) -> Callable[[], None]:
    steps = 0

    def power_cut() -> None:
        nonlocal steps
        steps += 1
        if steps == step:
            raise KeyboardInterrupt

    return power_cut


@pytest.mark.parametrize(
    ("step", "listed"),
    [
        # Every row of the file in, the second pass not begun: each row is as the file has it.
        (5, {"B001": ["皖A11111", "皖A22222"], "B002": ["皖A22222"], "B003": [CAR], "B004": ["皖D55555"]}),
        # B002's row in, B003's and B004's not: B002 as the file has it, R2's car on no slot (as
        # the rows written up to where an import is given up are: test_csv_fix47_slot_move_...).
        (3, {"B001": ["皖A11111", "皖A22222"], "B002": ["皖A22222"]}),
        # Only X000's row in: the rest as it was.
        (1, {"B001": ["皖A11111", "皖A22222"], "B002": [CAR]}),
    ],
)
def test_a_resumed_import_given_up_leaves_each_slot_as_it_was_or_as_the_file_has_it(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,
    step: int,
    listed: dict[str, list[str]],
) -> None:
    """Cut short after `step` rows; the centre then deletes R3, and the next `gateway import` gives
    the import up at C001's row (row 2), having written row 1 itself. The rows the first run wrote
    after that are each as the file has them: B002, written by the first run's first pass, was left
    listing R2's car and R1's second car both, for good, so whichever parked there first made the
    other a second car that pays or is refused. A row the first run did not get to is as it was."""
    gw = make_gw()
    slots = write_csv(tmp_path / "slots.csv", FILE)
    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [slots], pause=_interrupted_after(step))
    as_a_release_before_schema_70_left_it(gw)
    delta(gw, 1, 0, T0 + timedelta(minutes=5), delete=[{"kind": "resident", "ref": "R3"}])
    with pytest.raises(StorageError, match="given up"):
        import_csv(gw.site.config, [])
    assert _listed_on(gw) == listed
