"""Dates with an offset no place has, and a CSV cell that gives one at all.

dbebeb1 widened the shared date parser (a CSV import and the centre's entries) to take +08-style
offsets, and it took any two digits as one: "-18" after a time was a UTC-18:00 offset."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.timefmt import parse_local
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import TZ


def _import(tmp_path: Path, *files: Path) -> int:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return main(["import", "-c", str(config), *map(str, files)])


def _card_valid_from(tmp_path: Path, valid_from: str) -> tuple[int, list[tuple[str]]]:
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cards = write_csv(tmp_path / "c.csv", f"card,resident_ref,valid_from\n0A1B2C3D4E,R1,{valid_from}\n")
    code = _import(tmp_path, people, cards)
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as db:
        stored = db.execute("SELECT valid_from FROM credentials WHERE kind = 'card'").fetchall()
    return code, stored


@pytest.mark.parametrize(
    "valid_from", ["2026-03-01 08:00-18", "2026-03-01 08:00-20:00", "2026-03-01 08:00-12"]
)
def test_a_day_and_its_hours_typed_in_a_date_cell_is_a_bad_row_not_a_day_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], valid_from: str
) -> None:
    """An installer types a contractor's card as valid from "2026-03-01 08:00-18" (the day and its
    working hours, as old systems show a 有效期). `gateway import` took it without a word, reading
    "-18" as a UTC-18:00 offset: the card was valid only from 2 March in Shanghai, and the
    contractor refused at the door all of 1 March. README says a CSV date is YYYY-MM-DD[ HH:MM]
    "in the site's time zone" and any other form "is a bad row naming the forms taken": so is
    "08:00-12", which a real offset (UTC-12:00) would also have read. Expected: a bad row naming
    the forms, exit 65, nothing imported."""
    code, stored = _card_valid_from(tmp_path, valid_from)
    assert code == EX_DATAERR, f"imported (exit {code}); the card's valid_from stored as {stored} (UTC)"
    assert stored == []
    err = capsys.readouterr().err
    assert "valid_from" in err and "is not a date" in err and "YYYY-MM-DD HH:MM" in err, err


@pytest.mark.parametrize("valid_from", ["2026-03-01T08:00:00+08:00", "2026-03-01T00:00:00Z"])
def test_a_csv_date_is_in_the_sites_zone_and_gives_no_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], valid_from: str
) -> None:
    """A CSV cell is the site's time (README); one with an offset, even a real one, is a bad row:
    the installer cannot tell "08:00-12" the hours from "08:00-12" the offset either."""
    code, stored = _card_valid_from(tmp_path, valid_from)
    assert (code, stored) == (EX_DATAERR, [])
    assert "without an offset" in capsys.readouterr().err


def test_a_csv_date_and_time_in_the_sites_zone_is_still_taken(tmp_path: Path) -> None:
    code, stored = _card_valid_from(tmp_path, "2026-03-01 08:00")
    assert code == 0
    assert [datetime.fromisoformat(at) for (at,) in stored] == [datetime(2026, 3, 1, 8, 0, tzinfo=TZ)]


@pytest.mark.parametrize(
    "text",
    [
        "2027-06-30T23:59:59+08:75",
        "2027-06-30T23:59:59+0875",
        "2027-06-30T23:59:59-23",
        "2027-06-30T23:59:59+18",
        "2027-06-30T23:59:59-12:30",
        "2027-06-30T23:59:59+14:01",
    ],
)
def test_an_offset_no_clock_has_is_not_a_date(text: str) -> None:
    """The centre's entries and a CSV share the parser. +08:75 (75 minutes) was read as +09:15, and
    -23 or +18 as whole-day shifts, silently: a validity moved by hours that nobody meant. ISO 8601
    offsets have minutes 00-59 and real ones lie between -12:00 and +14:00. Expected: 'is not a
    date', as for the other malformed forms (test_other_date_forms_are_refused_naming_the_forms_taken)."""
    with pytest.raises(ValueError, match="is not a date"):
        parse_local(text, TZ)


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2027-06-30T23:59:59-12:00", timedelta(hours=-12)),
        ("2027-06-30T23:59:59+14:00", timedelta(hours=14)),
        ("2027-06-30T23:59:59+0545", timedelta(hours=5, minutes=45)),  # Nepal
        ("2027-06-30T23:59:59-09:30", timedelta(hours=-9, minutes=-30)),  # the Marquesas
        ("2027-06-30T23:59:59+08", timedelta(hours=8)),
    ],
)
def test_the_offsets_real_clocks_have_are_taken(text: str, offset: timedelta) -> None:
    assert parse_local(text, TZ) == datetime(2027, 6, 30, 23, 59, 59, tzinfo=timezone(offset))
