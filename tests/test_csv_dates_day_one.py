"""Day one: the installer imports the register exported from the old parking system, its dates as
that system (or Excel on a Chinese Windows) wrote them."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.cli import EX_DATAERR, main
from gateway.runtime.gateway import Gateway
from gateway.store.admin import ImportRejected, import_csv
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from gateway.timefmt import parse_local
from tests.conftest import site_toml, write_csv
from tests.parking.conftest import TZ, parking_config, show
from tests.snapshot_helpers import apply_snapshot


def _register(tmp_path: Path, monthly_until: str) -> Gateway:
    cfg = parking_config(tmp_path / "data")
    files = [
        write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR3,6栋,1单元,王五\n"),
        write_csv(tmp_path / "v.csv", f"plate,resident_ref,monthly_until\n皖C44444,R3,{monthly_until}\n"),
    ]
    import_csv(cfg, files)
    return Gateway(cfg)


def test_a_monthly_end_written_yyyymmdd_is_not_cut_short_by_a_whole_day(tmp_path: Path) -> None:
    """The old parking system exports 月租到期 as 20250303 (a common export form, no dashes). The
    import takes it silently, but as 2025-03-03 00:00, not the whole of that day as the README says
    a bare date ending a period is ("a valid_to date includes that whole day"; monthly_until too).
    The monthly car that paid up to and including 3 March comes in that morning as a temporary car
    (flag monthly_expired) and is billed, while the same row written 2025-03-03 lets it in as monthly.
    It should be read as the whole of 3 March, or refused as a bad row naming its line."""
    with pytest.raises(ImportRejected) as refused:
        _register(tmp_path, "20250303")
    (problem,) = refused.value.problems
    assert problem.startswith(f"{tmp_path / 'v.csv'}:2: monthly_until: '20250303' is not a date"), problem
    assert "YYYY-MM-DD" in problem and "did you mean 2025-03-03?" in problem, problem


@pytest.mark.parametrize("until", ["2025-03-03", "2025/3/3", "2025/03/03"])
def test_a_monthly_end_as_excel_on_a_chinese_windows_saves_it_is_the_whole_day(
    tmp_path: Path, until: str
) -> None:
    """Excel on a Chinese Windows saves a date cell as 2025/3/3: the same whole day as 2025-03-03,
    so the car paid up to 3 March comes in as monthly that morning, and as temporary the next."""
    gw = _register(tmp_path, until)
    try:
        on_the_day = show(gw, "car-in", "皖C44444", datetime(2025, 3, 3, 23, 0, tzinfo=TZ))
        assert (on_the_day.reason, on_the_day.flags) == ("monthly", ())
        (stored,) = gw.conn.execute("SELECT monthly_until FROM vehicles").fetchone()
        assert datetime.fromisoformat(stored) == datetime(2025, 3, 4, tzinfo=TZ)
    finally:
        gw.conn.close()


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-01-05", False, datetime(2026, 1, 5, tzinfo=TZ)),
        ("2026-01-05", True, datetime(2026, 1, 6, tzinfo=TZ)),
        ("2026/1/5", True, datetime(2026, 1, 6, tzinfo=TZ)),
        ("2026-01-05 08:00", True, datetime(2026, 1, 5, 8, 0, tzinfo=TZ)),
        ("2026/1/5 8:00", True, datetime(2026, 1, 5, 8, 0, tzinfo=TZ)),
        ("2026-01-05T08:00:30+08:00", False, datetime(2026, 1, 5, 8, 0, 30, tzinfo=TZ)),  # the centre's
        (" 2026-01-05 ", True, datetime(2026, 1, 6, tzinfo=TZ)),
    ],
)
def test_the_date_forms_taken(text: str, end: bool, expected: datetime) -> None:
    assert parse_local(text, TZ, end_of_day=end) == expected


@pytest.mark.parametrize(
    "text",
    [
        "20250303",
        "2025-062",
        "2025-W10-1",
        "20250303T0800",
        "2025-03-03T08",
        "2025-3-3",
        "03/03/2025",
        "2025-02-30",
    ],
)
def test_other_date_forms_are_refused_naming_the_forms_taken(text: str) -> None:
    """fromisoformat took the first four, the ordinal and week dates as some day nobody meant."""
    with pytest.raises(ValueError, match="is not a date"):
        parse_local(text, TZ, end_of_day=True)


def _import(tmp_path: Path, *files: Path) -> int:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return main(["import", "-c", str(config), *map(str, files)])


def test_a_period_ending_9999_12_31_is_a_named_row_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Old parking and access systems export "no end" (永久有效) as 9999-12-31. `gateway import`
    stops with a Python traceback (OverflowError: date value out of range, from adding the whole
    last day), exit 1, instead of what README promises for the register: every row checked, each
    bad row named by file and line, exit 65 ("a line that says what to do"). The installer on day
    one gets a traceback and no idea which of 3,000 rows is at fault. Expected: the row is taken (as
    no end, or the far future) or refused with `r.csv:3: valid_to: ...` and exit 65.
    Taken: a valid_to in the year 9999 is no end, as an empty cell (README)."""
    people = write_csv(
        tmp_path / "r.csv",
        "ref,building,unit,name,valid_to\nR1,3栋,2单元,张三,2027-06-30\nR2,5栋,1单元,李四,9999-12-31\n",
    )
    cards = write_csv(tmp_path / "c.csv", "card,resident_ref,valid_to\n0A1B2C3D4E,R2,9999-12-31 23:59\n")
    code = _import(tmp_path, people, cards)
    assert code == 0, capsys.readouterr()
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as db:
        ends = dict(db.execute("SELECT ref, valid_to FROM residents"))
        (card_end,) = db.execute("SELECT valid_to FROM credentials WHERE kind = 'card'").fetchone()
    assert ends["R2"] is None and ends["R1"] is not None and card_end is None


