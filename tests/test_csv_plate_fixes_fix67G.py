"""Review 67 G2: an import's refused plate says what to fix, and a Chinese keyboard's dash is a dash.

A plate the office typed with the letter O or I for a 0 or 1 (京A·1234O), saved by Excel as "CSV"
(GBK has no •, so 京A•12345 came out 京A?12345), or two cars typed into one slot's cell with a
space or '/' between them, got only "is not a Chinese licence plate (e.g. ...)": the office could not
tell what was wrong with a plate that looked right. 京A—12345 (the em dash of Chinese punctuation
mode) was refused where 京A-12345 is taken."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.errors import ImportRejected
from gateway.store.admin import import_csv
from gateway.typed import DASHES
from plates.grammar import normalize
from tests.conftest import site_toml

PEOPLE = "ref,building,unit,name\nR1,3栋,2单元,张三\n"


def _import(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    """What the import says of the file (the refusal), or "" when it is taken."""
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    people = tmp_path / "people.csv"
    people.write_bytes(PEOPLE.encode(encoding))
    other = tmp_path / name
    other.write_bytes(text.encode(encoding, errors="replace"))  # Excel's "CSV": '?' for what GBK lacks
    try:
        import_csv(cfg, [people, other])
    except ImportRejected as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize(("typed", "meant"), [("京A·1234O", "京A12340"), ("京AI2345", "京A12345")])
def test_the_letter_o_or_i_for_a_digit_is_named_with_the_plate_meant(
    tmp_path: Path, typed: str, meant: str
) -> None:
    said = _import(tmp_path, "cars.csv", f"plate,resident_ref\n{typed},R1\n")
    assert "letter O or I" in said and meant in said, said


def test_a_question_mark_excel_wrote_for_the_dot_says_save_as_csv_utf8(tmp_path: Path) -> None:
    said = _import(tmp_path, "cars.csv", "plate,resident_ref\n京A•12345,R1\n", encoding="gbk")
    assert "京A?12345" in said and "CSV UTF-8" in said, said


@pytest.mark.parametrize("between", [" ", "/"])
def test_two_plates_in_a_slots_cell_are_told_to_be_separated_by_a_semicolon(
    tmp_path: Path, between: str
) -> None:
    said = _import(
        tmp_path, "slots.csv", f"zone,number,resident_ref,plates\nmain,B1,R1,京A12345{between}京B12345\n"
    )
    assert "2 plates in one cell" in said and "京A12345;京B12345" in said, said


def test_a_chinese_keyboards_dash_is_taken_as_the_hyphen_is(tmp_path: Path) -> None:
    assert {normalize(f"京A{dash}12345") for dash in DASHES} == {
        "京A12345"
    }  # each gateway/typed.py reads as '-'
    assert _import(tmp_path, "cars.csv", "plate,resident_ref\n京A—12345,R1\n苏B–12345,R1\n") == ""
