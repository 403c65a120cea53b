"""`gateway import` / `gateway export`: every row checked, bad rows named by line, all or nothing."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.config import EX_CONFIG, SiteConfig, parse_config
from gateway.store import csv_import, csv_staging
from gateway.store.admin import import_csv
from gateway.store.csv_import import read_files
from gateway.store.csv_steps import MAX_STEP_ROWS
from gateway.store.database import DB_NAME, open_database
from gateway.store.registry import set_blocked
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
    exported = table(config, "SELECT action, target FROM audit WHERE action = 'registry.export'")
    assert exported == [("registry.export", str(out))]  # who took a copy of the register is known
    with open(out / "slots.csv", encoding="utf-8-sig") as f:
        assert list(csv.DictReader(f)) == [
            {"zone": "main", "number": "B001", "resident_ref": "R1", "plates": "皖A12345;皖AD12345"}
        ]
    with open(out / "cards.csv", encoding="utf-8-sig") as f:
        cards = {row["card"]: row for row in csv.DictReader(f)}
    card = cards["'00112233"]  # written as text: Excel read 00112233 as 112233 (import takes it back)
    assert card["hours"] == "07:00-21:00;22:00-23:00"
    assert card["valid_to"] == "2027-01-31"  # all of 31 January included: its last day (Review 66 J)
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
    assert "cars.csv:3: plate: '皖A1234I' has the letter O or I" in err  # and the plate meant (Review 67 G2)
    assert "with the digits 0 and 1 it is 皖A12341" in err
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


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (
            "card,resident_ref,blocekd",
            "column 3 'blocekd' is not a column of a cards file: did you mean 'blocked'?",
        ),
        (
            "ref,building,unit,name,备注",
            "column 5 '备注' is not a column of a residents file: delete it or rename it",
        ),
    ],
)
def test_a_misspelt_or_extra_column_is_named_in_the_error(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str, says: str
) -> None:
    """A weekly card list whose `blocked` column is misspelt, or an Excel sheet with an extra 备注
    column, was refused with "names no known file kind" and the required columns it has."""
    people = write_csv(tmp_path / "people.csv", "ref,building,unit,name\nR1,3,2,张三\n")
    odd = write_csv(tmp_path / "odd.csv", f"{header}\n" + ",".join(["R1"] * len(header.split(","))) + "\n")
    assert main(["import", "-c", str(config), str(people), str(odd)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"odd.csv:1: {says} (a " in err and " file has " in err and " and may have " in err, err
    assert "names no known file kind" not in err


def test_a_failure_while_writing_leaves_the_store_as_it_was(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    before = table(config, "SELECT * FROM residents ORDER BY id")
    conn = open_database(config.parent / "data" / "gateway.db").conn
    conn.execute("CREATE TRIGGER boom BEFORE INSERT ON slots BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.close()
    update = write_csv(tmp_path / "p2.csv", "ref,building,unit,name\nR1,9栋,9单元,张三\n")
    new_slot = write_csv(tmp_path / "s2.csv", "zone,number,resident_ref,plates\nmain,B002,R1,\n")
    # A small import is one transaction: the failure leaves nothing of it, and says so (no traceback).
    assert main(["import", "-c", str(config), str(update), str(new_slot)]) == EX_CONFIG
    assert "disk full; nothing was imported" in capsys.readouterr().err
    assert table(config, "SELECT * FROM residents ORDER BY id") == before


def test_an_import_while_the_database_is_busy_says_nothing_was_imported(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def impatient(path: Path, **kwargs: Any) -> Any:  # the 10 s busy timeout, made short for the test
        db = open_database(path, **kwargs)
        db.conn.execute("PRAGMA busy_timeout=200")
        return db

    monkeypatch.setattr("gateway.store.admin.open_database", impatient)
    open_database(config.parent / "data" / "gateway.db").conn.close()
    holder = sqlite3.connect(config.parent / "data" / "gateway.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a long write elsewhere
    try:
        rc = main(["import", "-c", str(config), *map(str, good_files(tmp_path))])  # was a traceback
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert rc == 1  # not 78: another process's lock passes (README, Exit status)
    err = capsys.readouterr().err
    assert "database is locked; nothing was imported" in err and "fix: if the database is busy" in err
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0  # no leftover


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


def test_the_export_audit_row_says_where_the_copy_went(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README: an export is audited as "who took a copy of the register, and where". Given a
    relative folder (`gateway export -c /etc/estate-gateway/site.toml backup`), the row said only
    `backup`: no one could tell later which folder, on which stick, holds the residents' data."""
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    home = tmp_path / "home" / "admin"
    home.mkdir(parents=True)
    monkeypatch.chdir(home)
    assert main(["export", "-c", str(config), "backup"]) == 0
    assert main(["export-plates", "-c", str(config), "crops"]) == 0
    targets = table(config, "SELECT action, target FROM audit WHERE action LIKE '%.export' ORDER BY id")
    assert targets == [("registry.export", str(home / "backup")), ("plates.export", str(home / "crops"))]


