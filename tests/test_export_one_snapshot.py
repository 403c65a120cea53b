"""`gateway export` while the register changes: the four files should be one copy of the register."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.store import csv_export
from tests.conftest import site_toml, write_csv


def test_an_export_taken_while_the_register_changes_imports_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The office runs `gateway export -c site.toml /media/usb/backup` (README: "write the four CSV
    files `import` reads back"; README, Replacing a box: without a copy of gateway.db, "run `gateway
    import` with the estate's CSV files again"). Meanwhile the register changes, as it does on a
    running site (an import from another terminal, the centre's delta, an admin adding a flat).
    Each of the four files is read in a read transaction of its own, so a resident added with her
    car after residents.csv was read is in vehicles.csv without her row in residents.csv: the copy
    the office keeps cannot be imported on a new box ("resident_ref R9 not found", exit 65,
    nothing imported). An export should be one snapshot of the register (one read transaction)."""
    old, new = tmp_path / "old", tmp_path / "new"
    for d in (old, new):
        d.mkdir()
        (d / "site.toml").write_text(site_toml(d / "data"), encoding="utf-8")
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cars = write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖A12345,R1\n")
    assert main(["import", "-c", str(old / "site.toml"), str(people), str(cars)]) == 0

    # A new flat with her car, imported from another terminal while the export runs: here just
    # after the export has read the residents (the first of its four files).
    flat = write_csv(tmp_path / "r9.csv", "ref,building,unit,name\nR9,9栋,1单元,王五\n")
    car = write_csv(tmp_path / "v9.csv", "plate,resident_ref\n皖B99999,R9\n")
    real_export = csv_export._export

    def export_one(db, sql, path, tz):  # type: ignore[no-untyped-def]
        n = real_export(db, sql, path, tz)
        if path.name == "residents.csv":
            assert main(["import", "-c", str(old / "site.toml"), str(flat), str(car)]) == 0
        return n

    monkeypatch.setattr(csv_export, "_export", export_one)
    out = tmp_path / "usb"
    assert main(["export", "-c", str(old / "site.toml"), str(out)]) == 0
    monkeypatch.undo()
    capsys.readouterr()

    rc = main(["import", "-c", str(new / "site.toml"), *map(str, sorted(out.glob("*.csv")))])
    err = capsys.readouterr().err
    assert rc != EX_DATAERR and rc == 0, f"the export cannot be imported on a new box: {err}"
