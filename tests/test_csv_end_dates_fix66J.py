"""Review 66 J: one period, two last days.

A monthly car sold "until 2026-11-30" showed → 2026-11-30 on the lookup page, but `gateway export`
wrote its monthly_until as `2026-12-01 00:00` (the moment the month ends) and the daily report's
monthly_expiring gave until 2026-12-01T00:00:00+08:00. An office renewing cars in its own export
opened in Excel (which shows and saves such a column as `YYYY/M/D H:MM`) typed the new last day,
2026/12/31, and Excel saved `2026/12/31 0:00`: read as the start of 31 December, the car was billed
as temporary and flagged 月租到期 on the day it had paid for, where the same date typed as a day (the
admin page, a fresh CSV, the centre) includes it.

Now an end of validity on the site's midnight is exported as its last day (`2026-11-30`), which
imports back to exactly the same moment and which Excel keeps as a date; Excel's form of a day at
0:00 in an end column (`2026/12/31 0:00`) is the whole of that day, as the typed date is; the report
gives each car's last_day beside until.
"""

from __future__ import annotations

import csv
import logging
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.cli import main
from gateway.config import parse_config
from gateway.core import Presented
from gateway.parking.report import build_report, report_csv
from gateway.runtime import logsetup
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from gateway.timefmt import to_db, typed_day
from tests.parking.conftest import parking_toml

TZ = ZoneInfo("Asia/Shanghai")
REGISTER = {
    "residents.csv": "ref,building,unit,name,valid_to\nR1,3栋,2单元,张三,2027-06-30\nR2,5栋,1单元,李四,\n",
    # 皖C44444 sold to the end of November; 皖B33333's end the centre sent with its seconds; a
    # card that ends at 08:00, a time of day, not a whole day.
    "vehicles.csv": "plate,resident_ref,monthly_until\n皖C44444,R1,2026-11-30\n皖B33333,R2,\n",
    "cards.csv": "card,resident_ref,valid_from,valid_to\n0012345678,R1,2026-01-01,2026/12/31\n"
    "0087654321,R2,2026-01-01 08:00,2026-03-01 08:00\n",
}
TABLES = {
    "residents": "SELECT ref, valid_from, valid_to FROM residents ORDER BY ref",
    "vehicles": "SELECT plate, monthly_until FROM vehicles ORDER BY plate",
    "credentials": "SELECT value, valid_from, valid_to FROM credentials ORDER BY value",
}


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(parking_toml(tmp_path / "data"), encoding="utf-8")
    files = []
    for name, text in REGISTER.items():
        (tmp_path / name).write_text(text, encoding="utf-8-sig")
        files.append(str(tmp_path / name))
    run(["import", "-c", str(config), *files], capsys)
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    with conn:  # as the centre's delta stores a renewal "to the end of 2026-12-31", to the second
        conn.execute(
            "UPDATE vehicles SET monthly_until = ? WHERE plate = '皖B33333'",
            (to_db(datetime(2026, 12, 31, 23, 59, 59, tzinfo=TZ)),),
        )
    conn.close()
    return config


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """A command run in-process, its log handler taken off after it: the gateway a test starts
    next logs to the stream pytest closed with the command's capture otherwise."""
    rc = main(args)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logsetup._Stdout)]:
        root.removeHandler(handler)
    assert rc == 0, capsys.readouterr().err
    capsys.readouterr()


