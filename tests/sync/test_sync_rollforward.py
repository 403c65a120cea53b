"""A snapshot cut short by a crash is finished from its staged copy when the gateway restarts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from conftest import running
from sync_helpers import free_port, wait_for
from test_sync_downlink import card, resident

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
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
