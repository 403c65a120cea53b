"""Upgrading a box in service: a data directory written by an older gateway, opened by this one.

The old state is built directly (a database migrated only to an older schema version, with rows as
the older code wrote them), so these tests need no git history."""

from __future__ import annotations

import hashlib
import hmac
import socket
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.cli import main
from gateway.errors import GatewayError, StorageError
from gateway.privacy import Secrets
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.database import open_database
from gateway.store.holds import holds_at_lane
from gateway.store.passes import find_returning
from gateway.store.registry import search
from gateway.store.schema import SCHEMA_VERSION
from tests.conftest import site_toml
from tests.parking.conftest import parking_config
from tests.test_store import database_at

AT = "2026-10-03T01:00:00.000000+00:00"
KEY = bytes(range(32))


def _old_phone_hash(typed: str) -> str:
    """The hash a gateway before the +86 change stored: every digit typed, country code and all."""
    digits = "".join(c for c in typed if c.isdigit())
    return hmac.new(KEY, f"phone:{digits}".encode(), hashlib.sha256).hexdigest()


def _version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def test_a_visitor_registered_with_plus86_before_the_upgrade_is_found_again(tmp_path: Path) -> None:
    """The guard typed +86 (or 0086) at the booth before the upgrade; the visitor comes back after it
    and is recognised by the phone typed either way."""
    conn = open_database(tmp_path / "gateway.db").conn
    for pid, typed in ((1, "+86 139 0013 9000"), (2, "0086 137 0013 7000")):
        conn.execute(
            "INSERT INTO passes (id, kind, name, phone_masked, phone_hash, valid_from, valid_to, created_at) "
            "VALUES (?, 'visitor', '钱七', '861****9000', ?, ?, ?, ?)",
            (pid, _old_phone_hash(typed), AT, AT, AT),
        )
    keys = Secrets(KEY)
    for typed, pid in (
        ("+86 139 0013 9000", 1),
        ("13900139000", 1),
        ("0086 13900139000", 1),
        ("137 0013 7000", 2),
        ("+86 137 0013 7000", 2),
    ):
        found = find_returning(conn, keys, typed, "")
        assert found is not None and found["id"] == pid, f"not recognised by {typed!r}: {found}"


def test_a_resident_imported_with_plus86_before_the_upgrade_is_found_by_phone(tmp_path: Path) -> None:
    """A resident imported with +86 in the phone column before the upgrade is found on the lookup
    page by the mobile number, typed with or without the country code."""
    conn = open_database(tmp_path / "gateway.db").conn
    conn.execute(
        "INSERT INTO residents (ref, building, unit, name, phone_masked, phone_hash) "
        "VALUES ('R5', '8栋', '1单元', '孙八', '861****8000', ?)",
        (_old_phone_hash("+86 138 0013 8000"),),
    )
    keys = Secrets(KEY)
    for typed in ("+86 138 0013 8000", "13800138000"):
        assert [r["ref"] for r in search(conn, keys, typed).residents] == ["R5"], typed


