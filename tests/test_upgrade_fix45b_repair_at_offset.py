"""Schema migration 42's records of a re-entry charge whose access record retention already
deleted (delivered more than 180 days before the upgrade): their `at` is in the site's offset."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gateway.config.models import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_database
from gateway.store.schema import DATED_IN_UTC
from tests.parking.conftest import parking_config
from tests.test_store import database_at


def _charge(conn: sqlite3.Connection, charge_id: int, amount_fen: int, at: str, event: str) -> None:
    conn.execute(
        "INSERT INTO charges (id, subject, plate, class, billing, kind, tariff_version, ended_at, "
        "amount_fen, event_id, at) VALUES (?, 'plate:苏E12345', '苏E12345', 'car', 'temporary', "
        "'reentry', 't1', ?, ?, ?, ?)",
        (charge_id, at, amount_fen, event, at),
    )


def _old_box(tmp_path: Path) -> SiteConfig:
    """A car re-entered at 15:00 (Shanghai) on 3 March with 14元 paid against a 9元 charge (9元
    carried still owed); its access record was delivered and pruned before the upgrade."""
    cfg = parking_config(tmp_path / "data", reentry="charge")
    cfg.site.data_dir.mkdir(parents=True)
    conn = database_at(cfg.site.data_dir / "gateway.db", 35)
    _charge(conn, 1, 900, "2025-03-03T04:00:00.000000+00:00", "e-12")
    _charge(conn, 2, 900, "2025-03-03T07:00:00.000000+00:00", "e-15")
    conn.execute(
        "INSERT INTO payments (id, subject, plate, at, fee_until, amount_fen, method, receipt, actor, "
        "charge_id, linked_at) VALUES (1, 'plate:苏E12345', '苏E12345', ?, ?, 1400, 'cash', 'R1', "
        "'booth', 2, ?)",
        ("2025-03-03T05:00:00.000000+00:00",) * 3,
    )
    conn.close()
    return cfg


def _charge_records(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return [(json.loads(p)["change"], json.loads(p)["at"]) for (p,) in rows]


AT_15 = [("settled", "2025-03-03T15:00:00+08:00"), ("repaired", "2025-03-03T15:00:00+08:00")]


def test_repair_records_of_an_old_reentry_carry_the_sites_offset(tmp_path: Path) -> None:
    """The centre got the `settled` and `repaired` records dated 2025-03-03T07:00:00.000000+00:00
    where docs/mqtt.md promises every record's `at` in the site's offset."""
    gw = Gateway(_old_box(tmp_path))
    try:
        got = _charge_records(gw.conn)
        assert got == AT_15, f"the upgrade's charge records are not dated in the site's offset: {got}"
    finally:
        gw.conn.close()


def test_a_box_migrated_by_a_command_first_has_them_dated_when_the_gateway_starts(tmp_path: Path) -> None:
    """`gateway import` (any command) may run the upgrade, knowing no zone: the gateway, opening
    the database with the site's config, dates them before its uplink runs; once, so that a later
    start leaves them, and the list of what to date, as they are."""
    cfg = _old_box(tmp_path)
    db = open_database(cfg.site.data_dir / "gateway.db").conn
    try:
        assert [at for _, at in _charge_records(db)] == ["2025-03-03T07:00:00.000000+00:00"] * 2
    finally:
        db.close()
    for _ in range(2):
        gw = Gateway(cfg)
        try:
            assert _charge_records(gw.conn) == AT_15
            left = gw.conn.execute("SELECT 1 FROM config_seen WHERE key = ?", (DATED_IN_UTC,)).fetchall()
            assert left == []
        finally:
            gw.conn.close()


def test_a_box_with_nothing_to_mend_queues_nothing_to_date(tmp_path: Path) -> None:
    cfg = parking_config(tmp_path / "data", reentry="charge")
    cfg.site.data_dir.mkdir(parents=True)
    database_at(cfg.site.data_dir / "gateway.db", 35).close()
    db = open_database(cfg.site.data_dir / "gateway.db").conn
    try:
        assert db.execute("SELECT 1 FROM config_seen WHERE key = ?", (DATED_IN_UTC,)).fetchall() == []
    finally:
        db.close()
