"""`gateway import` / `gateway export`: every row checked, bad rows named by line, all or nothing."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.store.database import open_database
from tests.conftest import site_toml, write_csv


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def good_files(tmp_path: Path) -> list[Path]:
    return [
        write_csv(
            tmp_path / "people.csv",
            """
            ref,building,unit,room,name,phone
            R1,3栋,2单元,301,张三,13812345678
            R2,5栋,1单元,102,李四,
            """,
        ),
        write_csv(
            tmp_path / "cars.csv",
            """
            plate,resident_ref,class,monthly_until
            皖A12345,R1,car,
            皖AD12345,R1,car,
            苏E8888学,R2,car,2027-06-30
            """,
        ),
        write_csv(
            tmp_path / "cards.csv",
            """
            card,resident_ref,plate,valid_to,hours,blocked
            0A1B2C3D4E,R1,皖A12345,,,0
            00112233,R2,,2027-01-31,07:00-21:00;22:00-23:00,no
            """,
        ),
        write_csv(
            tmp_path / "slots.csv",
            """
            zone,number,resident_ref,plates
            main,B001,R1,皖A12345;皖AD12345
            """,
        ),
    ]


def table(config: Path, sql: str) -> list[tuple[object, ...]]:
    conn = open_database(config.parent / "data" / "gateway.db").conn
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_import_then_export_round_trips(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    assert "imported 2 residents, 3 vehicles, 2 cards, 1 slots" in capsys.readouterr().out
    # The phone is kept masked plus a keyed hash; the clear number is nowhere in the database.
    assert table(config, "SELECT phone_masked FROM residents WHERE ref = 'R1'") == [("138****5678",)]
    raw = (config.parent / "data" / "gateway.db").read_bytes()
    assert b"13812345678" not in raw
    out = tmp_path / "export"
    assert main(["export", "-c", str(config), str(out)]) == 0
    with open(out / "slots.csv", encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == [
            {"zone": "main", "number": "B001", "resident_ref": "R1", "plates": "皖A12345;皖AD12345"}
        ]
    with open(out / "cards.csv", encoding="utf-8") as f:
        cards = {row["card"]: row for row in csv.DictReader(f)}
    assert cards["00112233"]["hours"] == "07:00-21:00;22:00-23:00"
    assert cards["00112233"]["valid_to"] == "2027-02-01 00:00"  # all of 31 January included
    # Importing the export again changes nothing.
    before = table(config, "SELECT * FROM credentials ORDER BY id")
    assert main(["import", "-c", str(config), *map(str, sorted(out.glob("*.csv")))]) == 0
    assert table(config, "SELECT * FROM credentials ORDER BY id") == before
    assert table(config, "SELECT phone_masked FROM residents WHERE ref = 'R1'") == [("138****5678",)]


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = good_files(tmp_path)
    write_csv(
        tmp_path / "cars.csv",
        """
        plate,resident_ref,class,monthly_until
        皖A12345,R1,car,
        皖A1234I,R1,car,
        苏E8888学,R9,truck,2027-13-01
        皖A12345,R2,car,
        皖AMZ21D,R1,car,
        """,
    )
    write_csv(
        tmp_path / "slots.csv",
        """
        zone,number,resident_ref,plates
        garage,B001,R1,
        """,
    )
    assert main(["import", "-c", str(config), *map(str, files)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "nothing was imported" in err
    assert "cars.csv:3: plate: '皖A1234I' is not a Chinese licence plate" in err
    assert "cars.csv:4: class: 'truck' is not one of car, motorcycle, bicycle" in err
    assert "cars.csv:5: 皖A12345 repeats line 2" in err
    assert "cars.csv:6: plate: '皖AMZ21D' has more than 2 letters after the office letter" in err
    assert table(config, "SELECT count(*) FROM residents") == [(0,)]


def test_unknown_references_are_reported(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = good_files(tmp_path)
    write_csv(
        tmp_path / "slots.csv",
        """
        zone,number,resident_ref,plates
        garage,B001,R7,皖B99999
        """,
    )
    assert main(["import", "-c", str(config), *map(str, files)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "slots.csv:2: zone: no zone in the site config with id 'garage'" in err
    assert "slots.csv:2: resident_ref: no resident 'R7'" in err
    assert "slots.csv:2: plates: no vehicle '皖B99999'" in err


def test_unknown_file_kind_and_ragged_rows(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = write_csv(tmp_path / "odd.csv", "name,age\nA,3\n")
    ragged = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,1,1,张三,extra\n")
    assert main(["import", "-c", str(config), str(odd), str(ragged)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert "odd.csv:1: header ['name', 'age'] names no known file kind" in err
    assert "r.csv:2: more fields than the header has columns" in err


def test_a_failure_while_writing_leaves_the_store_as_it_was(config: Path, tmp_path: Path) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    before = table(config, "SELECT * FROM residents ORDER BY id")
    conn = open_database(config.parent / "data" / "gateway.db").conn
    conn.execute("CREATE TRIGGER boom BEFORE INSERT ON slots BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.close()
    update = write_csv(tmp_path / "p2.csv", "ref,building,unit,name\nR1,9栋,9单元,张三\n")
    new_slot = write_csv(tmp_path / "s2.csv", "zone,number,resident_ref,plates\nmain,B002,R1,\n")
    with pytest.raises(Exception, match="disk full"):
        main(["import", "-c", str(config), str(update), str(new_slot)])
    assert table(config, "SELECT * FROM residents ORDER BY id") == before


def test_export_to_a_path_that_is_not_a_folder_says_what_to_do(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    target = tmp_path / "backup"
    target.write_text("not a folder")
    assert main(["export", "-c", str(config), str(target)]) == 1  # was a FileExistsError traceback
    err = capsys.readouterr().err
    assert f"cannot write the export to {target}" in err and "fix: give a folder" in err
    assert target.read_text() == "not a folder"
