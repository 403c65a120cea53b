"""Review 63z: a phone or resident ref Excel saved in its scientific form. A narrow General column
shows 13800138000 as 1.38001E+10, a number with its country code (8613800138000) is 8.6138E+12 in
any width, and a 12-digit resident number of an old system (202401010001) 2.02401E+11; "CSV" saves
what it shows. The phone was stored as another number (masked and hashed from the wrong digits: the
booth's phone search never found the resident), the ref as one no other file gives. Each is a bad
row now, naming the line and the column, nothing imported (README, CSV files)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from gateway.cli import EX_DATAERR, main
from tests.conftest import site_toml


def _site(tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return config


def _residents(tmp_path: Path) -> list[tuple[str, str | None]]:
    with closing(sqlite3.connect(tmp_path / "data" / "gateway.db")) as conn:
        return conn.execute("SELECT ref, phone_masked FROM residents").fetchall()


@pytest.mark.parametrize("phone", ["1.38001E+10", "8.6138E+12", "1.38E+10"])
def test_an_excel_scientific_phone_is_a_bad_row_not_stored_as_another_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], phone: str
) -> None:
    config = _site(tmp_path)
    csv = tmp_path / "residents.csv"
    csv.write_bytes(f"ref,building,unit,room,name,phone\r\nR1,1,2,301,张三,{phone}\r\n".encode("gbk"))
    rc = main(["import", "-c", str(config), str(csv)])
    err = capsys.readouterr().err
    assert rc == EX_DATAERR and "residents.csv:2" in err and "phone" in err, (
        f"a phone Excel saved as {phone} should be refused naming line 2's phone column, not "
        f"imported: exit {rc}, stored {_residents(tmp_path)}, stderr {err!r}"
    )
    assert "format the phone column as text" in err, err
    assert phone not in err  # a phone number is never repeated in a message
    assert _residents(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("residents.csv", "ref,building,unit,room,name\r\n2.02401E+11,1,2,301,张三\r\n"),
        ("cards.csv", "card,resident_ref\r\n0372653390,2.02401E+11\r\n"),
    ],
)
def test_an_excel_scientific_resident_ref_is_a_bad_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    """An old system's 12-digit resident number saved as 2.02401E+11: the residents went in under a
    ref no other file or later import gives (the corrected file then made every resident a second
    time, his car and cards on the first), and two such residents of one block read as one ref."""
    config = _site(tmp_path)
    csv = tmp_path / name
    csv.write_bytes(text.encode("gbk"))
    rc = main(["import", "-c", str(config), str(csv)])
    err = capsys.readouterr().err
    assert rc == EX_DATAERR and f"{name}:2" in err and "ref" in err, (
        f"a ref Excel saved as 2.02401E+11 should be refused naming line 2's ref, not imported: "
        f"exit {rc}, stderr {err!r}"
    )
    assert "as text" in err, err
    assert _residents(tmp_path) == []


def test_phones_and_refs_written_as_people_write_them_still_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _site(tmp_path)
    csv = tmp_path / "residents.csv"
    csv.write_text(
        "ref,building,unit,room,name,phone\n"
        "202401010001,1,2,301,张三,+86 138-0013-8000\n"
        "3E12,1,2,302,李四,0551-65123456\n"
        "R2,1,2,303,王五,13800138001\n",
        encoding="utf-8-sig",
    )
    assert main(["import", "-c", str(config), str(csv)]) == 0, capsys.readouterr().err
    assert sorted(ref for ref, _ in _residents(tmp_path)) == ["202401010001", "3E12", "R2"]