@pytest.mark.parametrize(
    ("file", "header", "row", "column"),
    [
        ("v.csv", "plate,resident_ref,monthly_until", "皖C44444,R1,9999-12-31", "monthly_until"),
        ("r2.csv", "ref,building,unit,name,valid_from", "R9,1栋,1单元,赵六,0001-01-01", "valid_from"),
        ("r2.csv", "ref,building,unit,name,valid_to", "R9,1栋,1单元,赵六,3000-01-01", "valid_to"),
        ("r2.csv", "ref,building,unit,name,valid_to", "R9,1栋,1单元,赵六,2200-12-31", "valid_to"),
    ],
)
def test_a_date_outside_the_years_taken_is_a_named_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, header: str, row: str, column: str
) -> None:
    """Years 2000 to 2200, as the admin API takes them. A monthly car paid up "for ever" (9999) has
    no reading as no end: an empty monthly_until is a car that is not monthly. 2200-12-31 as an end
    runs to 2201-01-01, which no import would take back from an export."""
    people = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    bad = write_csv(tmp_path / file, f"{header}\n{row}\n")
    assert _import(tmp_path, people, bad) == EX_DATAERR
    err = capsys.readouterr().err
    assert f"{file}:2: {column}: " in err and "2000 to 2200" in err, err


def _entries(valid_to: str, monthly_until: str = "2026-12-31") -> list[dict[str, Any]]:
    return [
        {
            "kind": "resident",
            "ref": "R1",
            "building": "3栋",
            "unit": "2单元",
            "name": "张三",
            "valid_to": valid_to,
        },
        {"kind": "resident", "ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四"},
        {"kind": "vehicle", "plate": "皖C44444", "resident": "R2", "monthly_until": monthly_until},
    ]


def test_a_snapshot_with_a_9999_end_is_applied_as_no_end(tmp_path: Path) -> None:
    """The central server, fed by the same old system, sends valid_to 9999-12-31: the staging of
    the whole snapshot died on it (OverflowError). It is no end, as in an import."""
    gw = Gateway(parking_config(tmp_path / "data"))
    gw.start()  # the snapshot is applied on the decision worker
    try:
        apply_snapshot(gw, 1, _entries("9999-12-31"))
        ends = gw.on_worker(lambda c: dict(c.execute("SELECT ref, valid_to FROM residents"))).result(10)
    finally:
        gw.stop()
    assert ends == {"R1": None, "R2": None}


def test_a_snapshot_with_a_monthly_end_in_9999_is_refused_naming_the_entry(tmp_path: Path) -> None:
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        staging = gw.data_dir / STAGING_NAME
        conn = open_staging(staging)
        entries = _entries("2027-06-30", monthly_until="9999-12-31")
        (body,) = encode_snapshot(1, entries, per_part=10)
        save_part(conn, 1, 1, 1, len(entries), body)
        conn.close()
        job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", 1)
        meta = stage(job)
    finally:
        gw.conn.close()
    assert meta["status"] == "rejected", meta
    (problem,) = meta["problems"]
    assert problem.startswith("entry 2 (vehicle 皖C44444): monthly_until: '9999-12-31' is outside"), problem
