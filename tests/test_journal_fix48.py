"""The journal on a full or locked disk, reviewed again (review 48a): the directory's records queued
upstream said as the Unwaited line with its fix, not a traceback about a ROLLBACK; outbox marks
that fail for a new reason said again; and a guard's change answered still_saving that then fails
said once, where nobody said it at all."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path

import pytest

from gateway.api.deps import ApiError, KeyedWrites, saved, saved_once
from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.audit import audit, transaction
from gateway.store.outbox import enqueue
from gateway.sync import link_outbox
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.directory import Directory
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.sync.conftest import SITE, SITE_TOML, broker, brokers, mqtt_section, running, sync_cfg  # noqa: F401
from tests.sync.sync_helpers import Mosquitto, Subscriber, free_port, wait_for
from tests.test_runtime import make_gateway

# -- a really full data disk ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real filesystem of its own (tmpfs, 16 MB) for the data directory, to be filled (_fill).
    Mounting one needs root: elsewhere the test is skipped, saying so."""
    where = tmp_path / "disk"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full disk is a tmpfs mounted for the test: that needs root")
    mount = ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)]
    done = subprocess.run(mount, capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {done.stderr!r}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(disk: Path) -> None:
    """Write a file until the filesystem answers ENOSPC: no byte left."""
    with open(disk / "filler", "wb", buffering=0) as f:
        for chunk in (1 << 16, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"x" * chunk)


@contextlib.contextmanager
def _wal_held(gw: Gateway) -> Iterator[None]:
    """A reader holds a snapshot (the link's, a report's): the WAL cannot restart, so the next
    commit must grow it, and on a full disk that COMMIT fails (SQLite then ends the transaction)."""
    reader = sqlite3.connect(gw.db_path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM outbox").fetchone()
        yield
    finally:
        reader.close()


def test_a_sync_request_record_on_a_full_disk_is_the_unwaited_line_with_the_fix_not_a_traceback(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """On a full data disk the directory's sync_request record (an Unwaited write) is said once as
    "the sync_request record not written: database or disk is full ... free disk space", and once
    at INFO when it is written again; it was a decision-worker traceback each time, ending in
    "cannot rollback - no transaction is active", which names neither the disk nor the fix."""
    data = small_disk / "data"
    data.mkdir()
    text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=SITE)
    text += "\n" + mqtt_section(free_port())
    gw = Gateway(parse_config(text, "site.toml", base_dir=small_disk))
    gw.start()
    try:
        directory = Directory(gw, lambda topic, payload: None, "state", None)  # type: ignore[arg-type]
        with caplog.at_level(logging.INFO):
            try:
                with _wal_held(gw):
                    _fill(small_disk)
                    for _ in range(3):
                        directory._request("a gap in the deltas")
                    gw.on_worker(lambda c: None).result(timeout=30)  # the three writes tried
            finally:
                os.remove(small_disk / "filler")
            directory._request("a gap in the deltas")
            gw.on_worker(lambda c: None).result(timeout=30)
    finally:
        gw.stop()
    lines = [r for r in caplog.records if r.name == "gateway.runtime.worker"]
    bugs = [r for r in lines if "task on the decision worker failed" in r.getMessage()]
    said = [r for r in lines if "the sync_request record not written" in r.getMessage()]
    again = [r for r in lines if "the sync_request record written again" in r.getMessage()]
    assert bugs == [], [str(r.exc_info[1]) for r in bugs if r.exc_info]
    loud = [r for r in said if r.levelno >= logging.WARNING]
    assert len(loud) == 1 and "free disk space" in loud[0].getMessage(), [r.getMessage() for r in lines]
    assert "disk is full" in loud[0].getMessage()
    assert [r.levelno for r in again] == [logging.INFO], [r.getMessage() for r in lines]


def test_a_snapshot_step_on_a_disk_filling_up_fails_saying_the_disk_is_full(small_disk: Path) -> None:
    """The directory waits for a snapshot's steps and words its fix by their error (write_fix):
    when the disk filled up mid-snapshot, that error was "cannot rollback - no transaction is
    active", which SQLite's own ROLLBACK at the failed COMMIT had made true, and the worker logged
    it as a fault of the gateway. The disk is named now, and once there is room the snapshot
    carries on from where it stopped, on the same connection."""
    gw = make_gateway(small_disk)
    gw.start()
    try:
        entries = [
            {"kind": "resident", "ref": f"S{i}", "building": "9栋", "unit": "1单元", "name": "王五"}
            for i in range(20)
        ]
        staging = gw.data_dir / STAGING_NAME
        conn = open_staging(staging)
        for i, body in enumerate(parts := encode_snapshot(1, entries, per_part=10)):
            save_part(conn, 1, i + 1, len(parts), len(entries), body)
        conn.close()
        job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", 1)
        counts = stage(job)["counts"]
        done, filled = [0], [False]

        def filled_after_the_first_step(rows: int, took: float) -> int:
            if not filled[0]:
                filled[0] = True
                _fill(small_disk)
            return rows

        def steps(conn: sqlite3.Connection) -> None:
            done[0] = apply_snapshot_steps(
                conn, staging, 1, counts, done[0], 5, gw.now(), lambda: True, filled_after_the_first_step
            )[0]

        try:
            with _wal_held(gw), pytest.raises(sqlite3.OperationalError, match="disk is full"):
                gw.on_worker(steps).result(timeout=30)
        finally:
            os.remove(small_disk / "filler")
        gw.on_worker(steps).result(timeout=30)
        applied = gw.on_worker(lambda c: c.execute("SELECT applied_version FROM sync_state").fetchone())
        assert applied.result(timeout=10) == (1,)
    finally:
        gw.stop()


# -- outbox marks ---------------------------------------------------------------------------------


def _error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def test_outbox_marks_failing_for_a_new_reason_are_said_again_at_error(
    broker: Mosquitto,  # noqa: F811
    sync_cfg: Callable[..., SiteConfig],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The outbox marks first fail because the database is held locked (a `gateway import`
    suspended with Ctrl-Z), then because the disk is full. Each fault is said at ERROR with the
    fix for it, as the checkpoint's, the Unwaited writes' and the command key's faults are said
    again when they change; the disk-full fault went to DEBUG only, and the locked one's line
    named only the disk."""
    fault: list[sqlite3.OperationalError | None] = [_error("database is locked", sqlite3.SQLITE_BUSY)]
    real_mark_sent = link_outbox.mark_sent

    def mark_sent(conn: sqlite3.Connection, sent: list[tuple[int, int]], at: datetime) -> None:
        if fault[0] is not None:
            raise fault[0]
        real_mark_sent(conn, sent, at)

    monkeypatch.setattr(link_outbox, "mark_sent", mark_sent)
    monkeypatch.setattr(link_outbox, "_REWRITE_AFTER", 0.1)  # 5 s in the product
    sub = Subscriber(broker, [f"estate/{SITE}/events/#"])
    with caplog.at_level(logging.INFO), running(sync_cfg(broker.port)) as (gw, service):
        gw.on_worker(lambda c: enqueue(c, "test", {"n": 1}, gw.now())).result(timeout=10)
        wait_for("the record sent", lambda: len(sub.payloads("/test")) >= 1)
        time.sleep(1.0)
        fault[0] = _error("database or disk is full", sqlite3.SQLITE_FULL)
        time.sleep(1.0)
        fault[0] = None
        wait_for("the marks written", lambda: service.link.outbox.sent >= 1, 10)
    sub.close()
    marks = [r for r in caplog.records if "outbox marks" in r.getMessage()]
    loud = [r.getMessage() for r in marks if r.levelno >= logging.ERROR]
    assert len(loud) == 2, loud
    assert "database is locked" in loud[0] and "a `gateway import` stopped with Ctrl-Z: fg" in loud[0]
    assert "database or disk is full" in loud[1] and "free disk space" in loud[1]
    again = [r for r in marks if r.levelno == logging.INFO and "written again" in r.getMessage()]
    assert len(again) == 1, [r.getMessage() for r in marks]


# -- a guard's change answered still_saving -------------------------------------------------------


@contextlib.contextmanager
def _locked(gw: Gateway) -> Iterator[sqlite3.Connection]:
    """Another process holds the write lock (a `gateway import` suspended with Ctrl-Z); the
    worker waits 2 s for it, then gives up with "database is locked"."""
    gw.on_worker(lambda c: c.execute("PRAGMA busy_timeout=2000")).result(timeout=60)
    holder = sqlite3.connect(gw.db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def _change(gw: Gateway) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:  # a guard's change, as the API sends it
        with transaction(conn):
            audit(conn, gw.now(), "guard1", "card.block", "AAAA0001", "lost")

    return change


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.api.deps" and r.levelno >= logging.WARNING]


def _ended(future: Future[None]) -> None:
    with contextlib.suppress(Exception):
        future.result(timeout=30)


def _keyed(writes: KeyedWrites[None], gw: Gateway) -> Future[None]:
    """The guard's change with its Idempotency-Key, as a request (or its repeat) starts it."""
    return writes.once("guard1", "k1", "block", lambda: gw.on_worker(_change(gw)))[0]


def _answered_still_saving(future: Future[None], timeout_s: float) -> None:
    with pytest.raises(ApiError) as answered:
        saved_once(future, timeout_s)
    assert answered.value.code == "still_saving"


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    gateway = make_gateway(tmp_path)
    gateway.start()
    yield gateway
    gateway.stop()


def test_a_change_answered_still_saving_that_then_fails_is_said_once_with_the_fix(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A guard's change is answered 503 still_saving ("reload the page in a moment to see whether
    it was saved"), then the worker gives up on it with "database is locked". Nobody waits for it
    any longer: the journal said nothing at all; it says, once, that it was not saved, why and
    what to do."""
    with caplog.at_level(logging.INFO), _locked(gw):
        future = gw.on_worker(_change(gw))
        with pytest.raises(ApiError) as answered:
            saved(future, 0.5)
        assert answered.value.code == "still_saving"
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            future.result(timeout=30)
        gw.on_worker(lambda c: None).result(timeout=30)
    said = _said(caplog)
    assert len(said) == 1, [r.getMessage() for r in said]
    words = said[0].getMessage()
    assert "still_saving" in words and "database is locked" in words, words
    assert "a `gateway import` stopped with Ctrl-Z: fg" in words and "free disk space" not in words


def test_a_change_answered_still_saving_twice_that_fails_is_said_once(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """A keyed change and its repeat (a second tap) both answered still_saving: one write, one line."""
    writes: KeyedWrites[None] = KeyedWrites("change")
    with caplog.at_level(logging.INFO), _locked(gw):
        future = _keyed(writes, gw)
        for _ in range(2):  # the first request, then its repeat
            _answered_still_saving(_keyed(writes, gw), 0.3)
        _ended(future)
        gw.on_worker(lambda c: None).result(timeout=30)
    assert len(_said(caplog)) == 1, [r.getMessage() for r in _said(caplog)]


def test_a_change_whose_caller_waited_for_its_failure_is_not_said_again(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The first request is answered still_saving; its repeat waits long enough to get the
    failure itself (answered storage_failed, which the API logs): no second line here."""
    writes: KeyedWrites[None] = KeyedWrites("change")
    with caplog.at_level(logging.INFO), _locked(gw):
        _answered_still_saving(_keyed(writes, gw), 0.3)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            saved_once(_keyed(writes, gw), 30)
        gw.on_worker(lambda c: None).result(timeout=30)
    assert _said(caplog) == [], [r.getMessage() for r in _said(caplog)]


def test_a_change_answered_still_saving_that_is_then_saved_is_not_said(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """The lock is let go in time: the change is saved after all, and nothing is said."""
    with caplog.at_level(logging.INFO), _locked(gw) as holder:
        future = gw.on_worker(_change(gw))
        _answered_still_saving(future, 0.3)
        holder.execute("ROLLBACK")
        future.result(timeout=30)
        gw.on_worker(lambda c: None).result(timeout=30)
    assert _said(caplog) == []