def test_a_gbk_file_from_chinese_excel_is_read(config: Path, tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    # Excel on a Chinese Windows saves "CSV" as GBK: the usual file a property office sends.
    people.write_bytes("ref,building,unit,name\nR1,3栋,2单元,张三\n".encode("gbk"))
    assert main(["import", "-c", str(config), str(people)]) == 0  # was a UnicodeDecodeError traceback
    assert table(config, "SELECT building, name FROM residents") == [("3栋", "张三")]


def test_a_workbook_or_binary_file_is_refused_with_what_to_do(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "people.xlsx"
    book.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    assert main(["import", "-c", str(config), str(book)]) == EX_DATAERR
    assert "is an Excel workbook, not CSV; in Excel use Save As, CSV UTF-8" in capsys.readouterr().err


def test_a_reimport_without_a_column_keeps_what_the_store_has(config: Path, tmp_path: Path) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    conn = open_database(config.parent / "data" / "gateway.db").conn
    set_blocked(conn, datetime.now(UTC), "guard1", ("card", "0A1B2C3D4E"), True, "card reported lost")
    conn.close()
    before = {
        sql: table(config, sql)
        for sql in (
            "SELECT plate, class, monthly_until FROM vehicles ORDER BY plate",
            "SELECT value, vehicle_id, valid_to, hours, blocked FROM credentials ORDER BY value",
            "SELECT slot_id, vehicle_id FROM slot_vehicles ORDER BY 1, 2",
            "SELECT ref, room, phone_masked FROM residents ORDER BY ref",
        )
    }
    # Next week the office sends only the required columns (and re-assigns a slot by owner).
    files = [
        write_csv(tmp_path / "p2.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\nR2,5栋,1单元,李四\n"),
        write_csv(tmp_path / "v2.csv", "plate,resident_ref\n皖A12345,R1\n皖AD12345,R1\n苏E8888学,R2\n"),
        write_csv(tmp_path / "c2.csv", "card,resident_ref\n0A1B2C3D4E,R1\n00112233,R2\n"),
        write_csv(tmp_path / "s2.csv", "zone,number,resident_ref\nmain,B001,R1\n"),
    ]
    assert main(["import", "-c", str(config), *map(str, files)]) == 0
    # The lost card stays blocked; monthly periods, card-car links, hours, slot cars, rooms stay.
    for sql, rows in before.items():
        assert table(config, sql) == rows, sql


def test_an_empty_cell_clears_and_a_lifted_block_is_audited(config: Path, tmp_path: Path) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    conn = open_database(config.parent / "data" / "gateway.db").conn
    set_blocked(conn, datetime.now(UTC), "guard1", ("card", "0A1B2C3D4E"), True, "card reported lost")
    conn.close()
    cards = write_csv(tmp_path / "c2.csv", "card,resident_ref,plate,hours,blocked\n0A1B2C3D4E,R1,,,0\n")
    assert main(["import", "-c", str(config), str(cards)]) == 0
    assert table(config, "SELECT vehicle_id, hours, blocked FROM credentials WHERE value = '0A1B2C3D4E'") == [
        (None, "", 0)
    ]
    assert table(config, "SELECT action, target FROM audit WHERE action = 'credential.unblock'") == [
        ("credential.unblock", "card:******3D4E")
    ]


def test_an_import_is_audited_and_sent_upstream(config: Path, tmp_path: Path) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    ((actor, target, detail),) = table(
        config, "SELECT actor, target, detail FROM audit WHERE action = 'registry.import'"
    )
    assert actor.startswith("cli:") and target == "people.csv,cars.csv,cards.csv,slots.csv"
    assert json.loads(detail)["counts"] == {"residents": 2, "vehicles": 3, "cards": 2, "slots": 1}
    sent = [json.loads(p) for (p,) in table(config, "SELECT payload FROM outbox WHERE topic = 'registry'")]
    # Its rows (each one added: csv_records.py), then its summary.
    assert [(r["op"], r["entity"]) for r in sent] == [("import", "rows")] * 4 + [("import", "batch")]
    assert sum(len(r["rows"]) for r in sent[:-1]) == 2 + 3 + 2 + 1


def test_a_card_cannot_open_the_barrier_for_another_residents_car(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = good_files(tmp_path)
    write_csv(
        tmp_path / "cards.csv", "card,resident_ref,plate\n0A1B2C3D4E,R1,皖A12345\n00112233,R2,皖A12345\n"
    )
    assert main(["import", "-c", str(config), *map(str, files)]) == EX_DATAERR
    assert "cards.csv:3: plate: 皖A12345 is R1's vehicle, not R2's" in capsys.readouterr().err
    # Nor by moving a card to another resident while its car link is kept.
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    moved = write_csv(tmp_path / "c3.csv", "card,resident_ref\n0A1B2C3D4E,R2\n")
    assert main(["import", "-c", str(config), str(moved)]) == EX_DATAERR
    assert "c3.csv:2: resident_ref: 皖A12345 is R1's vehicle, not R2's" in capsys.readouterr().err


@pytest.mark.parametrize("per_plate_up_to", [1000, 0])  # a small batch asks per plate, a large one scans
def test_a_car_cannot_move_away_from_a_card_that_names_it(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    per_plate_up_to: int,
) -> None:
    """R1's card 0A1B2C3D4E names R1's car 皖A12345. An import giving the car to R2 alone went in,
    and R1's card then brought R2's car in. The card moves or lets go of the car in the same import."""
    monkeypatch.setattr(csv_import, "_ASK_PER_PLATE_UP_TO", per_plate_up_to)
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    moved = write_csv(tmp_path / "c4.csv", "plate,resident_ref\n皖A12345,R2\n")
    assert main(["import", "-c", str(config), str(moved)]) == EX_DATAERR
    assert "c4.csv:2: resident_ref: card 0A1B2C3D4E: 皖A12345 is R2's vehicle, not R1's" in (
        capsys.readouterr().err
    )
    linked = """SELECT r.ref, vr.ref FROM credentials c JOIN residents r ON r.id = c.resident_id
        JOIN vehicles v ON v.id = c.vehicle_id JOIN residents vr ON vr.id = v.resident_id
        WHERE c.value = '0A1B2C3D4E'"""
    assert table(config, linked) == [("R1", "R1")]
    card_too = write_csv(tmp_path / "c5.csv", "card,resident_ref\n0A1B2C3D4E,R2\n")
    assert main(["import", "-c", str(config), str(moved), str(card_too)]) == 0
    assert table(config, linked) == [("R2", "R2")]


def test_the_same_key_in_two_files_is_reported(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = write_csv(tmp_path / "building3.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    b = write_csv(tmp_path / "building5.csv", "ref,building,unit,name\nR1,5栋,1单元,李四\n")
    assert main(["import", "-c", str(config), str(a), str(b)]) == EX_DATAERR  # was: 李四 silently won
    assert f"building5.csv:2: R1 repeats {a}:2" in capsys.readouterr().err
    assert table(config, "SELECT count(*) FROM residents") == [(0,)]


def test_export_then_import_into_a_new_gateway_keeps_masked_phones(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for d in (old, new):
        d.mkdir()
        (d / "site.toml").write_text(site_toml(d / "data"), encoding="utf-8")
    assert main(["import", "-c", str(old / "site.toml"), *map(str, good_files(tmp_path))]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(old / "site.toml"), str(out)]) == 0
    assert main(["import", "-c", str(new / "site.toml"), *map(str, sorted(out.glob("*.csv")))]) == 0
    # The masked number is shown again; the hash (to match a phone typed at the booth) cannot move.
    assert table(new / "site.toml", "SELECT ref, phone_masked, phone_hash FROM residents ORDER BY ref") == [
        ("R1", "138****5678", ""),
        ("R2", "", ""),
    ]
    clear = write_csv(
        tmp_path / "bad.csv", "ref,building,unit,name,phone_masked\nR1,3栋,2单元,张三,13812345678\n"
    )
    assert main(["import", "-c", str(new / "site.toml"), str(clear)]) == EX_DATAERR


_RESIDENTS_AND_CARDS = "SELECT (SELECT count(*) FROM residents) + (SELECT count(*) FROM credentials)"


def test_a_large_import_does_not_hold_up_the_lanes(tmp_path: Path) -> None:
    """One transaction held the write lock 1.1 s for 40,000 residents with cards (8.4 s for
    100,000), and a lane's card past the 10 s busy timeout failed as storage_failed. What lets the
    lanes in is checked here: the import commits in steps of at most MAX_STEP_ROWS rows, and in
    the gap after each step another connection takes the write lock at once (BEGIN IMMEDIATE with
    no busy timeout), writes as a lane does and commits. How long a lane waits is a benchmark's
    figure, not a test's: `gateway bench import --rows 100000 --json`, `lane_wait_max_ms`
    (docs/benchmarks.md)."""
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    n = 40_000
    people = tmp_path / "r.csv"
    people.write_text(
        "ref,building,unit,name\n" + "".join(f"R{i},{i % 50}栋,{i % 6}单元,张{i}\n" for i in range(n)),
        encoding="utf-8",
    )
    cards = tmp_path / "c.csv"
    cards.write_text("card,resident_ref\n" + "".join(f"{i:010d},R{i}\n" for i in range(n)), encoding="utf-8")
    written: list[int] = []  # residents and cards in the store at each gap

    def lane_writes() -> None:
        lane = sqlite3.connect(cfg.site.data_dir / DB_NAME, timeout=0, isolation_level=None)
        try:
            lane.execute("BEGIN IMMEDIATE")  # raises "database is locked" where the import holds it
            (rows,) = lane.execute(_RESIDENTS_AND_CARDS).fetchone()
            lane.execute(
                "INSERT INTO presence (subject, inside, lane, at) VALUES ('x', 1, 'door', 'now') "
                "ON CONFLICT DO UPDATE SET at = 'now'"
            )
            lane.execute("COMMIT")
        finally:
            lane.close()
        written.append(rows)

    assert import_csv(cfg, [people, cards], pause=lane_writes) == {
        "residents": n,
        "vehicles": 0,
        "cards": n,
        "slots": 0,
    }
    with closing(sqlite3.connect(cfg.site.data_dir / DB_NAME)) as db:
        (in_store,) = db.execute(_RESIDENTS_AND_CARDS).fetchone()
    assert in_store == 2 * n
    steps = [*written, in_store]
    assert len(steps) >= 2 * n // MAX_STEP_ROWS, f"{2 * n} rows written in {len(steps)} steps"
    sizes = [after - before for before, after in zip([0, *steps], steps, strict=False)]
    assert min(sizes) > 0 and max(sizes) <= MAX_STEP_ROWS, f"steps of {min(sizes)}-{max(sizes)} rows"


def _stopped_after_two_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteConfig:
    """good_files imported in steps of two rows, and the power cut after the second step is in."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 2)
    steps = 0

    def power_cut() -> None:
        nonlocal steps
        steps += 1
        if steps == 2:
            raise KeyboardInterrupt

    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    with pytest.raises(KeyboardInterrupt):
        import_csv(cfg, good_files(tmp_path), pause=power_cut)
    return cfg


def test_an_import_stopped_half_way_is_finished_by_the_next_run(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = _stopped_after_two_steps(tmp_path, monkeypatch)
    assert table(config, "SELECT count(*) FROM residents") == [(2,)]
    assert table(config, "SELECT count(*) FROM slots") == [(0,)]  # half applied until...
    assert main(["import", "-c", str(config)]) == 0  # ...the next run, with or without files
    assert "finishing the import of people.csv, cars.csv, cards.csv, slots.csv" in capsys.readouterr().out
    assert table(config, "SELECT count(*) FROM slot_vehicles") == [(2,)]
    assert len(table(config, "SELECT id FROM audit WHERE action = 'registry.import'")) == 1
    assert not (cfg.site.data_dir / "import-staging.db").exists()


def test_two_files_of_one_kind_each_write_only_their_own_columns(config: Path, tmp_path: Path) -> None:
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    # One building's office sends rooms and phones, the other only the required columns, in one run.
    files = [
        write_csv(tmp_path / "b3.csv", "ref,building,unit,name,room,phone\nR1,3栋,2单元,张三,999,\n"),
        write_csv(tmp_path / "b5.csv", "ref,building,unit,name\nR2,5栋,1单元,李四改\nR3,5栋,2单元,王五\n"),
        write_csv(tmp_path / "b3b.csv", "ref,building,unit,name,room\nR4,3栋,1单元,赵六,101\n"),
    ]
    assert main(["import", "-c", str(config), *map(str, files)]) == 0
    assert table(config, "SELECT ref, name, room, phone_masked FROM residents ORDER BY ref") == [
        ("R1", "张三", "999", ""),  # its file has room and an empty phone: both written
        ("R2", "李四改", "102", ""),  # its file has neither: the room stays
        ("R3", "王五", "", ""),
        ("R4", "赵六", "101", ""),
    ]


def test_the_same_import_in_steps_of_one_row_stores_the_same(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_step = tmp_path / "one"
    one_step.mkdir()
    (one_step / "site.toml").write_text(site_toml(one_step / "data"), encoding="utf-8")
    assert main(["import", "-c", str(one_step / "site.toml"), *map(str, good_files(tmp_path))]) == 0
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 1)
    assert main(["import", "-c", str(config), *map(str, good_files(tmp_path))]) == 0
    for sql in (
        "SELECT ref, building, unit, room, name, phone_masked, phone_hash != '' FROM residents ORDER BY ref",
        "SELECT plate, class, monthly_until FROM vehicles ORDER BY plate",
        "SELECT kind, value, valid_to, hours, blocked FROM credentials ORDER BY value",
        "SELECT s.zone, s.number, v.plate FROM slot_vehicles sv JOIN slots s ON s.id = sv.slot_id "
        "JOIN vehicles v ON v.id = sv.vehicle_id ORDER BY 1, 2, 3",
    ):
        assert table(config, sql) == table(one_step / "site.toml", sql), sql
    assert len(table(config, "SELECT id FROM audit WHERE action = 'registry.import'")) == 1


def test_an_import_left_unfinished_by_the_previous_version_is_finished(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Until 2026-11-22 the staging file held one JSON row per record; an import it left half done,
    # then an update of the gateway: the next run still finishes it.
    data = config.parent / "data"
    open_database(data / "gateway.db").conn.close()
    old = sqlite3.connect(data / "import-staging.db")
    old.executescript(
        """CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), import_id TEXT, files TEXT,
               actor TEXT, counts TEXT, total INTEGER);
           CREATE TABLE rows (n INTEGER PRIMARY KEY, kind TEXT, given TEXT, data TEXT);"""
    )
    rows = [
        (
            "residents",
            "room",
            {
                "ref": "R1",
                "building": "3栋",
                "unit": "2单元",
                "room": "301",
                "name": "张三",
                "pmode": "keep",
                "phone_masked": "",
                "phone_hash": "",
                "valid_from": None,
                "valid_to": None,
                "blocked": 0,
            },
        ),
        (
            "vehicles",
            "",
            {
                "plate": "皖A12345",
                "resident_ref": "R1",
                "class": "car",
                "monthly_until": None,
                "valid_from": None,
                "valid_to": None,
                "blocked": 0,
            },
        ),
        (
            "cards",
            "hours",
            {
                "card": "0A1B2C3D4E",
                "resident_ref": "R1",
                "plate": None,
                "valid_from": None,
                "valid_to": None,
                "hours": "07:00-21:00",
                "blocked": 0,
            },
        ),
        (
            "slots",
            "plates,resident_ref",
            {"zone": "main", "number": "B001", "resident_ref": "R1", "plates": ["皖A12345"]},
        ),
    ]
    old.executemany(
        "INSERT INTO rows (kind, given, data) VALUES (?, ?, ?)",
        [(k, g, json.dumps(d, ensure_ascii=False)) for k, g, d in rows],
    )
    counts = {"residents": 1, "vehicles": 1, "cards": 1, "slots": 1}
    old.execute(
        "INSERT INTO meta VALUES (1, 'old-import', '[\"a.csv\"]', 'office', ?, 4)", (json.dumps(counts),)
    )
    old.commit()
    old.close()
    assert main(["import", "-c", str(config)]) == 0
    assert "finishing the import of a.csv (4 rows)" in capsys.readouterr().out
    assert table(config, "SELECT ref, room FROM residents") == [("R1", "301")]
    assert table(config, "SELECT value, hours FROM credentials ORDER BY kind") == [
        ("0A1B2C3D4E", "07:00-21:00"),
        ("皖A12345", ""),
    ]
    assert table(config, "SELECT count(*) FROM slot_vehicles") == [(1,)]
    assert table(config, "SELECT actor FROM audit WHERE action = 'registry.import'") == [("office",)]
    assert not (data / "import-staging.db").exists()


def _old_staging_file(data: Path) -> None:
    """A staging file as the version before 2026-11-22 left it: one JSON row per record."""
    old = sqlite3.connect(data / "import-staging.db")
    old.executescript(
        """CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), import_id TEXT, files TEXT,
               actor TEXT, counts TEXT, total INTEGER);
           CREATE TABLE rows (n INTEGER PRIMARY KEY, kind TEXT, given TEXT, data TEXT);"""
    )
    row = {"ref": "R1", "building": "3栋", "unit": "2单元", "room": "301", "name": "张三", "pmode": "keep"}
    row |= {"phone_masked": "", "phone_hash": "", "valid_from": None, "valid_to": None, "blocked": 0}
    old.execute(
        "INSERT INTO rows (kind, given, data) VALUES ('residents', 'room', ?)",
        (json.dumps(row, ensure_ascii=False),),
    )
    counts = {"residents": 1, "vehicles": 0, "cards": 0, "slots": 0}
    old.execute(
        "INSERT INTO meta VALUES (1, 'old-import', '[\"a.csv\"]', 'office', ?, 1)", (json.dumps(counts),)
    )
    old.commit()
    old.close()


def test_an_unfinished_import_that_cannot_be_read_now_is_kept(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = config.parent / "data"
    open_database(data / "gateway.db").conn.close()
    _old_staging_file(data)
    monkeypatch.setattr("sqlite3.connect", lambda *a, **k: _connect(*a, **{**k, "timeout": 0.1}))
    holder = _connect(data / "import-staging.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # someone has it open in the sqlite3 shell: it cannot be typed now
    try:
        assert main(["import", "-c", str(config)]) == 1  # busy passes (README, Exit status)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "cannot read the unfinished import" in capsys.readouterr().err
    assert (data / "import-staging.db").exists()  # was: taken for a file written only partly, deleted
    monkeypatch.undo()
    assert main(["import", "-c", str(config)]) == 0  # once it is free, the import is finished
    assert table(config, "SELECT ref, room FROM residents") == [("R1", "301")]


_connect = sqlite3.connect


def test_a_repeat_of_a_row_in_a_file_that_stopped_part_way_names_that_file(tmp_path: Path) -> None:
    ok = write_csv(tmp_path / "a.csv", "ref,building,unit,name\nR0,1栋,1单元,甲\n")
    # b.csv: R1 on line 2 is read, then a field over the csv module's limit on line 3 stops the file.
    broken = tmp_path / "b.csv"
    broken.write_text(
        "ref,building,unit,name\nR1,1栋,1单元,乙\nR2,1栋,1单元," + "x" * 140_000 + "\n", encoding="utf-8"
    )
    c = write_csv(tmp_path / "c.csv", "ref,building,unit,name\nR9,1栋,1单元,丙\nR1,2栋,2单元,丁\n")
    _, problems = read_files([ok, broken, c], ZoneInfo("Asia/Shanghai"))
    assert f"{c}:3: R1 repeats {broken}:2" in problems  # was: "repeats line 2", of the wrong file


def test_a_busy_database_while_finishing_an_import_keeps_it(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stopped_after_two_steps(tmp_path, monkeypatch)
    assert table(config, "SELECT count(*) FROM residents") == [(2,)]  # part of it is in

    def impatient(path: Path, **kwargs: Any) -> Any:
        db = open_database(path, **kwargs)
        db.conn.execute("PRAGMA busy_timeout=200")
        return db

    monkeypatch.setattr("gateway.store.admin.open_database", impatient)
    holder = _connect(config.parent / "data" / "gateway.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a long write elsewhere: the first step of the roll-forward fails
    try:
        assert main(["import", "-c", str(config)]) == 1  # busy passes (README, Exit status)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert "nothing was imported" not in err and "kept in" in err  # was: deleted, "nothing was imported"
    monkeypatch.undo()
    assert main(["import", "-c", str(config)]) == 0
    assert table(config, "SELECT count(*) FROM slot_vehicles") == [(2,)]


def test_an_import_stopped_after_its_last_step_is_not_written_again_over_a_later_block(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import killed after its last step, before it removed its staging file, is finished: the
    next run (days later, maybe) must not write it again over a card a guard blocked meanwhile."""
    for name in ("STEP_ROWS", "MIN_STEP_ROWS", "MAX_STEP_ROWS"):
        monkeypatch.setattr(f"gateway.store.csv_steps.{name}", 2)
    real = csv_staging.remove

    def killed(path: Path) -> None:
        if path.exists():
            raise KeyboardInterrupt  # between the last COMMIT and removing the staging file

    monkeypatch.setattr(csv_staging, "remove", killed)
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    with pytest.raises(KeyboardInterrupt):
        import_csv(cfg, good_files(tmp_path), pause=lambda: None)
    monkeypatch.setattr(csv_staging, "remove", real)
    db = open_database(cfg.site.data_dir / "gateway.db")  # R1 reports the card lost: blocked at once
    set_blocked(db.conn, datetime.now(UTC), "guard1", ("card", "0A1B2C3D4E"), True, "丢失")
    db.conn.close()

    assert main(["import", "-c", str(config)]) == 0  # the next routine import
    assert table(config, "SELECT blocked FROM credentials WHERE value = '0A1B2C3D4E'") == [(1,)]
    assert table(config, "SELECT actor FROM audit WHERE action = 'credential.unblock'") == []
    # The import is on record once, and sent upstream once.
    assert len(table(config, "SELECT id FROM audit WHERE action = 'registry.import'")) == 1
    assert len(table(config, "SELECT seq FROM outbox WHERE payload LIKE '%\"batch\"%'")) == 1
    assert not (cfg.site.data_dir / "import-staging.db").exists()
