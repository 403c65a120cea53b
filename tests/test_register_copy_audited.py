"""A change to the register, or a copy of it taken away, is on the audit trail (house rule: nothing
changes data, or leaves the box, without a record of who did it): an import given up half way, and an
export (`gateway export`, `gateway export-plates`) whose audit row cannot be written."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.cameras.snapshots import plate_crop_path
from gateway.cli import main
from gateway.core import Presented
from gateway.errors import StorageError
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.database import open_database
from gateway.store.plate_crops import export_plate_crops
from tests.conftest import locked_by_another_process, registered_plates_site, site_toml, write_csv
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import delta

NEW_FLATS = "ref,building,unit,name\n" + "".join(f"N{i},9栋,1单元,住户{i}\n" for i in range(600))


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done: list[bool] = []

    def pause() -> None:
        if not done:
            done.append(True)
            action()

    return pause


def test_an_import_given_up_half_way_audits_the_rows_it_wrote(
    make_gw: Callable[..., Gateway],  # noqa: F811 (the fixture)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The office imports 600 new flats and a car for R2; after the first 500 rows the centre
    deletes R2 and the import is given up ("The first 500 rows are in"). The 500 residents it did
    write are in the store, yet the audit page had no row saying who added them (registry.import
    or resident.upsert), and the centre was sent no registry record of them. House rule
    (docs/guard-app.md, Audit; README: "every import writes a registry.import audit row ... and a
    registry record upstream"): every change writes its audit row in the same transaction."""
    # Steps of 500 rows: the second, after R2 is deleted, has the other 100 flats and the car. The
    # steps after the first are sized by their time (csv_steps), smaller on a busy box.
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 500)
    gw = make_gw()
    flats = write_csv(tmp_path / "r.csv", NEW_FLATS)
    car = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖F12345,R2\n")
    moved_out = _once(lambda: delta(gw, 1, 0, T0, delete=[{"kind": "resident", "ref": "R2"}]))
    with pytest.raises(StorageError, match="stopped after 500 of 601 rows"):
        import_csv(gw.site.config, [flats, car], actor="cli:office", pause=moved_out)
    written = gw.conn.execute("SELECT count(*) FROM residents WHERE ref LIKE 'N%'").fetchone()[0]
    assert written == 500  # the rows are in the store
    audited = gw.conn.execute("SELECT action, detail FROM audit WHERE actor = 'cli:office'").fetchall()
    assert audited, "500 residents were added by cli:office, and the audit trail says nothing of it"
    [(action, detail)] = audited
    stopped = json.loads(detail)["stopped"]
    assert action == "registry.import"
    assert (stopped["written"]["residents"], stopped["left_out"]["residents"]) == (500, 100)
    assert stopped["left_out"]["vehicles"] == 1
    upstream = [
        json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'registry'")
    ]
    assert any(
        r.get("op") == "import" or r.get("entity") == "resident" and str(r.get("ref", "")).startswith("N")
        for r in upstream
    ), "the centre is never told of the 500 residents written"
    [batch] = [r for r in upstream if r.get("entity") == "batch" and r["id"] == json.loads(detail)["import"]]
    assert batch["stopped"] == stopped  # what the office's audit row says, the centre is told


def test_an_export_whose_audit_row_cannot_be_written_leaves_no_copy_of_the_register(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: `gateway export` is "audited as registry.export: who took a copy of the register,
    and where". While another process holds the database (a `gateway import` suspended with
    Ctrl-Z, a full disk), the export still wrote residents.csv, cards.csv... (names, full card
    numbers) to the folder, then failed on its audit row: the copy was there, and the audit trail
    never said who took it. The copy should not be left without its record (audit first, in the
    same transaction, or the files removed when the record fails)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    people = write_csv(tmp_path / "people.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cards = write_csv(tmp_path / "cards.csv", "card,resident_ref\n0A1B2C3D4E,R1\n")
    assert main(["import", "-c", str(config), str(people), str(cards)]) == 0
    out = tmp_path / "usb"
    db_path = tmp_path / "data" / "gateway.db"
    # Whatever it raises or returns, look at what is left.
    with locked_by_another_process(db_path), contextlib.suppress(BaseException):
        main(["export", "-c", str(config), str(out)])
    conn = open_database(db_path).conn
    try:
        audited = conn.execute("SELECT 1 FROM audit WHERE action = 'registry.export'").fetchall()
    finally:
        conn.close()
    left = sorted(p.name for p in out.rglob("*") if p.is_file()) if out.exists() else []
    card_numbers = any("0A1B2C3D4E" in p.read_text(encoding="utf-8-sig") for p in out.glob("*.csv"))
    assert audited or not left, (
        f"a copy of the register ({left}, full card numbers: {card_numbers}) was left in {out} "
        "with no registry.export audit row"
    )
    assert "no file was left" in capsys.readouterr().err  # and the office is told so, and what to do

    # Once the database is free, the same command writes the copy and its record.
    assert main(["export", "-c", str(config), str(out)]) == 0
    conn = open_database(db_path).conn
    try:
        [(target,)] = conn.execute("SELECT target FROM audit WHERE action = 'registry.export'").fetchall()
    finally:
        conn.close()
    assert target == str(out.resolve())
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cards.csv", "residents.csv", "slots.csv", "vehicles.csv"]  # nothing else left


def test_a_plate_export_whose_audit_row_cannot_be_written_leaves_no_crops(tmp_path: Path) -> None:
    """`gateway export-plates` copied every labelled crop and labels.csv into the folder, then
    failed on its plates.export audit row while another process held the database: the crops
    left the box with no record of who took them. Now nothing is left in the folder."""
    gw = registered_plates_site(tmp_path, "皖A12345,R1\n")
    snapshot = "snapshots/2026-11-21/car-0.jpg"
    crop = plate_crop_path(gw.data_dir / snapshot)
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"a plate crop")
    gw.handle(Presented("car-in", "plate", "皖A12345", 0.9, gw.now(), "cam", snapshot))
    gw.conn.execute("PRAGMA busy_timeout=200")  # the lock below is never let go while it waits
    out = tmp_path / "crops"
    try:
        with locked_by_another_process(gw.data_dir / "gateway.db"), pytest.raises(StorageError):
            export_plate_crops(gw.conn, gw.data_dir, out, None, "cli:guard", gw.now())
        assert not out.exists(), f"crops left in {out} with no plates.export audit row"
        done = export_plate_crops(gw.conn, gw.data_dir, out, None, "cli:guard", gw.now())
        assert done.exported == 1 and (out / "labels.csv").exists()
        audited = gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'plates.export'").fetchone()[0]
        assert audited == 1
    finally:
        gw.conn.close()
