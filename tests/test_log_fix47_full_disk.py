"""A full data disk and the journal: each repeated fault is logged once, with what to do, then
quietly; its end once at INFO. The journal lives on the same full SD card."""

from __future__ import annotations

import logging
import sqlite3
import time
import types
from collections import namedtuple
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from gateway.config import SiteConfig
from gateway.parking import retention
from gateway.runtime import worker as worker_module
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Unwaited
from gateway.store.outbox import enqueue
from gateway.sync import link_outbox
from tests.sync.conftest import SITE, broker, brokers, running, sync_cfg  # noqa: F401
from tests.sync.sync_helpers import Mosquitto, Subscriber, wait_for
from tests.test_runtime import make_gateway

Usage = namedtuple("Usage", "total used free")
_real_connect = sqlite3.connect


class _FullDisk:
    """The checkpointer's connection on a full disk: a checkpoint must grow gateway.db to copy the
    WAL into it, and SQLite answers SQLITE_FULL (as it does on a real full filesystem), until
    `freed` is set."""

    freed = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        self._conn = _real_connect(*args, **kwargs)  # type: ignore[arg-type]

    def execute(self, sql: str, *args: object) -> object:
        if "wal_checkpoint" in sql and not _FullDisk.freed:
            raise sqlite3.OperationalError("database or disk is full")
        return self._conn.execute(sql, *args)

    def close(self) -> None:
        self._conn.close()


def test_a_full_disk_writes_one_checkpoint_warning_with_the_fix_and_one_line_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """While the data disk is full, the WAL checkpoint (tried every second) failed each time and
    each failure was a WARNING line without a fix: 3,600 an hour. Logged once with what to do, then
    quietly; once at INFO when a checkpoint succeeds again."""
    _FullDisk.freed = False
    monkeypatch.setattr(
        worker_module, "sqlite3", types.SimpleNamespace(connect=_FullDisk, Error=sqlite3.Error)
    )
    gw = make_gateway(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="gateway.runtime.worker"):
        gw.start()
        try:
            time.sleep(4.5)
            _FullDisk.freed = True
            time.sleep(1.5)
        finally:
            gw.stop()
    records = [r for r in caplog.records if r.name == "gateway.runtime.worker"]
    failed = [r for r in records if "checkpoint failed" in r.getMessage()]
    loud = [r for r in failed if r.levelno >= logging.WARNING]
    assert len(loud) == 1, [r.getMessage() for r in loud]
    assert "free disk space" in loud[0].getMessage()
    assert len(failed) >= 3  # the repeats, at DEBUG
    again = [r for r in records if r.levelno == logging.INFO and "checkpoint" in r.getMessage()]
    assert len(again) == 1, [r.getMessage() for r in again]


