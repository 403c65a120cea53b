"""A snapshot's steps start each kind of row small again (review 67 F2).

The steps are sized to take about 2 ms each, from how long the last one took: grown on cheap rows
(residents, cards), the size carried over into the slots, whose rows cost far more, and the first
slots step held the lanes 110 ms. Each kind now starts at `apply_step_rows` again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from snapshot_steps import stage_snapshot

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.sync import apply, directory
from gateway.sync.apply import PHASES, total_rows
from gateway.sync.service import SyncService

RESIDENTS = 1500
SLOTS = 450


def test_the_first_slots_step_is_no_bigger_than_a_first_step(
    sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = sync_cfg(1)  # no broker: the directory's steps alone
    first = cfg.mqtt.apply_step_rows
    # As on a fast box: the residents' steps take well under 2 ms, so each doubles the next.
    monkeypatch.setattr(directory, "_next_rows", lambda rows, ms: min(rows * 2, 5000))
    plain = apply._step
    steps: list[tuple[str, int]] = []

    def step(
        conn: sqlite3.Connection, version: int, counts: dict[str, int], done: int, rows: int, *a: Any
    ) -> int:
        phase, lo, hi = apply._span(counts, done, rows)
        steps.append((PHASES[phase][0], hi - lo))
        return plain(conn, version, counts, done, rows, *a)

    monkeypatch.setattr(apply, "_step", step)
    entries: list[dict[str, Any]] = [
        {"kind": "resident", "ref": f"R{i}", "building": "1栋", "unit": "1单元", "name": "张三"}
        for i in range(RESIDENTS)
    ]
    entries += [
        {"kind": "slot", "zone": "main", "number": f"B{i:03d}", "resident": f"R{i}", "plates": []}
        for i in range(SLOTS)
    ]
    gw = Gateway(cfg)
    service = SyncService(gw)  # not started: nothing but these steps applies
    gw.start()
    try:
        meta = stage_snapshot(gw, 1, entries)
        assert meta["status"] == "staged", meta
        counts, done, rows = meta["counts"], 0, first
        while done < total_rows(counts):
            run = service.directory._steps(1, counts, done, rows, False)
            done, rows, _ = gw.on_worker(run).result(timeout=30)
        assert gw.on_worker(lambda c: c.execute("SELECT count(*) FROM slots").fetchone()[0]).result() == SLOTS
    finally:
        gw.stop()
    slots = [n for name, n in steps if name == "slots"]
    assert [n for name, n in steps if name == "residents"][:2] == [first, 2 * first]  # grown on cheap rows
    assert slots[0] <= first, f"the first slots step took {slots[0]} rows, grown on the residents' steps"
