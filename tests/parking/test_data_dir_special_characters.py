"""An installer's data directory whose name holds '#' or '?' ("/srv/gate#2"): the readers that open
the database read-only build a SQLite URI from its path, where an unencoded '#' starts a fragment."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_read_only
from tests.parking.conftest import T0, parking_config, seed, show


@pytest.mark.parametrize("folder", ["gate#2", "gate?2", "gate 2%41"])
def test_the_daily_report_builds_in_a_data_directory_named_with_uri_characters(
    tmp_path: Path, folder: str
) -> None:
    site = tmp_path / folder
    site.mkdir()
    cfg = parking_config(site / "data")
    seed(cfg, site)
    gw = Gateway(cfg)
    try:
        show(gw, "car-in", "皖B33333", T0)
        ops = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0)
        report = ops.build_report(T0.date(), T0 + timedelta(days=2))
    finally:
        gw.conn.close()
    assert report["vehicles"]["entries"]["total"] == 1, "the report read another (empty) database"
    assert [p.name for p in tmp_path.iterdir()] == [folder], "a stray database file was created"


def test_a_reader_never_creates_a_database_that_is_not_there(tmp_path: Path) -> None:
    site = tmp_path / "gate#2"
    site.mkdir()
    with pytest.raises(sqlite3.OperationalError):
        open_read_only(site / "gateway.db").execute("SELECT 1").fetchone()
    assert [p.name for p in tmp_path.iterdir()] == ["gate#2"], "a stray database file was created"
