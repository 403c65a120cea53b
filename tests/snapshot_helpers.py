"""A snapshot from the central server applied here, without a broker: staged and applied in steps
as the directory sync does (gateway/sync/directory.py), for tests of what a snapshot changes."""

from __future__ import annotations

from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage


def apply_snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]]) -> None:
    """Stage and apply a full snapshot of `entries` as `version` (the gateway started)."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(version, entries, per_part=10)):
        save_part(conn, version, i + 1, len(parts), len(entries), body)
    conn.close()
    job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", version)
    counts = stage(job)["counts"]
    gw.on_worker(
        lambda c: apply_snapshot_steps(
            c, staging, version, counts, 0, 100, gw.now(), lambda: True, lambda r, _: r
        )
    ).result()
