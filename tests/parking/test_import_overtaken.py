"""An import that another writer overtakes half way: the central server's delta lands in a gap
between its steps (README: the lanes and other writers take the database there) and deletes or
moves what later rows name. The import stops naming those rows, and the next import runs: it was
stuck for ever ("just run it again" failed at the same row each time), blocking every later one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.csv_staging import STAGING_NAME
from tests.conftest import write_csv
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta

NEW_FLATS = "ref,building,unit,name\n" + "".join(f"N{i},9栋,1单元,住户{i}\n" for i in range(600))


@pytest.fixture(autouse=True)
def steps_of_500_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every step 500 rows, so that each test's other writer comes after the first 500 flats and
    before the step with the rest and the car or card: the steps after the first are sized by their
    time (csv_steps), smaller on a busy box."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 500)


def _once(action: Callable[[], None]) -> Callable[[], None]:
    """A pause between two steps in which `action` happens, the first time only."""
    done: list[bool] = []

    def pause() -> None:
        if not done:
            done.append(True)
            action()

    return pause


def _count(gw: Gateway, sql: str) -> int:
    return int(gw.conn.execute(sql).fetchone()[0])


def test_an_import_whose_resident_the_centre_deleted_half_way_stops_and_the_next_one_runs(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """The office imports 600 new flats and a car for R2; after the first 500 rows the centre says
    R2 moved out. The car cannot be written: the error names it and why, and the corrected files
    import (every run stopped at the same row, and no other import could run)."""
    gw = make_gw()
    flats = write_csv(tmp_path / "r.csv", NEW_FLATS)
    car = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖F12345,R2\n")
    moved_out = _once(lambda: delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R2"}]))
    with pytest.raises(StorageError) as stopped:
        import_csv(gw.site.config, [flats, car], pause=moved_out)
    assert "stopped after 500 of 601 rows" in str(stopped.value)
    assert "vehicle 皖F12345: resident_ref: no resident 'R2' in the store any more" in str(stopped.value)
    assert not (gw.data_dir / STAGING_NAME).exists()  # nothing left that the next run must finish

    fixed = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖F12345,R1\n")
    assert import_csv(gw.site.config, [flats, fixed])["residents"] == 600
    assert _count(gw, "SELECT count(*) FROM residents WHERE ref LIKE 'N%'") == 600
    assert _count(gw, "SELECT count(*) FROM vehicles WHERE plate = '皖F12345'") == 1


def test_a_card_whose_car_the_centre_gave_to_another_household_half_way_is_not_written(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """A card for R2 naming R2's car was checked; before its step the centre gives that car to R1.
    Written anyway, R2's card would open the barrier for R1's car (no constraint stops that)."""
    gw = make_gw()
    flats = write_csv(tmp_path / "r.csv", NEW_FLATS)
    card = write_csv(tmp_path / "c.csv", "card,resident_ref,plate\nC0FFEE01,R2,皖B33333\n")
    given_away = _once(
        lambda: delta(gw, 1, 0, T0, upsert=[{"kind": "vehicle", "plate": "皖B33333", "resident": "R1"}])
    )
    with pytest.raises(StorageError) as stopped:
        import_csv(gw.site.config, [flats, card], pause=given_away)
    assert "card C0FFEE01: plate: 皖B33333 is R1's vehicle, not R2's" in str(stopped.value)
    assert _count(gw, "SELECT count(*) FROM credentials WHERE value = 'C0FFEE01'") == 0


def test_an_unfinished_import_whose_resident_was_deleted_since_is_given_up_not_stuck(
    make_gw: Callable[..., Gateway], tmp_path: Path
) -> None:
    """A power cut stops the import after its first step; the centre deletes R2 before the next
    run, which is to finish it. It says which row can no longer be written, and the run after it
    imports (it failed at that row every time, and no other import could run)."""
    gw = make_gw()
    flats = write_csv(tmp_path / "r.csv", NEW_FLATS)
    car = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖F12345,R2\n")

    def power_cut() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_csv(gw.site.config, [flats, car], pause=power_cut)
    delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R2"}])
    with pytest.raises(StorageError, match="vehicle 皖F12345: resident_ref: no resident 'R2'"):
        import_csv(gw.site.config, [])
    later = write_csv(tmp_path / "later.csv", "plate,resident_ref\n皖F54321,R1\n")
    assert import_csv(gw.site.config, [later])["vehicles"] == 1


def test_a_constraint_the_recheck_does_not_foresee_gives_the_import_up_too(
    make_gw: Callable[..., Gateway], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever constraint a step of the same rows on the same store fails on, it fails on again:
    the import is given up, naming the step's rows, rather than standing in front of every later one."""
    monkeypatch.setattr("gateway.store.csv_steps.no_longer_fit", lambda *_: [])
    gw = make_gw()
    flats = write_csv(tmp_path / "r.csv", NEW_FLATS)
    car = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖F12345,R2\n")
    moved_out = _once(lambda: delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R2"}]))
    with pytest.raises(StorageError, match=r"vehicles rows 601-601: NOT NULL constraint failed"):
        import_csv(gw.site.config, [flats, car], pause=moved_out)
    assert not (gw.data_dir / STAGING_NAME).exists()