def test_a_landline_stored_before_the_upgrade_shows_only_its_last_four_digits(tmp_path: Path) -> None:
    """docs/guard-app.md promises a landline shows only its last four digits (****4321); one stored
    before the upgrade showed seven of its eight (876****4321) on the lookup page and the pass."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 12)  # the old code masked every number as its first 3 and last 4
    conn.execute(
        "INSERT INTO residents (id, ref, building, unit, name, phone_masked) VALUES "
        "(1, 'R6', '9栋', '1单元', '周九', '876****4321'), (2, 'R7', '9栋', '1单元', '郑十', '138****5678')"
    )
    conn.execute(
        "INSERT INTO passes (id, kind, name, phone_masked, valid_from, valid_to, created_at) "
        "VALUES (1, 'visitor', '吴十', '876****4322', ?, ?, ?)",
        (AT, AT, AT),
    )
    conn.execute(
        "INSERT INTO pass_people (pass_id, position, name, phone_masked) "
        "VALUES (1, 0, '吴十一', '876****4323')"
    )
    conn.close()
    for _ in range(2):  # the upgrade, then the next start: nothing more changes
        db = open_database(path).conn
        assert db.execute("SELECT phone_masked FROM residents ORDER BY id").fetchall() == [
            ("****4321",),
            ("138****5678",),  # a mobile keeps its first three digits
        ]
        assert db.execute("SELECT phone_masked FROM passes").fetchall() == [("****4322",)]
        assert db.execute("SELECT phone_masked FROM pass_people").fetchall() == [("****4323",)]
        db.close()


def test_a_box_that_ran_the_first_migration_12_gives_no_new_pass_a_debtors_id(tmp_path: Path) -> None:
    """Migration 12 was mended after it first shipped. A box that ran the first one numbered its
    passes only above the ids the log, presence and stays name: a new visitor's pass took the id of
    a pruned pass that still owed 5元 and was asked for it at the exit. And the index that finds a
    plate among its other passes was missing."""
    path = tmp_path / "gateway.db"
    conn = database_at(path, 12)
    conn.execute(
        "INSERT INTO passes (id, kind, name, valid_from, valid_to, created_at) "
        "VALUES (5, 'visitor', '李四', ?, ?, ?)",
        (AT, AT, AT),
    )
    # Pass 9, pruned since, left owing 5元 (a missed exit): charges are kept for good.
    conn.execute(
        "INSERT INTO charges (subject, plate, class, kind, tariff_version, ended_at, amount_fen, at) "
        "VALUES ('visitor:9', '苏E99999', 'car', 'exit', 't1', ?, 500, ?)",
        (AT, AT),
    )
    # What the first migration 12 left: the sequence above pass 5 only, no passes_plate index.
    conn.execute("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'passes'")
    conn.execute("DROP INDEX passes_plate")
    conn.close()
    db = open_database(path).conn
    new_pass = db.execute(
        "INSERT INTO passes (kind, name, valid_from, valid_to, created_at) "
        "VALUES ('visitor', '赵六', ?, ?, ?)",
        (AT, AT, AT),
    ).lastrowid
    assert new_pass == 10, "a new pass took the id of a pruned pass that still owes money"
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'passes_plate'").fetchone() == (1,)


_real_connect = sqlite3.connect


def _full_disk_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    """The data disk has no page to spare: gateway.db cannot grow past its size now."""
    conn = _real_connect(*args, **kwargs)
    if str(args[0] if args else kwargs.get("database", "")).endswith("gateway.db"):
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages}")
    return conn


def _schema_10_box(tmp_path: Path) -> tuple[Path, Path]:
    """A site whose database an older gateway left at schema version 10, with a resident in it
    (migration 12 rebuilds residents, vehicles and passes: it needs room to grow)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    path = tmp_path / "data" / "gateway.db"
    path.parent.mkdir()
    conn = database_at(path, 10)
    conn.execute("INSERT INTO residents (ref, building, unit, name) VALUES ('R1', '3栋', '2单元', '张三')")
    conn.close()
    return config, path


def test_an_upgrade_cut_short_by_a_full_disk_leaves_the_database_the_old_version_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills during the upgrade's migration. The database stays as the older gateway left
    it (schema 10, so the installer may go back to that version), a copy made before the upgrade is
    next to it, and the error says both; with room again, the upgrade goes through."""
    _, path = _schema_10_box(tmp_path)
    with monkeypatch.context() as mp:
        mp.setattr(sqlite3, "connect", _full_disk_connect)
        with pytest.raises(GatewayError) as info:
            open_database(path)
    assert _version(path) == 10, f"the failed upgrade left a database neither version opens: {info.value}"
    backup = path.with_name("gateway.db.v10.bak")
    message = str(info.value)
    assert "still at schema version 10" in message and str(backup) in message, message
    assert "do not replace the database" in message, message
    assert not isinstance(info.value, StorageError)  # not a fault of the database: it can pass
    assert _version(backup) == 10
    with closing(_real_connect(backup)) as copy:
        assert copy.execute("SELECT ref FROM residents").fetchall() == [("R1",)]
    db = open_database(path).conn  # the disk has room again
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT ref FROM residents").fetchall() == [("R1",)]


def test_an_upgrade_cut_short_by_a_full_disk_is_retried_by_systemd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: a full disk exits 1 so systemd starts the gateway again once there is room; exit 78
    would stop the service for good over a disk that only needed space."""
    config, _ = _schema_10_box(tmp_path)
    with monkeypatch.context() as mp:
        mp.setattr(sqlite3, "connect", _full_disk_connect)
        status = main(["run", "-c", str(config)])
    err = capsys.readouterr().err
    assert status == 1, f"exit {status}: {err}"
    assert "the data disk is full" in err and "do not replace the database" in err, err


