"""A resident's car moved from one fixed slot to another by the office's slots file, arriving at the
lane while `gateway import` writes it in steps (README, *Large imports and the lanes*: "a lane sees
each resident, car, card and slot either as it was or as the files have it")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from gateway.config import parse_config
from gateway.errors import StorageError
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, make_gw, parking_toml, seed, show  # noqa: F401  (fixture)
from tests.parking.directory_exit_helpers import delta

T = TypeVar("T")
CAR = "皖B33333"  # R2's, on slot B002 (tests/parking/conftest.py seed)
SPARE = "".join(f"main,X{i:03d},,\n" for i in range(3))
MOVED = (
    "zone,number,resident_ref,plates\n"
    "main,B001,R1,皖A11111;皖A22222\n"
    "main,B002,R2,\n" + SPARE + f"main,B003,R2,{CAR}\n"
)


@pytest.fixture
def one_row_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)


def _refusing_site(tmp_path: Path) -> Gateway:
    """The parking site with policy no_slot = "refuse" (the example estate's)."""
    text = parking_toml(tmp_path / "data", capacity=40).replace('no_slot = "temporary"', 'no_slot = "refuse"')
    cfg = parse_config(text, "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


def _after_step(step: int, happen: Callable[[], T], seen: list[T]) -> Callable[[], None]:
    """A pause between two steps in which, after the `step`th step, something happens (a car
    arrives, the centre sends a change): what it returns goes to `seen`."""
    steps = 0

    def pause() -> None:
        nonlocal steps
        steps += 1
        if steps == step:
            seen.append(happen())

    return pause


def _parked_on(gw: Gateway) -> dict[str, str | None]:
    rows = gw.conn.execute(
        "SELECT s.plate, sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL"
    )
    return dict(rows.fetchall())


def test_a_car_moved_to_another_slot_is_not_refused_while_the_import_is_written(
    tmp_path: Path, one_row_a_step: None
) -> None:
    """The office's slots file moves R2's car from B002 to B003, three rows further down; the import
    is written one row a step. R2 drives in after B002's step, before B003's: the car is on the
    register all along and had a slot before and after, so it comes in as the resident's, free on
    a slot. It was refused no_slot at the barrier (taken off B002, not yet on B003)."""
    gw = _refusing_site(tmp_path)
    try:
        seen: list[AccessEvent] = []
        arrive = _after_step(2, lambda: show(gw, "car-in", CAR, T0), seen)
        import_csv(gw.site.config, [write_csv(tmp_path / "slots.csv", MOVED)], pause=arrive)
        assert seen, "no pause after B002's step"
        entry = seen[0]
        assert (entry.admitted, entry.reason, entry.billing) == (True, "resident", "slot"), (
            f"R2's car arriving mid-import was {entry.reason}/{entry.billing} (admitted={entry.admitted})"
        )
        assert _parked_on(gw) == {CAR: "B003"}, "once the import is in, R2's car is on its new slot"
    finally:
        gw.conn.close()


SWAPPED = (
    f"zone,number,resident_ref,plates\nmain,B001,R2,{CAR}\n" + SPARE + "main,B002,R1,皖A11111;皖A22222\n"
)


def _most_cars_on_one_slot(gw: Gateway) -> int:
    sql = """SELECT max(n) FROM (SELECT count(*) AS n FROM stays
        WHERE exited_at IS NULL AND slot_id IS NOT NULL GROUP BY slot_id)"""
    return int(gw.conn.execute(sql).fetchone()[0] or 0)


def _imports_recorded(gw: Gateway) -> int:
    return len(gw.conn.execute("SELECT id FROM audit WHERE action = 'registry.import'").fetchall())


def _import_record(gw: Gateway) -> tuple[dict[str, Any], dict[str, Any]]:
    """The last import's registry.import audit detail and upstream record, less the import's id."""
    (detail,) = gw.conn.execute(
        "SELECT detail FROM audit WHERE action = 'registry.import' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    audited = json.loads(detail)
    (payload,) = gw.conn.execute(
        "SELECT payload FROM outbox WHERE topic = 'registry' AND payload LIKE ? AND payload LIKE ?",
        (f'%"{audited["import"]}"%', '%"entity": "batch"%'),  # not its rows' records (csv_records.py)
    ).fetchone()
    sent = json.loads(payload)
    return {k: v for k, v in audited.items() if k != "import"}, {
        k: sent.get(k) for k in ("op", "entity", "counts", "stopped")
    }


def test_two_households_swapping_slots_in_steps_keep_one_car_a_slot_and_the_same_records(
    tmp_path: Path, one_row_a_step: None
) -> None:
    """R1's car 皖A11111 is on B001 and R2's on B002 when the office's file swaps the two slots,
    one row a step. Between the steps each slot holds one car, and once the import is in each car
    is on its new slot. The import's counts, audit row and upstream record are those of any import
    of that file: one of each, counting its 5 slot rows once."""
    gw = _refusing_site(tmp_path)
    try:
        assert show(gw, "car-in", "皖A11111", T0).billing == "slot"
        assert show(gw, "car-in", CAR, T0).billing == "slot"
        most: list[int] = []

        def pause() -> None:
            most.append(_most_cars_on_one_slot(gw))

        counts = import_csv(gw.site.config, [write_csv(tmp_path / "slots.csv", SWAPPED)], pause=pause)
        assert most and max(most) == 1, most
        assert _parked_on(gw) == {"皖A11111": "B002", CAR: "B001"}
        assert counts == {"residents": 0, "vehicles": 0, "cards": 0, "slots": 5}
        assert _import_record(gw) == (
            {"counts": counts},
            {"op": "import", "entity": "batch", "counts": counts, "stopped": None},
        )
    finally:
        gw.conn.close()


def test_an_import_stopped_between_its_two_passes_is_finished_by_the_next_run(
    tmp_path: Path, one_row_a_step: None
) -> None:
    """A power cut once every row of the file is in, before the cars B002 no longer lists are taken
    off it: R2's car is on both its slots meanwhile (it comes in free), and the next `gateway import`
    finishes the import, leaving it on B003 only."""
    gw = _refusing_site(tmp_path)
    rows = MOVED.count("\n") - 1
    steps = 0

    def power_cut() -> None:
        nonlocal steps
        steps += 1
        if steps == rows:
            raise KeyboardInterrupt

    try:
        recorded = _imports_recorded(gw)
        slots = write_csv(tmp_path / "slots.csv", MOVED)
        with pytest.raises(KeyboardInterrupt):
            import_csv(gw.site.config, [slots], pause=power_cut)
        assert _slots_of(gw, CAR) == ["B002", "B003"]
        assert show(gw, "car-in", CAR, T0).billing == "slot"
        assert import_csv(gw.site.config, []) == {}
        assert _slots_of(gw, CAR) == ["B003"]
        assert _parked_on(gw) == {CAR: "B003"}
        assert _imports_recorded(gw) == recorded + 1
    finally:
        gw.conn.close()


def test_the_slots_an_import_given_up_wrote_are_as_the_files_have_them(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
    one_row_a_step: None,
) -> None:
    """The file hands B002 from R2's car to R1's second car, and gives R3 a slot further down; the
    centre deletes R3 between the steps. The import is given up at R3's row, and B002, written,
    lists R1's car only, as the file has it (the cars a slot no longer lists are taken off with the
    import's record), and R2's car parked on it moves off it."""
    gw = make_gw()
    assert show(gw, "car-in", CAR, T0).billing == "slot"
    text = "zone,number,resident_ref,plates\nmain,B002,R1,皖A22222\n" + SPARE + "main,C001,R3,\n"
    moved_out = _after_step(2, lambda: delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R3"}]), [])
    with pytest.raises(StorageError, match="is given up"):
        import_csv(gw.site.config, [write_csv(tmp_path / "slots.csv", text)], pause=moved_out)
    assert _slots_of(gw, CAR) == []
    assert _slots_of(gw, "皖A22222") == ["B001", "B002"]
    assert _parked_on(gw) == {CAR: None}
    audited, sent = _import_record(gw)
    assert audited["stopped"]["written"]["slots"] == 4, audited
    assert sent["stopped"] == audited["stopped"]


def _slots_of(gw: Gateway, plate: str) -> list[str]:
    rows = gw.conn.execute(
        "SELECT s.number FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id "
        "JOIN vehicles v ON v.id = sv.vehicle_id WHERE v.plate = ? ORDER BY s.number",
        (plate,),
    )
    return [number for (number,) in rows]
