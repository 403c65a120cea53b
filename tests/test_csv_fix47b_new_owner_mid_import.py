"""A slot handed from one household to another by the office's files, its new car arriving while
`gateway import` writes them in steps (README, *Large imports and the lanes*: "a lane sees each
resident, car, card and slot either as it was or as the files have it")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw, show  # noqa: F401  (fixture)

X = "皖B33333"  # R2's, parked free on B002 (tests/parking/conftest.py seed)
Y = "皖E77777"  # the new household R5's car


@pytest.fixture
def one_row_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)


def _parked_on(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


def test_a_slots_new_car_is_not_refused_as_its_second_car_while_an_import_is_written(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,
) -> None:
    """Policy shared_slot_second_car = "refuse". The office's files add resident R5 and car Y, give
    B002 to Y and move R2's car X, parked on B002, to B003, one row a step. Y arrives after B002's
    row is in: as it was, a car with no slot (let in as a temporary one); as the files have it,
    B002's own car (free). It was refused slot_occupied: X was left on B002 until the second pass,
    which waits for every row of the files. X moves off B002 with B002's row, and onto B003 with
    B003's."""
    gw = make_gw(shared="refuse")
    assert show(gw, "car-in", X, T0).billing == "slot"
    residents = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR5,8栋,1单元,孙八\n")
    vehicles = write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{Y},R5\n")
    slots = write_csv(
        tmp_path / "s.csv",
        "zone,number,resident_ref,plates\n"
        f"main,B002,R5,{Y}\n" + "".join(f"main,X{i:03d},,\n" for i in range(3)) + f"main,B003,R2,{X}\n",
    )
    seen: list[AccessEvent] = []
    x_on: dict[int, str | None] = {}
    steps = 0

    def pause() -> None:
        nonlocal steps
        steps += 1
        x_on[steps] = _parked_on(gw)[X]
        if steps == 3:  # R5's, Y's and B002's rows are in
            seen.append(show(gw, "car-in", Y, T0 + timedelta(minutes=1)))

    import_csv(gw.site.config, [residents, vehicles, slots], pause=pause)
    assert seen, "no pause after B002's row"
    entry = seen[0]
    assert (entry.admitted, entry.reason, entry.billing) == (True, "resident", "slot"), (
        f"B002's new car arriving mid-import was {entry.reason}/{entry.billing} (flags {entry.flags})"
    )
    assert (x_on[2], x_on[3], x_on[7]) == ("B002", None, "B003"), x_on
    assert _parked_on(gw) == {X: "B003", Y: "B002"}
