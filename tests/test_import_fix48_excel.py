"""The register's round trip through Excel on a Chinese Windows PC: what Excel writes when it saves
"CSV" (code page 936, no byte-order mark, CRLF; rows and columns it cleared) imports back, and what
it cannot write (a character GBK lacks, saved as '?') is refused rather than stored."""

from __future__ import annotations

import csv
import io
import sqlite3
from contextlib import closing
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.store.csv_file import Unreadable, decode
from gateway.store.csv_inside import read_inside
from tests.conftest import site_toml, write_csv

SAVE_AS_UTF8 = "save it as CSV UTF-8: 另存为 → CSV UTF-8（逗号分隔）"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def table(config: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(config.parent / "data" / "gateway.db")) as conn:
        return conn.execute(sql).fetchall()


def excel_csv(rows: list[list[str]], path: Path, encoding: str = "gbk") -> Path:
    """Rows as Excel on a Chinese Windows saves "CSV": code page 936, CRLF, no BOM; a character
    the code page lacks written as '?' (WideCharToMultiByte)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
    return path


def exported(config: Path, tmp_path: Path, kind: str) -> list[list[str]]:
    out = tmp_path / "export"
    assert main(["export", "-c", str(config), str(out)]) == 0
    text = (out / f"{kind}.csv").read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def two_residents(config: Path, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,1栋,2单元,张三\nR2,1栋,3单元,李四\n")
    assert main(["import", "-c", str(config), str(people)]) == 0


# 1. A GBK file whose bytes are valid UTF-8 too


def test_a_henan_estates_vehicles_saved_by_excel_import_back(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """豫 is D4 A5 in GBK, valid UTF-8 ('ԥ'): every plate of a Henan estate was refused."""
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,1,2,张三\nR2,1,3,李四\n"),
        write_csv(tmp_path / "v.csv", "plate,resident_ref\n豫A12345,R1\n豫AD12345,R2\n"),
    ]
    assert main(["import", "-c", str(config), *map(str, files)]) == 0  # UTF-8 without a BOM
    saved = excel_csv(exported(config, tmp_path, "vehicles"), tmp_path / "vehicles.csv")
    capsys.readouterr()
    rc = main(["import", "-c", str(config), str(saved)])
    err = capsys.readouterr().err
    assert rc == 0, err[-600:]
    assert sorted(table(config, "SELECT plate FROM vehicles")) == [("豫A12345",), ("豫AD12345",)]


def test_a_resident_name_saved_by_excel_as_gbk_is_not_imported_garbled(config: Path, tmp_path: Path) -> None:
    """佟伟 in GBK is valid UTF-8 ('١ΰ'), stored so without a word."""
    saved = excel_csv(
        [["ref", "building", "unit", "room", "name"], ["R1", "1", "2", "301", "佟伟"]],
        tmp_path / "residents.csv",
    )
    assert main(["import", "-c", str(config), str(saved)]) == 0
    assert table(config, "SELECT name FROM residents") == [("佟伟",)]


@pytest.mark.parametrize(
    ("raw", "text", "gbk"),
    [
        ("张三,豫A12345\r\n".encode("gbk"), "张三,豫A12345\r\n", True),
        ("R1,鲁B12345\r\n".encode("gbk"), "R1,鲁B12345\r\n", True),  # C2 B3: '³' as UTF-8
        # UTF-8 without a BOM (a script's, LibreOffice's): 张三 reads as GBK too, as 寮犱笁.
        ("R1,1,2,张三\n".encode(), "R1,1,2,张三\n", False),
        ("R1,1,2,汽车\n".encode(), "R1,1,2,汽车\n", False),  # 姹借溅 as GBK: text too, but of 2 bytes
        ("\ufeffR1,1,2,张三\n".encode(), "R1,1,2,张三\n", False),
        ("\ufeffR1,1,2,ԥ\n".encode(), "R1,1,2,ԥ\n", False),  # a BOM says UTF-8, whatever it reads
        (b"ref,name\r\nR1,Li Si\r\n", "ref,name\r\nR1,Li Si\r\n", False),
        ("R1,1,2,陶喆\n".encode("gbk"), "R1,1,2,陶喆\n", True),  # no UTF-8 reading at all
    ],
)
def test_a_file_is_read_in_the_encoding_that_gives_text_an_office_types(
    raw: bytes, text: str, gbk: bool
) -> None:
    read = decode(raw)
    assert (read.text, read.gbk) == (text, gbk)


@pytest.mark.parametrize(
    ("raw", "readings"),
    [
        # 莫 is C4 AA in GBK, 'Ī' in UTF-8; José's é is C3 A9 in UTF-8, 茅 in GBK: a name either way.
        ("ref,building,unit,name\nR1,1,2,莫\n".encode("gbk"), ("Ī", "莫")),
        ("ref,building,unit,name\nR1,1,2,José\n".encode(), ("José", "Jos茅")),
    ],
)
def test_a_file_that_reads_as_text_both_ways_is_refused_with_the_fix(
    raw: bytes, readings: tuple[str, str]
) -> None:
    as_utf8, as_gbk = readings
    with pytest.raises(Unreadable) as refused:
        decode(raw)
    message = str(refused.value)
    assert f"line 2 reads {as_utf8!r} as UTF-8 and {as_gbk!r} as GBK" in message
    # fix48b: the fix is the command's --encoding (saved as CSV UTF-8 by Excel, which opens a file
    # without a BOM as GBK, a UTF-8 file came back garbled).
    assert message.endswith(
        f"run it again with --encoding utf-8 if line 2 should read {as_utf8!r}, or --encoding gbk if it "
        f"should read {as_gbk!r}"
    )


def test_a_file_neither_utf8_nor_gbk_is_refused_with_the_fix(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = tmp_path / "people.csv"
    people.write_bytes("ref,building,unit,name\nR1,1,2,José\n".encode("latin-1"))
    assert main(["import", "-c", str(config), str(people)]) == EX_DATAERR
    err = capsys.readouterr().err
    # fix48b: said of the file's text, not as '1 bad row(s)' to correct.
    assert f"import refused: cannot read the text of 1 file; nothing was imported:\n{people}: " in err
    assert f"{people}: unreadable (neither UTF-8 nor GBK text)\n    fix: {SAVE_AS_UTF8}" in err


def test_cars_inside_are_read_as_the_import_reads_its_files(tmp_path: Path) -> None:
    listed = excel_csv([["plate", "entered_at"], ["豫A12345", ""], ["鲁B54321", ""]], tmp_path / "inside.csv")
    rows, problems = read_inside(listed, ZoneInfo("Asia/Shanghai"))
    assert problems == []
    assert [row.car.plate for row in rows] == ["豫A12345", "鲁B54321"]


# 2. A row whose cells were cleared


def test_a_row_cleared_in_excel_is_a_blank_line_not_a_bad_row(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_residents(config, tmp_path)
    rows = exported(config, tmp_path, "residents")
    rows[1][rows[0].index("name")] = "张珊"
    rows.insert(2, [""] * len(rows[0]))  # cleared (select, Delete), not deleted: ',,,,,,,,'
    rows.append([" "] + [""] * (len(rows[0]) - 1))
    saved = excel_csv(rows, tmp_path / "residents.csv")
    capsys.readouterr()
    rc = main(["import", "-c", str(config), str(saved)])
    assert rc == 0, capsys.readouterr().err[-400:]
    assert table(config, "SELECT ref, name FROM residents ORDER BY ref") == [("R1", "张珊"), ("R2", "李四")]


# 3. Columns that hold nothing, with no name


def test_columns_excel_writes_empty_after_the_last_do_not_refuse_the_file(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A note typed in column J and deleted: Excel still saves its used range, ',,' on every line."""
    two_residents(config, tmp_path)
    rows = [[*row, "", ""] for row in exported(config, tmp_path, "residents")]
    rows[1][rows[0].index("name")] = "张珊"
    saved = excel_csv(rows, tmp_path / "residents.csv")
    capsys.readouterr()
    rc = main(["import", "-c", str(config), str(saved)])
    assert rc == 0, capsys.readouterr().err[-400:]
    assert table(config, "SELECT ref, name FROM residents ORDER BY ref") == [("R1", "张珊"), ("R2", "李四")]


