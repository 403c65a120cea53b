"""The SQLite store: migrations, refusal of a newer schema, append-only log, masked personal data."""

from __future__ import annotations

import re
import shlex
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.alarm_texts import AlarmText
from gateway.cli import main
from gateway.config import EX_CONFIG
from gateway.errors import StorageError
from gateway.privacy import Secrets, mask_id_number, mask_name, mask_phone
from gateway.store.database import _migrate, begin_immediate, open_database
from gateway.store.outbox import enqueue, quarantine
from gateway.store.schema import SCHEMA_VERSION
from tests.conftest import site_toml


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    db = open_database(tmp_path / "g.db")
    conn = db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {
        "residents",
        "credentials",
        "vehicles",
        "slots",
        "slot_vehicles",
        "passes",
        "access_log",
        "outbox",
        "stays",
        "alarms",
        "audit",
    } <= {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    again = open_database(tmp_path / "g.db")  # opening again migrates nothing and keeps data
    assert again.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_database_from_a_newer_gateway_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    open_database(path).conn.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StorageError) as info:
        open_database(path)
    assert "newer gateway" in str(info.value) and "upgrade estate-gateway" in str(info.value)
    assert f"g.db.v{SCHEMA_VERSION}.bak" in str(info.value)  # the copy the newer one made
    assert path.read_bytes() == before


def test_run_refuses_a_newer_database_with_exit_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    path = tmp_path / "data" / "gateway.db"
    open_database(path).conn.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    assert main(["run", "-c", str(config)]) == EX_CONFIG
    assert "newer gateway" in capsys.readouterr().err


def test_not_a_database_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError) as info:
        open_database(path)
    assert "cannot open the database" in str(info.value) and "restore it from a backup" in str(info.value)


def test_unusable_data_dir_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError) as info:
        open_database(tmp_path / "file" / "data" / "g.db")
    assert "cannot create the data directory" in str(info.value) and "data_dir" in str(info.value)


def test_access_log_and_audit_are_append_only(tmp_path: Path) -> None:
    conn = open_database(tmp_path / "g.db").conn
    conn.execute(
        "INSERT INTO access_log (event_id, at, lane, kind, value, confidence, admitted, reason) "
        "VALUES ('e1', '2026-01-01', 'door', 'card', 'X', 1, 1, 'resident')"
    )
    conn.execute("INSERT INTO audit (at, actor, action) VALUES ('2026-01-01', 'admin', 'x')")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE access_log SET admitted = 0")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="last 180 days cannot be deleted"):
        conn.execute("DELETE FROM audit")


def test_personal_numbers_are_masked_and_hashed_with_the_site_key(tmp_path: Path) -> None:
    secrets = Secrets.load_or_create(tmp_path)
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    assert mask_phone("138 1234 5678") == "138****5678"
    assert mask_id_number("34010219900101123X") == "**************123X"
    assert mask_name("张三丰") == "张**"
    assert secrets.digest("phone", "13812345678") == secrets.digest("phone", "138-1234-5678")
    other = Secrets.load_or_create(tmp_path / "other") if (tmp_path / "other").mkdir() is None else None
    assert other is not None and other.digest("phone", "13812345678") != secrets.digest(
        "phone", "13812345678"
    )


def test_a_writer_gives_up_after_the_busy_timeout_and_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    holder = open_database(path).conn
    lane = open_database(path).conn
    lane.execute("PRAGMA busy_timeout=50")
    begin_immediate(holder)  # a long write elsewhere
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        begin_immediate(lane)
    assert lane.execute("PRAGMA busy_timeout").fetchone() == (50,)
    assert not lane.in_transaction
    holder.execute("COMMIT")
    begin_immediate(lane)  # the lock is free again: taken at once
    assert lane.in_transaction
    lane.execute("COMMIT")


