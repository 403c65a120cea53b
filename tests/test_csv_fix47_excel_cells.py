"""`gateway export` opened in Excel or WPS and saved back, and validity times with seconds: each
cell reads back as the text it was exported as (README, "CSV files").

What Excel and WPS do with a CSV cell they open (formulas are covered in test_csv_spreadsheet.py):
a cell of digits is a number (0012345678 shows, and is saved back, as 12345678), a cell such as
2-15 is a date (shown and saved as 2月15日 on a Chinese Windows). Text written after an apostrophe
(how `export` writes text that would run as a formula) stays the text it is.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.parking.report import report_csv
from gateway.runtime.gateway import Gateway
from gateway.store.admin import export_csv, import_csv
from gateway.store.database import open_database
from gateway.store.spreadsheet import as_cell, from_cell
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import parking_config
from tests.snapshot_helpers import apply_snapshot


def excel_reads(cell: str) -> str:
    """The cell's text as Excel or WPS shows it, and writes it when the file is saved as CSV."""
    if m := re.fullmatch(r'="(.*)"', cell):
        return m[1]
    if re.fullmatch(r"\d+", cell) and len(cell) <= 15:
        return str(int(cell))
    if (m := re.fullmatch(r"(\d{1,2})-(\d{1,2})", cell)) and 1 <= int(m[1]) <= 12 and 1 <= int(m[2]) <= 31:
        return f"{int(m[1])}月{int(m[2])}日"
    return cell


def open_and_save_in_excel(folder: Path, saved: Path) -> list[Path]:
    saved.mkdir()
    out = []
    for path in sorted(folder.glob("*.csv")):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
        buf = io.StringIO()
        csv.writer(buf).writerows([rows[0], *([excel_reads(c) for c in row] for row in rows[1:])])
        # Excel's "CSV" on a Chinese Windows
        (saved / path.name).write_bytes(buf.getvalue().encode("gb18030"))
        out.append(saved / path.name)
    return out


def new_site(folder: Path) -> Path:
    folder.mkdir()
    config = folder / "site.toml"
    config.write_text(site_toml(folder / "data"), encoding="utf-8")
    return config


def register(config: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(config.parent / "data" / "gateway.db") as conn:
        return conn.execute(sql).fetchall()


def test_card_numbers_refs_and_rooms_keep_their_leading_zeros_in_excel(tmp_path: Path) -> None:
    """The office opens residents.csv and cards.csv of `gateway export` in Excel, as the export is
    meant for, and saves them back: the card 0012345678 became 12345678, the resident 0007 became 7
    and room 0301 became 301. Imported, the resident's card is another number, refused `unknown`
    at the door, without a word from the import. Each should read in Excel as it was exported."""
    old = new_site(tmp_path / "old")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,room,name\n0007,3栋,2单元,0301,张三\n"),
        write_csv(tmp_path / "c.csv", "card,resident_ref\n0012345678,0007\n"),
    ]
    assert main(["import", "-c", str(old), *map(str, files)]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(old), str(out)]) == 0
    new = new_site(tmp_path / "new")
    assert main(["import", "-c", str(new), *map(str, open_and_save_in_excel(out, tmp_path / "saved"))]) == 0
    assert register(new, "SELECT value FROM credentials WHERE kind = 'card'") == [("0012345678",)], (
        "the card number lost its leading zeros in Excel"
    )
    assert register(new, "SELECT ref, room FROM residents") == [("0007", "0301")], (
        "the resident's ref and room lost their leading zeros in Excel"
    )


def test_a_slot_number_such_as_2_15_is_not_turned_into_a_date_in_excel(tmp_path: Path) -> None:
    """Slot 2-15 (floor 2, space 15) is exported as 2-15, which Excel shows as 2月15日 and saves
    back so: the office's copy of the register imports a slot 2月15日 that no car park has, and the
    resident's car loses its slot. It should read in Excel as 2-15."""
    old = new_site(tmp_path / "old")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
        write_csv(tmp_path / "s.csv", "zone,number,resident_ref\nmain,2-15,R1\n"),
    ]
    assert main(["import", "-c", str(old), *map(str, files)]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(old), str(out)]) == 0
    new = new_site(tmp_path / "new")
    assert main(["import", "-c", str(new), *map(str, open_and_save_in_excel(out, tmp_path / "saved"))]) == 0
    assert register(new, "SELECT zone, number FROM slots") == [("main", "2-15")], (
        "the slot number became a date in Excel"
    )