def test_an_upgrade_under_systemd_asks_for_the_time_it_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit gives a start 60 s. The copy and the migration of a large database take longer on an
    SD card: killed, the migration would start over at every restart and never end. The gateway
    asks systemd for more time first; a start that migrates nothing asks for none."""
    path = tmp_path / "gateway.db"
    database_at(path, 12).close()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(tmp_path / "notify"))
        systemd.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
        open_database(path).conn.close()
        assert systemd.recv(4096).decode().startswith("EXTEND_TIMEOUT_USEC=1800000000\n")
        assert (
            systemd.recv(4096).decode()
            == f"STATUS=database upgraded from schema version 12 to {SCHEMA_VERSION}"
        )
        open_database(path).conn.close()  # already upgraded
        systemd.setblocking(False)
        with pytest.raises(BlockingIOError):
            systemd.recv(4096)


def test_a_person_kept_inside_under_their_car_by_an_older_gateway_is_not_counted_for_ever(
    tmp_path: Path,
) -> None:
    """An older gateway kept a resident who walked in on the card that also names her car under the
    car (vehicle:5); this one keeps people under themselves, so that row would never be closed and
    the occupancy page would count a person on foot for ever. The upgrade drops such rows."""
    path = tmp_path / "gateway.db"
    old = database_at(path, 13)
    old.executemany(
        "INSERT INTO presence (subject, inside, lane, at) VALUES (?, 1, 'door', ?)",
        [("vehicle:5", AT), ("resident:1", AT)],
    )
    old.close()
    conn = open_database(path).conn
    assert conn.execute("SELECT subject FROM presence").fetchall() == [("resident:1",)]


@pytest.mark.parametrize("version", [19, 20])
def test_a_car_struck_off_under_an_older_gateway_is_listed_unregistered_after_the_upgrade(
    tmp_path: Path, version: int
) -> None:
    """An older gateway struck 皖B33333 off while it was parked: its stay went to the plate but kept
    the deleted vehicle's id. After the upgrade (from before migration 20, or from a box that ran
    it) the guard's stays list shows the car as no longer registered, as it does a car struck off
    now; its monthly period ends as the struck-off car's did."""
    data = tmp_path / "data"
    data.mkdir()
    cfg = parking_config(data)
    old = database_at(data / "gateway.db", version)
    old.execute(
        "INSERT INTO stays (subject, plate, vehicle_id, class, zone, billing, entered_at, monthly_until) "
        "VALUES ('plate:皖B33333', '皖B33333', 7, 'car', 'main', 'monthly', ?, ?)",
        (AT, AT),
    )
    old.close()
    for start in ("upgrade", "next start"):
        gw = Gateway(cfg)
        try:
            _, token = create_token(gw.conn, gw.now(), "t", f"booth at {start}", "admin", None)
            stays = (
                TestClient(create_app(gw))
                .get("/api/parking/stays", headers={"Authorization": f"Bearer {token}"})
                .json()
            )
            assert [(s["plate"], s["registered"]) for s in stays] == [("皖B33333", False)], stays
            assert gw.conn.execute("SELECT monthly_until FROM stays").fetchall() == [(AT,)]
        finally:
            gw.conn.close()


@pytest.mark.parametrize("exit_event", ["held-1", None])
def test_a_car_let_out_by_hand_before_the_upgrade_is_no_longer_shown_held(
    tmp_path: Path, exit_event: str | None
) -> None:
    """An older gateway held two strangers' cars at car-out and the guard let the first out by hand
    (its stay closed by hand, naming its hold's last decision; the release before this one named
    none, None: its box's openings were all lost at the upgrade, review s38_n). After the upgrade
    the lane shows only the other one, still held: the first hold has ended, and the second,
    written before the upgrade kept each record's car, is still that car's."""
    data = tmp_path / "data"
    data.mkdir()
    old = database_at(data / "gateway.db", 21)
    for n, plate in ((1, "苏E12345"), (2, "苏E54321")):
        old.execute(
            "INSERT INTO access_log (event_id, at, lane, kind, value, confidence, admitted, reason) "
            "VALUES (?, ?, 'car-out', 'plate', ?, 0.97, 0, 'payment_due')",
            (f"held-{n}", AT, plate),
        )
    old.execute(
        "INSERT INTO stays (subject, plate, entered_at, exited_at, exit_event, closed_by) "
        "VALUES ('plate:苏E12345', '苏E12345', ?, ?, ?, 'hand')",
        (AT.replace("T01", "T00"), AT.replace("T01:00", "T01:01"), exit_event),
    )
    old.close()
    gw = Gateway(parking_config(data))
    try:
        at = datetime.fromisoformat(AT) + timedelta(minutes=2)
        held = holds_at_lane(gw.conn, "car-out", at, gw.site.lanes)
    finally:
        gw.conn.close()
    assert [h.plate for h in held] == ["苏E54321"], held