def tables(config: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = open_database(config.parent / "data" / "gateway.db").conn
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        conn.close()


def export(config: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, list[dict[str, str]]]:
    run(["export", "-c", str(config), str(out)], capsys)
    rows = {}
    for kind in ("residents", "vehicles", "cards"):
        with open(out / f"{kind}.csv", encoding="utf-8-sig", newline="") as f:
            rows[kind] = list(csv.DictReader(f))
    return rows


def import_files(config: Path, capsys: pytest.CaptureFixture[str], *files: Path) -> None:
    run(["import", "-c", str(config), *map(str, files)], capsys)


def as_excel_saves(path: Path, edit: dict[str, str] | None = None) -> Path:
    """The file as Excel on a Chinese Windows saves it as CSV: a date cell as YYYY/M/D, one with a
    time as YYYY/M/D H:MM; `edit` types cells (column: text as Excel saves it) into every row."""
    dated = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}))?")

    def excel(cell: str) -> str:
        found = dated.fullmatch(cell)
        if found is None:
            return cell
        y, m, d, hh, mm = found.groups()
        day = f"{int(y)}/{int(m)}/{int(d)}"
        return day if hh is None else f"{day} {int(hh)}:{mm}"

    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    saved = path.with_name("excel-" + path.name)
    with open(saved, "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(reader.fieldnames or ()))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (edit or {}).get(k, excel(v)) for k, v in row.items()})
    return saved


def test_an_end_on_midnight_is_exported_as_its_last_day_and_imports_back_exactly(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tables(site)
    rows = export(site, tmp_path / "out", capsys)
    cars = {r["plate"]: r["monthly_until"] for r in rows["vehicles"]}
    assert cars["皖C44444"] == "2026-11-30", (
        "a month sold to 2026-11-30 (→ 2026-11-30 on the lookup page) should be exported as that "
        f"last day, not as the moment after it: {cars['皖C44444']!r}"
    )
    assert cars["皖B33333"] == "2026-12-31 23:59:59"  # not on midnight: its time kept
    cards = {r["card"]: r for r in rows["cards"]}
    assert cards["'0012345678"]["valid_to"] == "2026-12-31"
    assert cards["'0012345678"]["valid_from"] == "2026-01-01 00:00"  # a start is the moment
    assert cards["'0087654321"]["valid_to"] == "2026-03-01 08:00"
    assert {r["ref"]: r["valid_to"] for r in rows["residents"]} == {"R1": "2027-06-30", "R2": ""}
    import_files(site, capsys, *sorted((tmp_path / "out").glob("*.csv")))
    assert tables(site) == before, "an export imported back should leave every end where it was"


def test_an_export_saved_by_excel_imports_back_exactly(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = open_database(site.parent / "data" / "gateway.db").conn
    with conn:  # Excel keeps minutes, not seconds (README): a time of the minute here
        conn.execute(
            "UPDATE vehicles SET monthly_until = ? WHERE plate = '皖B33333'",
            (to_db(datetime(2026, 12, 31, 18, 30, tzinfo=TZ)),),
        )
    conn.close()
    before = tables(site)
    export(site, tmp_path / "out", capsys)
    saved = [as_excel_saves(p) for p in sorted((tmp_path / "out").glob("*.csv"))]
    assert "皖C44444,R1,car,2026/11/30," in saved[3].read_text(encoding="utf-8-sig")  # vehicles.csv
    import_files(site, capsys, *saved)
    assert tables(site) == before


def test_a_renewal_typed_in_excel_includes_its_last_day(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The clerk types the renewal's last day 2026/12/31 into monthly_until, in a column Excel keeps
    with a time (the export's 23:59:59 of another car, or an export of an earlier release): Excel
    saves `2026/12/31 0:00`. On 31 December the car is monthly, as the lookup page says."""
    export(site, tmp_path / "out", capsys)
    renewed = as_excel_saves(tmp_path / "out" / "vehicles.csv", {"monthly_until": "2026/12/31 0:00"})
    import_files(site, capsys, renewed)
    fresh = tmp_path / "fresh.csv"
    fresh.write_text("plate,resident_ref,monthly_until\n皖C44444,R1,2026/12/31\n", encoding="utf-8-sig")
    typed = tables(site)["vehicles"]
    import_files(site, capsys, fresh)
    assert typed == tables(site)["vehicles"], "Excel's 2026/12/31 0:00 should be the typed day 2026/12/31"
    gw = Gateway(parse_config(site.read_text(encoding="utf-8"), str(site)))
    try:
        seen = gw.handle(
            Presented("car-in", "plate", "皖C44444", 0.97, datetime(2026, 12, 31, 8, 0, tzinfo=TZ), "cam")
        )
    finally:
        gw.conn.close()
    assert (seen.reason, seen.flags) == ("monthly", ()), (
        f"a car renewed to 2026/12/31 in Excel came in on 31 December as {seen.reason} {seen.flags}"
    )


def test_a_time_written_in_iso_form_is_that_moment(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`2026-12-01 00:00`, as an export of an earlier release wrote the end of 30 November, and a
    start at Excel's 0:00, are the moments they say: a copy of the register taken before the
    upgrade imports back to the same ends."""
    old = tmp_path / "old.csv"
    old.write_text(
        "card,resident_ref,valid_from,valid_to\n0012345678,R1,2026/1/1 0:00,2026-12-01 00:00\n"
        "0087654321,R2,2026/1/1 0:00,2026/12/31 0:00\n",
        encoding="utf-8-sig",
    )
    import_files(site, capsys, old)
    # Excel's form of the same kind of cell is the day typed (the test above, for a card)
    assert ("0087654321", to_db(datetime(2026, 1, 1, tzinfo=TZ)), to_db(datetime(2027, 1, 1, tzinfo=TZ))) in (
        tables(site)["credentials"]
    )
    assert (
        "0012345678",
        to_db(datetime(2026, 1, 1, tzinfo=TZ)),
        to_db(datetime(2026, 12, 1, tzinfo=TZ)),
    ) in (tables(site)["credentials"])


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2026/12/31 0:00", "2026/12/31"),  # Excel's yyyy/m/d h:mm
        ("2026/1/5 00:00", "2026/1/5"),
        ("2026/1/5 0:00:00", "2026/1/5"),
        ("2026-12-31 00:00", None),  # the ISO form is the moment it gives
        ("2026/12/31 8:00", None),
        ("2026/12/31 0:00:01", None),
        ("2026/12/31", None),  # a day already
        ("2026/12/31 0:00+08:00", None),
        ("bad", None),
    ],
)
def test_typed_day(cell: str, day: str | None) -> None:
    assert typed_day(cell) == day


def test_the_report_gives_each_expiring_car_its_last_day(site: Path) -> None:
    gw = Gateway(parse_config(site.read_text(encoding="utf-8"), str(site)))
    try:
        body = build_report(
            gw.conn,
            site_id="park-site",
            lanes=gw.site.lanes,
            day=date(2026, 11, 25),
            hour=0,
            tz=gw.site.tz,
            built_at=datetime(2026, 11, 26, 0, 5, tzinfo=TZ),
        )
    finally:
        gw.conn.close()
    assert body["monthly_expiring"] == [
        {"plate": "皖C44444", "until": "2026-12-01T00:00:00+08:00", "last_day": "2026-11-30"}
    ]
    # as the report's own day: text, so that Excel shows it as written
    assert "monthly_expiring[0].last_day,'2026-11-30" in report_csv(body).splitlines()