@pytest.mark.parametrize(
    "text",
    [
        "0012345678",  # a card: Excel drops the zeros
        "0301",  # a room
        "0.50",  # Excel shows 0.5
        "123456789012",  # 12 digits: Excel's General shows 1.23457E+11 and saves that
        "12345678901234567890",  # past 15 digits Excel keeps zeros
        "1E10",  # a number in scientific form
        "12e4",
        "2-15",  # a slot: 2月15日
        "2/15",
        "13-5",
        "2025-01",  # a tariff version: January 2025
        "2025/1",
        "2026-03-01",
        "2026/3/1 8:00",
        "08:00",  # shown as 8:00
        " 0012",
    ],
)
def test_text_a_spreadsheet_would_read_as_a_number_or_date_is_written_as_text(text: str) -> None:
    cell = as_cell(text)
    assert cell == "'" + text and from_cell(str(cell)) == text


@pytest.mark.parametrize(
    "value",
    ["1234", "0", "0.5", "301", "B001", "R1", "皖A12345", "0A1B2C3D4E", "07:00-21:00;22:00", 1234, 0, 1.5],
)
def test_text_a_spreadsheet_shows_as_it_is_gets_no_apostrophe(value: object) -> None:
    assert as_cell(value) == value


def test_the_report_csv_keeps_amounts_as_numbers_and_a_tariff_version_as_text() -> None:
    body = {"parking": {"revenue_fen": 1234, "tariff_versions": ["2025-01"]}, "cars": "0"}
    rows = dict(csv.reader(io.StringIO(report_csv(body).removeprefix("\ufeff"))))
    assert rows["parking.revenue_fen"] == "1234"
    assert rows["cars"] == "0"
    assert "2025-01" in rows["parking.tariff_versions"]
    assert all(not v.startswith("2025-01") for v in rows.values())  # Excel reads 2025-01 as a month


ENTRIES = [
    {
        "kind": "resident",
        "ref": "R1",
        "building": "3栋",
        "unit": "2单元",
        "name": "张三",
        "valid_from": "2026-03-01T08:00:30+08:00",
        "valid_to": "2026-12-31T23:59:59+08:00",
    },
    {
        "kind": "vehicle",
        "plate": "皖A12345",
        "resident": "R1",
        "monthly_until": "2026-03-31T23:59:59.250+08:00",
    },
    {"kind": "card", "card": "0A1B2C3D4E", "resident": "R1", "valid_to": "2026-12-31T23:59:59+08:00"},
]
TIMES = (
    "SELECT 'resident', ref, valid_from, valid_to FROM residents "
    "UNION ALL SELECT 'vehicle', plate, monthly_until, NULL FROM vehicles "
    "UNION ALL SELECT kind, value, valid_from, valid_to FROM credentials ORDER BY 1, 2"
)


def _times(data_dir: Path) -> list[tuple[object, ...]]:
    conn = open_database(data_dir / "gateway.db").conn
    try:
        return conn.execute(TIMES).fetchall()
    finally:
        conn.close()


def test_an_export_keeps_the_seconds_of_a_validity_the_centre_sent(tmp_path: Path) -> None:
    """README: `gateway export` writes "one copy of the register" that `import` reads back, and
    importing an export changes nothing. The centre sent a period from 08:00:30 to 23:59:59 (and a
    monthly_until with a fraction of a second); the export wrote 08:00 and 23:59, so a gateway
    rebuilt from it had every card, car and resident starting and ending at other moments than the
    centre set. The export writes the seconds it holds, and their fraction when there is one."""
    old_cfg = parking_config(tmp_path / "old")
    gw = Gateway(old_cfg)
    gw.start()
    try:
        apply_snapshot(gw, 1, ENTRIES)
    finally:
        gw.stop()
    out = tmp_path / "export"
    export_csv(old_cfg, out, "cli:office")
    with open(out / "residents.csv", encoding="utf-8-sig") as f:
        resident = next(csv.DictReader(f))
    assert (resident["valid_from"], resident["valid_to"]) == ("2026-03-01 08:00:30", "2026-12-31 23:59:59")
    with open(out / "vehicles.csv", encoding="utf-8-sig") as f:
        assert next(csv.DictReader(f))["monthly_until"] == "2026-03-31 23:59:59.25"
    new_cfg = parking_config(tmp_path / "new")
    import_csv(new_cfg, sorted(out.glob("*.csv")))
    assert _times(tmp_path / "new") == _times(tmp_path / "old"), (
        "the register rebuilt from the export has other validity times than the one exported"
    )
