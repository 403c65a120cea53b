"""What a big retention pass gives back to the card (a year of service on a small SD card).

The installer lowers retention.access_records_days to free a full card, or the records of a long
outage fall due together: one pass deletes more than half the access log. Run as the running
gateway runs it (its batches on the decision worker, the checkpoint thread running), it must leave
the data directory smaller than it found it: the WAL not grown to hold every deleted page, and the
deleted pages given back to the disk, not kept in gateway.db as free pages for good.

Small stores (a few MB), so that each test takes seconds: the point is the same at 100 MB."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import namedtuple
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.runtime import worker
from gateway.runtime.gateway import Gateway
from gateway.store import database
from tests.parking.conftest import T0
from tests.test_retention_query_plans import _fill_history

ROWS = 24_000  # over 400 days: some 13,000 are past the 180 days kept
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for INCREMENTAL


def _on_disk(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("gateway.db*") if p.is_file())


def _busy_box(make_gw: Callable[..., Gateway]) -> Gateway:
    gw = make_gw()
    _fill_history(gw, ROWS, days=400)  # 400 days of records: those past 180 days are due
    gw.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return gw


def _pass_on_running_gateway(gw: Gateway) -> int:
    gw.start()
    deleted = gw.operations.retention(T0)["access_records"]
    time.sleep(1.5)  # the checkpoint thread's turn (every second)
    gw.handle(Presented("car-in", "plate", "皖B33333", 0.97, T0, "cam"))  # the lanes carry on
    time.sleep(1.5)
    return deleted


def _auto_vacuum(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])


def test_retention_pass_leaves_the_card_no_fuller_than_before(make_gw: Callable[..., Gateway]) -> None:
    """gateway.db-wal grew to hold every deleted page (the batches back to back, only passive
    checkpoints, no journal_size_limit) and kept that size while the gateway ran: the data
    directory ended up larger than before the pass, by about what was deleted."""
    gw = _busy_box(make_gw)
    data = gw.data_dir
    before = _on_disk(data)
    try:
        deleted = _pass_on_running_gateway(gw)
        assert deleted > ROWS // 2
        wal = (data / "gateway.db-wal").stat().st_size
        after = _on_disk(data)
    finally:
        gw.stop()
    assert after <= before, (
        f"retention deleted {deleted} of {ROWS} access records and the data directory grew from "
        f"{before >> 10} KB to {after >> 10} KB (gateway.db-wal {wal >> 10} KB, kept at that size while "
        "the gateway runs)"
    )
    assert wal < 1 << 20, f"gateway.db-wal is left at {wal >> 10} KB after the pass"


def test_a_wal_grown_past_its_limit_is_emptied_while_the_gateway_runs(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A WAL grown past database.WAL_SIZE_LIMIT (a big write: an import, a pass on a box without
    the checkpoint's turns) is emptied by the checkpoint thread, not kept that size until a stop."""
    monkeypatch.setattr(worker, "WAL_SIZE_LIMIT", 256 << 10)
    gw = make_gw()
    wal = gw.data_dir / "gateway.db-wal"
    gw.start()
    try:
        _fill_history(gw, 4_000)  # some MB in one transaction, as `gateway import` may write
        grown = wal.stat().st_size
        # Polled, not read once after two turns of the checkpoint thread (2.5 s): on a loaded box
        # its turns come late. Kept that size until a stop (the fault), it never reaches 0.
        deadline = time.monotonic() + 20
        while (left := wal.stat().st_size) != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        gw.stop()
    assert grown > 1 << 20
    assert left == 0, f"gateway.db-wal grew to {grown >> 10} KB and is still {left >> 10} KB"


def test_space_freed_by_retention_is_given_back_to_the_card(make_gw: Callable[..., Gateway]) -> None:
    """The pages of deleted records stayed in gateway.db as free pages (no auto_vacuum, never a
    VACUUM): a card that filled once stayed full however much retention deleted."""
    gw = _busy_box(make_gw)
    db = gw.data_dir / "gateway.db"
    before = db.stat().st_size
    try:
        deleted = _pass_on_running_gateway(gw)
    finally:
        gw.stop()  # the last checkpoint, TRUNCATE: the WAL is in the file and emptied
    after = db.stat().st_size
    with closing(sqlite3.connect(db)) as conn:
        pages, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("freelist_count", "page_size"))
        free = pages * size
    assert after < 0.75 * before, (
        f"retention deleted {deleted} of {ROWS} access records; gateway.db is {after >> 10} KB, was "
        f"{before >> 10} KB: {free >> 10} KB of it free pages never given back to the disk"
    )


def _made_by_an_older_version(make_gw: Callable[..., Gateway]) -> tuple[Path, Callable[[], Gateway]]:
    """A database as versions before this one made it (auto_vacuum off), with records in it."""
    made: list[Gateway] = []

    def again() -> Gateway:
        gw = Gateway(made[0].site.config)
        made.append(gw)
        return gw

    gw = make_gw()
    made.append(gw)
    _fill_history(gw, 2_000)
    gw.conn.execute("PRAGMA auto_vacuum=NONE")
    gw.conn.execute("VACUUM")
    gw.conn.close()
    db = gw.data_dir / "gateway.db"
    assert _auto_vacuum(db) == 0
    return db, again


def test_an_older_database_is_switched_once_as_the_gateway_starts(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    db, start_again = _made_by_an_older_version(make_gw)
    caplog.set_level(logging.INFO, logger="gateway.store.database")
    gw = start_again()
    try:
        records = gw.conn.execute("SELECT count(*) FROM access_log").fetchone()[0]
    finally:
        gw.conn.close()
    assert _auto_vacuum(db) == INCREMENTAL
    assert records == 2_001  # every record kept
    said = [r.getMessage() for r in caplog.records if "VACUUM" in r.getMessage()]
    assert len(said) == 1 and " s" in said[0], said  # said in the journal, with how long it took


def test_an_older_database_on_a_card_without_room_is_left_and_the_journal_says_what_to_do(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db, start_again = _made_by_an_older_version(make_gw)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(database.shutil, "disk_usage", lambda _: Usage(100 << 20, 99 << 20, 1 << 20))
    caplog.set_level(logging.INFO, logger="gateway.store.database")
    gw = start_again()  # the gateway starts all the same
    gw.conn.close()
    assert _auto_vacuum(db) == 0
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING and "VACUUM" in r.getMessage()]
    said = warning.getMessage()
    assert "free" in said and ".bak" in said and "start" in said, said
