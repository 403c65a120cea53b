"""A snapshot from the central server staged and applied in steps on the test's own connection (the
gateway not started), as gateway/sync/directory.py does, at a moment the test gives; and the parking
tests' seeded register (tests/parking/conftest.py seed) as the centre lists it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.sync.apply import apply_snapshot_steps, total_rows
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage


def stage_snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Stage a snapshot of `entries` as the gateway does when its last part arrives; returns the
    staging's verdict (meta)."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(version, entries, per_part=10)):
        save_part(conn, version, i + 1, len(parts), len(entries), body)
    conn.close()
    job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", version)
    return stage(job)


def snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]], at: datetime, rows: int = 100) -> None:
    """Stage and apply a snapshot at `at`, `rows` rows a step."""
    meta = stage_snapshot(gw, version, entries)
    assert meta["status"] == "staged", meta
    staging, counts, done = gw.data_dir / STAGING_NAME, meta["counts"], 0
    while done < total_rows(counts):
        done, _, _ = apply_snapshot_steps(
            gw.conn, staging, version, counts, done, rows, at, lambda: False, lambda r, _: r
        )


def _resident(ref: str, building: str) -> dict[str, Any]:
    return {"kind": "resident", "ref": ref, "building": building, "unit": "1单元", "name": "张三"}


def register(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parking site's seeded residents and cars as the centre lists them, with these slots."""
    return [
        _resident("R1", "3栋"),
        _resident("R2", "5栋"),
        _resident("R3", "6栋"),
        _resident("R4", "7栋"),
        {"kind": "vehicle", "plate": "皖A11111", "resident": "R1"},
        {"kind": "vehicle", "plate": "皖A22222", "resident": "R1"},
        {"kind": "vehicle", "plate": "皖B33333", "resident": "R2"},
        {"kind": "vehicle", "plate": "皖C44444", "resident": "R3", "monthly_until": "2026-12-31"},
        {"kind": "vehicle", "plate": "皖D55555", "resident": "R4", "monthly_until": "2025-01-31"},
        *slots,
    ]
