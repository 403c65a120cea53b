"""`gateway import-inside`: a CSV cell's time is the site's time, and a date with an offset is a
bad row (README, *Dates*: "a date with an offset (`Z`, `+08:00`: a cell is the site's time ...) is
a bad row naming the forms taken"; README, *Cars already inside*: `entered_at` "in the site's time,
in the forms above"). This session made `gateway import` refuse offsets; import-inside reads its
`entered_at` through parse_local, which still takes them."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from tests.parking.conftest import TZ, parking_toml, seed

H = timedelta(hours=1)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(
        parking_toml(tmp_path / "data", exit_without_entry="charge", capacity=4), encoding="utf-8"
    )
    seed(load_config(config), tmp_path)
    return config


def test_an_entered_at_cell_with_an_offset_is_a_bad_row_not_a_shifted_time(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The installer's list (made by a script that writes ISO times with a trailing Z) says 苏E12345
    came in at 08:00, the site's time. What the installer sees: exit 0, the car recorded as in since
    16:00 (the cell read as UTC), billed 8 hours short. What README promises for every CSV date
    cell: a bad row naming the forms taken, exit 65, nothing recorded."""
    came = (datetime.now(TZ) - 10 * H).replace(second=0, microsecond=0)
    listed = tmp_path / "inside.csv"
    listed.write_text(
        f"plate,entered_at,vehicle_class,zone\n苏E12345,{came:%Y-%m-%d %H:%M}Z,,\n", encoding="utf-8"
    )
    status = main(["import-inside", "-c", str(site), str(listed)])
    err = capsys.readouterr().err
    with closing(sqlite3.connect(site.parent / "data" / "gateway.db")) as conn:
        stays = conn.execute("SELECT plate, entered_at FROM stays").fetchall()
    assert status == 65 and stays == [], (
        f"exit {status}, recorded {stays} (the cell said {came:%H:%M} site time)"
    )
    assert "offset" in err or "site's time" in err, err
