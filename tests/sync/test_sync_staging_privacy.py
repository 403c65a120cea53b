"""A visitor pass pushed by the central server carries the visitor's phone and ID number in clear.
docs/mqtt.md promises they are masked and hashed on arrival and never stored in clear, and
docs/parking.md that a pass's personal data goes retention.visitors_days after it ended: the
staging file, which keeps what arrives until it is applied, must not keep either for longer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SITE, running
from sync_helpers import Central, Mosquitto, free_port, wait_for, wait_listening

from gateway.config import SiteConfig
from gateway.sync import directory
from gateway.sync.inbox import INBOX_NAME
from gateway.sync.messages import encode_delta, encode_snapshot
from gateway.sync.staging import STAGING_NAME, open_staging, save_delta

PHONE, ID_NUMBER = "13900000000", "110101199001011234"


def _pass(ref: str, valid_to: str) -> dict[str, Any]:
    return {
        "kind": "pass",
        "ref": ref,
        "pass_kind": "visitor",
        "name": "李四",
        "phone": PHONE,
        "id_number": ID_NUMBER,
        "valid_from": "2020-01-01",
        "valid_to": valid_to,
        "credentials": [{"kind": "qr", "value": f"QR-{ref}-ABCDEF"}],
    }


def _resident(ref: str) -> dict[str, Any]:
    return {"kind": "resident", "ref": ref, "building": "1", "unit": "2", "name": "住户"}


def _clear_copies(data_dir: Path) -> list[str]:
    """Live rows in the gateway's sqlite files that hold the clear phone or ID number."""
    found = []
    for path in sorted(data_dir.glob("*.db")):
        with sqlite3.connect(path) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                for col in [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]:
                    n = conn.execute(
                        f"SELECT count(*) FROM {table} WHERE CAST({col} AS TEXT) LIKE ? "
                        f"OR CAST({col} AS TEXT) LIKE ?",
                        (f"%{ID_NUMBER}%", f"%{PHONE}%"),
                    ).fetchone()[0]
                    if n:
                        found.append(f"{path.name}:{table}.{col}")
    return found


def _staging_bytes_with_numbers(data_dir: Path) -> list[str]:
    """The files what arrives waits in (the inbox, then staging) and their WALs, read as bytes:
    free pages and old frames included."""
    return [
        path.name
        for path in sorted([*data_dir.glob(f"{STAGING_NAME}*"), *data_dir.glob(f"{INBOX_NAME}*")])
        if any(n.encode() in path.read_bytes() for n in (PHONE, ID_NUMBER))
    ]


def _staged_passes(data_dir: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data_dir / STAGING_NAME) as conn:
        return conn.execute("SELECT name, id_masked, id_hash != '' FROM s_passes").fetchall()


def test_a_pushed_visitors_clear_numbers_are_not_kept_on_disk_past_the_passes_retention(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The delta's raw body, clear phone and ID number in it, stayed in sync-staging.db after the
    delta was applied, and after retention deleted the pass it came with."""
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            for part in encode_snapshot(1, [_resident("R1")], 4):
                central.publish("sync/snapshot", part)
            wait_for("snapshot 1", lambda: service.directory.versions.applied == 1)
            # A visit that ended long ago (the central server's list is late), pushed as a delta.
            central.publish("sync/delta", encode_delta(2, 1, [_pass("P9", "2020-01-02")], []))
            wait_for("delta 2", lambda: service.directory.versions.applied == 2)
            masked = gw.on_worker(
                lambda c: c.execute("SELECT id_masked FROM passes WHERE ref = 'P9'").fetchall()
            ).result(10)
            assert masked == [("**************1234",)]  # stored masked, as documented
            counts = gw.operations.retention(gw.now())  # the visit ended years ago
            assert counts["visitor_passes"] == 1
            assert (gw.data_dir / STAGING_NAME).exists()
            assert _clear_copies(gw.data_dir) == []
    finally:
        central.close()


def test_an_applied_visitors_clear_numbers_are_not_left_in_the_sync_files_free_pages(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """Deleted rows linger in SQLite's free pages and in the WAL: someone copying the staging file
    off the gateway could read the numbers there, though no query finds them."""
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            for part in encode_snapshot(1, [_resident("R1"), _pass("P1", "2099-01-01")], 1):
                central.publish("sync/snapshot", part)
            wait_for("snapshot 1", lambda: service.directory.versions.applied == 1)
            central.publish("sync/delta", encode_delta(2, 1, [_pass("P9", "2099-01-02")], []))
            wait_for("delta 2", lambda: service.directory.versions.applied == 2)
            # The inbox lets a message go just after it is applied.
            wait_for("no number left", lambda: _staging_bytes_with_numbers(gw.data_dir) == [])
    finally:
        central.close()


def test_a_pushed_visitors_staged_row_goes_with_the_pass_at_retention(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The staged copy of the pass (name, masked numbers and their keyed hashes) stayed in
    sync-staging.db until the central server's next delta or snapshot, however long after
    retention.visitors_days deleted the pass itself."""
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            central.publish("sync/delta", encode_delta(1, 0, [_pass("P9", "2020-01-02")], []))
            wait_for("delta 1", lambda: service.directory.versions.applied == 1)
            gw.operations.retention(gw.now())
            assert (
                gw.on_worker(lambda c: c.execute("SELECT count(*) FROM passes").fetchone()[0]).result(10) == 0
            )
            assert _staged_passes(gw.data_dir) == []
    finally:
        central.close()


def test_a_snapshot_that_never_arrives_whole_does_not_keep_its_visitors_numbers(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One part of a two-part snapshot came and the other never did: the part, clear numbers in
    it, waited in sync-staging.db for a newer snapshot that might never come."""
    monkeypatch.setattr(directory, "UNFINISHED_PARTS_S", 0.5, raising=False)
    cfg = sync_cfg(broker.port)
    central = Central(broker, SITE)
    try:
        with running(cfg) as (gw, service):
            wait_listening(service)
            first, _ = encode_snapshot(1, [_resident("R1"), _pass("P1", "2099-01-01")], 1)
            central.publish("sync/snapshot", first)

            def asked_again() -> bool:
                rows = gw.on_worker(
                    lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'sync_request'").fetchall()
                ).result(10)
                return any("did not arrive whole" in payload for (payload,) in rows)

            wait_for("the part dropped, the snapshot asked for again", asked_again)
            assert _clear_copies(gw.data_dir) == []
    finally:
        central.close()


def test_what_an_earlier_run_left_staged_is_emptied_at_start(sync_cfg: Callable[..., SiteConfig]) -> None:
    """A staging file written before the staged copy was emptied after each apply still held the
    last delta, clear numbers in it, for as long as no new one came."""
    cfg = sync_cfg(free_port())  # no broker: the link stays offline
    path = cfg.site.data_dir / STAGING_NAME
    conn = open_staging(path)
    save_delta(conn, 1, encode_delta(1, 0, [_pass("P9", "2020-01-02")], []))
    conn.close()
    with running(cfg) as (gw, _):
        wait_for("the staging file emptied", lambda: _clear_copies(gw.data_dir) == [])