def _site_with_a_refused_record(tmp_path: Path, waiting: int) -> tuple[Path, sqlite3.Connection]:
    """A site whose outbox holds `waiting` records and then one the broker refused (seq waiting + 1)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    for n in range(waiting + 1):
        enqueue(conn, "access", {"n": n}, at)
    quarantine(conn, waiting + 1, "refused by the broker: not authorized", at)
    return config, conn


def test_gateway_outbox_lists_set_aside_records_and_sends_them_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, conn = _site_with_a_refused_record(tmp_path, waiting=2)
    conn.close()
    assert main(["outbox", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "waiting to go upstream: 2" in out and "set aside (quarantined): 1" in out
    assert "seq 3  access" in out and "not authorized" in out
    assert main(["outbox", "-c", str(config), "--send-again", "7"]) == 1  # no such set-aside record
    assert "not set aside: seq 7" in capsys.readouterr().err
    assert main(["outbox", "-c", str(config), "--send-again", "all"]) == 0
    assert "put back in line: 1 record(s), seq 3" in capsys.readouterr().out
    conn = open_database(tmp_path / "data" / "gateway.db").conn
    assert conn.execute(
        "SELECT count(*) FROM outbox WHERE quarantined IS NULL AND sent_at IS NULL"
    ).fetchone() == (3,)
    assert conn.execute("SELECT action, target FROM audit WHERE action = 'outbox.send_again'").fetchall() == [
        ("outbox.send_again", "3")
    ]


def test_a_command_on_a_busy_database_says_so_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, db = _site_with_a_refused_record(tmp_path, waiting=0)
    db.execute("PRAGMA busy_timeout=0")
    begin_immediate(db)  # the gateway (or an import) writing, past the command's busy timeout
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("gateway.sync.outbox_cli.open_database", _impatient)
            # was: a traceback; exit 1, not 78: another process's lock passes (README, Exit status)
            assert main(["outbox", "-c", str(config), "--send-again", "all"]) == 1
    finally:
        db.execute("ROLLBACK")
        db.close()
    err = capsys.readouterr().err
    assert "database is locked" in err and "run the command again" in err


def _impatient(path: Path, **kwargs: Any) -> Any:
    """open_database, with a busy timeout of 0.2 s instead of 10 s."""
    db = open_database(path, **kwargs)
    db.conn.execute("PRAGMA busy_timeout=200")
    return db


def database_at(path: Path, version: int) -> sqlite3.Connection:
    """A database as a gateway of schema `version` left it (the upgrade runs on the next open)."""
    conn = sqlite3.connect(path, isolation_level=None)
    _migrate(conn, 0, path, until=version)
    return conn


def test_money_a_moved_stay_left_behind_before_migration_10_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    conn = database_at(path, 10)  # a site's database before the upgrade
    at = "2025-03-03T01:00:00.000000+00:00"
    # 苏E99999 came in as a stranger and paid 7元 at the booth; before migration 10 the guard then
    # registered it as visitor 4, and its stay moved but the payment stayed under the stranger.
    conn.execute(
        "INSERT INTO stays (id, subject, plate, entered_at) VALUES (1, 'visitor:4', '苏E99999', ?)", (at,)
    )
    conn.execute(
        "INSERT INTO payments (subject, plate, stay_id, at, fee_until, amount_fen, method, receipt, actor) "
        "VALUES ('plate:苏E99999', '苏E99999', 1, ?, ?, 700, 'cash', 'r1', 'guard1')",
        (at, at),
    )
    conn.execute(
        "INSERT INTO charges (subject, plate, class, kind, tariff_version, ended_at, amount_fen, at) "
        "VALUES ('plate:苏E99999', '苏E99999', 'car', 'reentry', 't1', ?, 500, ?)",
        (at, at),
    )
    conn.close()
    db = open_database(path).conn  # migrates to this version
    assert db.execute("SELECT subject FROM payments").fetchall() == [("visitor:4",)]
    assert db.execute("SELECT subject FROM charges").fetchall() == [("visitor:4",)]


def test_ids_are_never_given_again_after_the_upgrade_that_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "gateway.db"
    conn = database_at(path, 11)  # a site's database before the upgrade
    conn.execute("PRAGMA foreign_keys=ON")
    at = "2025-03-03T01:00:00.000000+00:00"
    for rid in (1, 2):
        conn.execute(
            "INSERT INTO residents (id, ref, building, unit, name) VALUES (?, ?, '3栋', '2单元', '张三')",
            (rid, f"R{rid}"),
        )
    conn.execute("INSERT INTO vehicles (id, plate, resident_id) VALUES (1, '苏E12345', 2)")
    conn.execute(
        "INSERT INTO credentials (kind, value, resident_id, vehicle_id) VALUES ('plate', '苏E12345', 2, 1)"
    )
    conn.execute(
        "INSERT INTO passes (id, kind, name, valid_from, valid_to, created_at, vehicle_class) "
        "VALUES (5, 'visitor', '李四', ?, ?, ?, 'motorcycle')",
        (at, at, at),
    )
    # Resident 3 and pass 7 were deleted before the upgrade; the log and presence still name them.
    conn.execute(
        "INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason, "
        "holder_kind, holder_id) "
        "VALUES ('e1', ?, 'door', 'r', 'card', 'C1', 1, 1, 'resident', 'resident', 3)",
        (at,),
    )
    conn.execute("INSERT INTO presence (subject, inside, lane, at) VALUES ('visitor:7', 1, 'door', ?)", (at,))
    # Pass 9, pruned too, left owing 5元: charges are kept for good.
    conn.execute(
        "INSERT INTO charges (subject, plate, class, kind, tariff_version, ended_at, amount_fen, at) "
        "VALUES ('visitor:9', '苏E99999', 'car', 'exit', 't1', ?, 500, ?)",
        (at, at),
    )
    conn.close()
    db = open_database(path).conn  # migrates to this version
    assert db.execute("SELECT id, ref FROM residents ORDER BY id").fetchall() == [(1, "R1"), (2, "R2")]
    assert db.execute("SELECT id, vehicle_class FROM passes").fetchall() == [(5, "motorcycle")]
    assert db.execute("SELECT count(*) FROM credentials").fetchone() == (1,)
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
    new_resident = db.execute(
        "INSERT INTO residents (ref, building, unit, name) VALUES ('R9', '9栋', '1单元', '王五')"
    ).lastrowid
    new_pass = db.execute(
        "INSERT INTO passes (kind, name, valid_from, valid_to, created_at) "
        "VALUES ('visitor', '赵六', ?, ?, ?)",
        (at, at, at),
    ).lastrowid
    assert (new_resident, new_pass) == (4, 10)  # above every id the log, presence and money name
    db.execute("DELETE FROM residents WHERE id = 4")  # the newest, deleted: its id is not reused
    again = db.execute(
        "INSERT INTO residents (ref, building, unit, name) VALUES ('R10', '9栋', '1单元', '钱七')"
    ).lastrowid
    assert again == 5
    db.execute("DELETE FROM residents WHERE id = 2")  # the foreign keys still cascade
    assert db.execute("SELECT count(*) FROM vehicles").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM credentials").fetchone() == (0,)


def test_the_set_aside_alarm_tells_the_admin_a_command_that_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The alarms page's 记录无法上传 says what to run on the box; run as written (with the site
    config for CONFIG) it sends the record again, not an argparse usage error."""
    config, conn = _site_with_a_refused_record(tmp_path, waiting=0)
    conn.close()
    commands = []
    for language in ("en", "zh"):
        words = {"record_type": "access", "seq": 1, "reason": "x"}
        said = AlarmText("outbox_quarantine", words).render(language)
        command = re.search(r"gateway outbox -c \S+ --send-again 1", said)
        assert command, said
        commands.append(shlex.split(command.group(0))[1:])
    argv = commands[0]
    argv[argv.index("-c") + 1] = str(config)
    assert main(argv) == 0, capsys.readouterr().err
    assert "put back in line: 1 record(s), seq 1" in capsys.readouterr().out
