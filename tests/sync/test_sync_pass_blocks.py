"""A guard's block on the QR of a pass the central server pushed holds through the next snapshot:
the snapshot names a pass's credentials, not whether the booth blocked one (a lost printout)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from sync_helpers import free_port
from test_sync_downlink import visitor

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage


def apply_snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]]) -> None:
    """Stage and apply a full snapshot here (no broker), as the directory sync does."""
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


def _pass_credentials(gw: Gateway) -> list[tuple[int, str, str, int]]:
    with sqlite3.connect(gw.db_path) as conn:
        query = "SELECT id, kind, value, blocked FROM credentials WHERE pass_id IS NOT NULL ORDER BY kind"
        return conn.execute(query).fetchall()


def test_a_guards_block_on_a_central_pass_qr_holds_through_the_next_snapshot(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    gw = Gateway(sync_cfg(free_port()))
    entries = [visitor("P1", ("qr", "QR-TOKEN-P1"), ("plate", "粤B54321"))]
    gw.start()
    try:
        apply_snapshot(gw, 3, entries)
        block = ("qr", "QR-TOKEN-P1")
        gw.on_worker(
            lambda c: registry.set_blocked(c, gw.now(), "guard1", block, True, "printout lost")
        ).result()
        blocked = _pass_credentials(gw)
        apply_snapshot(gw, 4, entries)  # the next day's snapshot: the pass unchanged
        assert _pass_credentials(gw) == blocked, "the guard's block (or the credentials' ids) did not hold"
        assert [b for _, kind, _, b in blocked if kind == "qr"] == [1]
    finally:
        gw.stop()


def test_a_credential_the_snapshot_no_longer_names_for_a_pass_is_gone(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    gw = Gateway(sync_cfg(free_port()))
    gw.start()
    try:
        apply_snapshot(gw, 3, [visitor("P1", ("qr", "QR-TOKEN-P1"), ("plate", "粤B54321"))])
        apply_snapshot(gw, 4, [visitor("P1", ("qr", "QR-TOKEN-P1"))])  # the car is off the pass
        assert [(kind, value) for _, kind, value, _ in _pass_credentials(gw)] == [("qr", "QR-TOKEN-P1")]
    finally:
        gw.stop()
