"""A snapshot cut short (by a crash, by a step that fails) is finished from its staged copy."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from conftest import running
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_downlink import _site, card, resident

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.sync import apply
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage


def test_an_interrupted_snapshot_is_finished_after_a_restart(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    cfg = sync_cfg(free_port(), apply_step_rows=100)  # no broker: the link stays offline
    entries = [resident(f"R{i}") for i in range(500)] + [card(f"K{i:05d}", f"R{i}") for i in range(500)]
    gw = Gateway(cfg)
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    parts = encode_snapshot(7, entries, per_part=300)
    for i, body in enumerate(parts):
        save_part(conn, 7, i + 1, len(parts), len(entries), body)
    conn.close()
    meta = stage(StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", 7))
    gw.start()
    done = 0
    for _ in range(4):  # four steps of 100 rows in, then the power goes
        done = gw.on_worker(
            lambda c, d=done: apply_snapshot_steps(
                c, staging, 7, meta["counts"], d, 100, gw.now(), lambda: False, lambda r, _: r
            )[0]
        ).result()
    gw.stop()
    with sqlite3.connect(gw.db_path) as check:
        assert check.execute(
            "SELECT applied_version, applying_version, applying_done, applying_total FROM sync_state"
        ).fetchone() == (0, 7, 400, 1000)
        assert check.execute("SELECT count(*) FROM residents").fetchone()[0] == 400

    with running(cfg) as (gw2, service):
        wait_for("the snapshot finished", lambda: service.directory.versions.applied == 7)
        counts = gw2.conn.execute(
            "SELECT (SELECT count(*) FROM residents), (SELECT count(*) FROM credentials), "
            "applied_version, applying_version FROM sync_state"
        ).fetchone()
    assert counts == (500, 500, 7, None)


class FullDisk:
    """run_rows that fails with SQLite's 'disk full' while `failing` says so, from the `after`-th
    call on: the steps before it are in, the snapshot is half applied."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, after: int, failing: Callable[[], bool]):
        self.calls = 0
        self.failures = 0
        self._after = after
        self._failing = failing
        self._real = apply.run_rows
        monkeypatch.setattr(apply, "run_rows", self)

    def __call__(
        self,
        conn: sqlite3.Connection,
        phase: int,
        lo: int,
        hi: int,
        now: datetime,
        *,
        delta: int | None = None,
    ) -> None:
        self.calls += 1
        if self.calls >= self._after and self._failing():
            self.failures += 1
            raise sqlite3.OperationalError("database or disk is full")
        self._real(conn, phase, lo, hi, now, delta=delta)


N = 2000  # residents: staged in process, applied in several steps


def test_a_failed_snapshot_step_is_carried_on_from_the_staged_copy(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    with _site(broker, sync_cfg(broker.port, apply_step_rows=100)) as site:
        site.snapshot(1, [resident(f"R{i}") for i in range(N)], per_part=1000)
        site.wait_applied(1)
        disk = FullDisk(monkeypatch, after=3, failing=lambda: disk.failures < 2)  # fails twice
        site.snapshot(2, [resident(f"R{i}", blocked=True) for i in range(N)], per_part=1000)
        wait_for("the first failed step", lambda: disk.failures >= 1)
        assert 0 < site.rows("SELECT count(*) FROM residents WHERE blocked = 1")[0][0] < N
        site.delta(3, 2, upsert=[card("C0001", "R1")])  # waits for the snapshot, not refused
        site.wait_applied(3)
        blocked = site.rows("SELECT count(*) FROM residents WHERE blocked = 1")[0][0]
        state = site.rows("SELECT applied_version, applying_version FROM sync_state")[0]
        card_reason = site.card_reason("C0001")
        events = site.applied_events(3)
    assert disk.failures == 2
    assert blocked == N and state == (3, None) and card_reason == "blocked"
    assert events == [("snapshot", 1), ("snapshot", 2), ("delta", 3)]
    assert site.asked() == [] and site.upstream("/sync/error") == []


def test_a_failed_snapshot_whose_staged_copy_is_gone_is_asked_for_again(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    full = threading.Event()
    full.set()
    with _site(broker, sync_cfg(broker.port, apply_step_rows=100)) as site:
        site.snapshot(1, [resident(f"R{i}") for i in range(N)], per_part=1000)
        site.wait_applied(1)
        disk = FullDisk(monkeypatch, after=3, failing=full.is_set)
        site.snapshot(2, [resident(f"R{i}", blocked=True) for i in range(N)], per_part=1000)
        wait_for("the first failed step", lambda: disk.failures >= 1)
        with sqlite3.connect(site.gw.data_dir / STAGING_NAME) as staging:
            staging.execute("DELETE FROM meta")
        full.clear()
        request = wait_for("a snapshot request", lambda: site.asked())[0]
        site.snapshot(4, [resident(f"R{i}", blocked=i % 2 == 0) for i in range(N)], per_part=1000)
        site.wait_applied(4)
        blocked = site.rows("SELECT count(*) FROM residents WHERE blocked = 1")[0][0]
        site.delta(5, 4, upsert=[card("C0001", "R1")])
        site.wait_applied(5)
    assert request == {**request, "have_version": 1}
    assert request["reason"] == "snapshot 2 was cut short and its staged copy is gone"
    assert blocked == N // 2
