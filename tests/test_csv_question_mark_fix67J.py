"""Review 67 J5: a '?' in a plate is blamed on Excel's GBK save only where the file was read as GBK.

A '?' in a plate said Excel's "CSV" lost a character (save as CSV UTF-8) wherever it was: in a file
saved as CSV UTF-8 (which keeps every character: the '?' was typed) and in the centre's JSON
entries, which no Excel saved. There it is said to be no part of a plate."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import parse_config
from gateway.errors import ImportRejected
from gateway.privacy import Secrets
from gateway.store.admin import import_csv
from gateway.sync.entries import EntryError, parse_entry
from tests.conftest import site_toml


def _refusal(tmp_path: Path, cars: bytes) -> str:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    people, cars_file = tmp_path / "people.csv", tmp_path / "cars.csv"
    people.write_bytes("\ufeffref,building,unit,name\nR1,3栋,2单元,张三\n".encode())
    cars_file.write_bytes(cars)
    with pytest.raises(ImportRejected) as refused:
        import_csv(cfg, [people, cars_file])
    return str(refused.value)


def test_a_csv_utf8_files_question_mark_is_no_part_of_a_plate_not_excels(tmp_path: Path) -> None:
    said = _refusal(tmp_path, "\ufeffplate,resident_ref\n京A?2345,R1\n".encode())
    assert "no part of a plate" in said and "Excel" not in said and "GBK" not in said, said


def test_a_gbk_files_question_mark_is_still_the_dot_excel_lost(tmp_path: Path) -> None:
    said = _refusal(tmp_path, "plate,resident_ref\n京A?12345,R1\n".encode("gbk"))
    assert "read as GBK" in said and "CSV UTF-8" in said, said


def test_the_centres_entry_is_not_told_about_excel(tmp_path: Path) -> None:
    entry = {"kind": "vehicle", "plate": "京A?2345", "resident": "R1"}
    with pytest.raises(EntryError) as refused:
        parse_entry(entry, ZoneInfo("Asia/Shanghai"), Secrets.load_or_create(tmp_path))
    assert "no part of a plate" in str(refused.value) and "Excel" not in str(refused.value)
