"""A directory change from the central server, staged and applied as gateway/sync/directory.py does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_delta
from gateway.sync.messages import encode_delta
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_delta, stage

Entries = list[dict[str, Any]] | None


def stage_delta(
    gw: Gateway, version: int, base: int, upsert: Entries = None, delete: Entries = None
) -> dict[str, Any]:
    """Stage a delta as the gateway does when it arrives; returns the staging's verdict (meta)."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    save_delta(conn, version, encode_delta(version, base, upsert, delete))
    conn.close()
    return stage(
        StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "delta", version)
    )


def delta(
    gw: Gateway, version: int, base: int, at: datetime, upsert: Entries = None, delete: Entries = None
) -> None:
    """Stage and apply a delta at `at`, as if the centre had just sent it."""
    meta = stage_delta(gw, version, base, upsert, delete)
    assert meta["status"] == "staged", meta
    apply_delta(gw.conn, gw.data_dir / STAGING_NAME, version, base, meta["counts"], at)