def test_a_column_with_no_name_that_holds_a_value_is_still_refused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_residents(config, tmp_path)
    rows = [[*row, "", ""] for row in exported(config, tmp_path, "residents")]
    rows[2][-1] = "已搬走"  # a note, its column never named
    saved = excel_csv(rows, tmp_path / "residents.csv")
    assert main(["import", "-c", str(config), str(saved)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{saved}:1: column {len(rows[0])} has no name in line 1 but holds values: " in err
    assert "name it in line 1 or delete the column" in err
    assert f"column {len(rows[0]) - 1} " not in err  # the empty one beside it is no problem
    assert table(config, "SELECT ref, name FROM residents ORDER BY ref") == [("R1", "张三"), ("R2", "李四")]


def test_cars_inside_skip_cleared_rows_and_columns_as_the_import_does(tmp_path: Path) -> None:
    sheet = [
        ["plate", "entered_at", "", ""],
        ["皖A12345", "", "", ""],
        ["", "", "", ""],
        ["苏E54321", "", "", ""],
    ]
    listed = excel_csv(sheet, tmp_path / "inside.csv")
    rows, problems = read_inside(listed, ZoneInfo("Asia/Shanghai"))
    assert problems == []
    assert [(row.line, row.car.plate) for row in rows] == [(2, "皖A12345"), (4, "苏E54321")]


# 4. A character GBK lacks, saved as '?'


def test_a_name_excel_saved_with_a_question_mark_does_not_overwrite_the_real_one(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """䶮 is in GB18030, not in GBK: Ctrl+S in Excel saves the exported 刘䶮 as '刘?'."""
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,1栋,2单元,刘䶮\n")
    assert main(["import", "-c", str(config), str(people)]) == 0
    saved = excel_csv(exported(config, tmp_path, "residents"), tmp_path / "residents.csv")
    capsys.readouterr()
    assert main(["import", "-c", str(config), str(saved)]) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{saved}:2: name: '刘?' has a '?', what Excel writes for a character GBK lacks" in err
    assert SAVE_AS_UTF8 in err
    assert table(config, "SELECT name FROM residents") == [("刘䶮",)]


def test_a_question_mark_in_a_new_row_of_a_gbk_file_is_refused_too(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = [["ref", "building", "unit", "name"], ["R9", "1栋", "2单元", "王䶮"]]
    saved = excel_csv(new, tmp_path / "r.csv")
    assert main(["import", "-c", str(config), str(saved)]) == EX_DATAERR
    assert f"{saved}:2: name: '王?' has a '?'" in capsys.readouterr().err
    assert table(config, "SELECT name FROM residents") == []


def test_a_question_mark_in_a_utf8_file_is_taken(config: Path, tmp_path: Path) -> None:
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,1栋,2单元,张?\n")
    assert main(["import", "-c", str(config), str(people)]) == 0
    assert table(config, "SELECT name FROM residents") == [("张?",)]