def test_a_full_disk_at_stop_is_one_line_not_a_thread_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The last checkpoint, at a stop on a full disk, failed out of its thread: an unhandled
    exception's traceback on stderr rather than a line that says what it means."""
    _FullDisk.freed = False
    monkeypatch.setattr(
        worker_module, "sqlite3", types.SimpleNamespace(connect=_FullDisk, Error=sqlite3.Error)
    )
    unhandled: list[BaseException | None] = []
    monkeypatch.setattr(worker_module.threading, "excepthook", lambda args: unhandled.append(args.exc_value))
    gw = make_gateway(tmp_path)
    with caplog.at_level(logging.INFO, logger="gateway.runtime.worker"):
        gw.start()
        gw.stop()
    assert unhandled == []
    said = [r for r in caplog.records if "checkpoint at the stop failed" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING, [r.getMessage() for r in said]


def _fill_the_disk(gw: Gateway) -> None:
    """A full disk as SQLite reports it (SQLITE_FULL), as the suite makes one (tests/ui/conftest.py,
    fill_the_disk): each insert into the outbox also writes a megabyte, and the worker's
    connection may not grow the file."""
    with sqlite3.connect(gw.db_path) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        conn.execute(
            "CREATE TRIGGER full_outbox BEFORE INSERT ON outbox "
            "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
        )
    gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1")).result(timeout=60)


def test_a_step_failing_on_a_full_disk_is_logged_once_not_a_traceback_every_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With the data disk full, the disk guard cannot write its disk_low alarm (its record
    upstream). Operations.tick logs a repeated fault once, yet the decision worker also logged a
    full traceback ("task on the decision worker failed") at every look, every 30 s, for as long
    as the disk was full."""
    gw = make_gateway(tmp_path)
    gw.start()
    try:
        _fill_the_disk(gw)
        monkeypatch.setattr(retention.shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - 1000, 1000))
        with caplog.at_level(logging.INFO):
            for _ in range(4):  # four looks: two minutes of a full disk
                gw.operations.tick(gw.now())
    finally:
        gw.stop()
    steps = [r for r in caplog.records if "operations step" in r.getMessage()]
    worker = [r for r in caplog.records if "task on the decision worker failed" in r.getMessage()]
    disk = [r for r in steps if "operations step disk failed" in r.getMessage()]
    assert len(disk) == 1, [r.getMessage() for r in steps]
    assert worker == [], [r.exc_info[1] for r in worker if r.exc_info]


def test_a_write_nobody_waits_for_that_fails_on_a_full_disk_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A write handed to the worker whose future nobody reads (an alarm raised in passing) has
    nobody else to say it failed: the worker says it once, with the fix, and once when it is
    written again; the decision worker's traceback is kept for faults of the gateway."""
    gw = make_gateway(tmp_path)
    gw.start()
    try:
        _fill_the_disk(gw)
        write = Unwaited("the test record", lambda c: enqueue(c, "test", {"n": 1}, gw.now()))
        with caplog.at_level(logging.INFO, logger="gateway.runtime.worker"):
            for _ in range(3):
                with pytest.raises(sqlite3.OperationalError):
                    gw.on_worker(write).result(timeout=10)
            gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1073741823")).result(timeout=60)
            gw.on_worker(lambda c: c.execute("DROP TRIGGER full_outbox")).result(timeout=60)
            gw.on_worker(write).result(timeout=10)
            with pytest.raises(sqlite3.OperationalError):  # a fault of the gateway: a traceback
                gw.on_worker(lambda c: c.execute("SELECT * FROM no_such_table")).result(timeout=10)
    finally:
        gw.stop()
    lines = [r for r in caplog.records if r.name == "gateway.runtime.worker"]
    failed = [r for r in lines if "the test record not written" in r.getMessage()]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR, [r.getMessage() for r in failed]
    assert "full" in failed[0].getMessage() and "free disk space" in failed[0].getMessage()
    again = [r for r in lines if "the test record written again" in r.getMessage()]
    assert len(again) == 1 and again[0].levelno == logging.INFO
    bugs = [r for r in lines if "task on the decision worker failed" in r.getMessage()]
    assert len(bugs) == 1 and bugs[0].exc_info is not None


def _produce(gw: Gateway, n: int) -> None:
    def write(conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for i in range(n):
            enqueue(conn, "test", {"n": i}, gw.now())
        conn.execute("COMMIT")

    gw.on_worker(write).result(timeout=10)


def test_full_disk_marks_are_logged_once_not_at_every_retry(
    broker: Mosquitto,  # noqa: F811
    sync_cfg: Callable[..., SiteConfig],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the data disk full while the link sends records, the journal got an ERROR line for
    every batch of sent marks at every 5 s retry, for as long as the disk stayed full. Once at
    ERROR with the fix, then quietly, and once at INFO when the marks are written again."""
    full = True
    real_mark_sent = link_outbox.mark_sent

    def mark_sent(conn: sqlite3.Connection, sent: list[tuple[int, int]], at: datetime) -> None:
        if full:  # as SQLite fails it: SQLITE_FULL
            error = sqlite3.OperationalError("database or disk is full")
            error.sqlite_errorcode = sqlite3.SQLITE_FULL
            raise error
        real_mark_sent(conn, sent, at)

    monkeypatch.setattr(link_outbox, "mark_sent", mark_sent)
    # 5 s in the product; 50 times faster here: 3 s stand for 2.5 minutes of a full disk.
    monkeypatch.setattr(link_outbox, "_REWRITE_AFTER", 0.1)
    sub = Subscriber(broker, [f"estate/{SITE}/events/#", f"estate/{SITE}/sync/request"])
    with caplog.at_level(logging.INFO), running(sync_cfg(broker.port)) as (gw, service):
        _produce(gw, 20)
        wait_for("20 records", lambda: len(sub.payloads("/test")) >= 20)
        time.sleep(3.0)
        full = False
        wait_for("the marks written", lambda: service.link.outbox.sent >= 20, 10)
    sub.close()
    marks = [r for r in caplog.records if "outbox marks not written" in r.getMessage()]
    assert len(marks) == 1, f"{len(marks)} 'outbox marks not written' lines for one full disk"
    assert marks[0].levelno == logging.ERROR and "free disk space" in marks[0].getMessage()
    again = [r for r in caplog.records if r.levelno == logging.INFO and "outbox marks" in r.getMessage()]
    assert len(again) == 1, [r.getMessage() for r in again]
    worker = [r for r in caplog.records if "task on the decision worker failed" in r.getMessage()]
    assert worker == []  # the link reports its own writes' failures
