"""A box swapped with no copy of gateway.db (README, Replacing a box; Review 66 A1): the guard had
blocked a stolen car's plate at the old box's booth (禁用), and the centre was told by its `registry`
block record. The new box's register comes from the centre's snapshot, which replaces the seeded
one. An entry that leaves `blocked` out keeps what the box holds, and a new box holds no block: the
centre must answer a box that started a new stream with `"blocked": true` for every booth block it
was told of (docs/mqtt.md, Snapshot), else the stolen car comes in as a resident's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.registry import set_blocked
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.parking.conftest import T0, show

STOLEN = "皖C44444"  # R3's monthly car in the seeded register
H = timedelta(hours=1)


def _snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]]) -> None:
    """Stage and apply a full snapshot, as the directory sync does."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(version, entries, per_part=10)):
        save_part(conn, version, i + 1, len(parts), len(entries), body)
    conn.close()
    meta = stage(
        StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", version)
    )
    assert meta["status"] == "staged", meta
    apply_snapshot_steps(gw.conn, staging, version, meta["counts"], 0, 100, T0, lambda: True, lambda r, _: r)


def _blocks_told(old: Gateway) -> list[dict[str, Any]]:
    """The booth's block records, as the centre received them."""
    rows = old.conn.execute("SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq")
    return [r for (p,) in rows if (r := json.loads(p))["op"] in ("block", "unblock")]


def _centre_answer(told: list[dict[str, Any]], *, says_blocked: bool) -> list[dict[str, Any]]:
    """The centre's snapshot for the new box: R3 and the car, with the booth's block as told."""
    car: dict[str, Any] = {
        "kind": "vehicle",
        "plate": STOLEN,
        "resident": "R3",
        "monthly_until": "2026-12-31",
    }
    if says_blocked:
        last = [r for r in told if r["kind"] == "plate" and r["value"] == STOLEN][-1]
        car["blocked"] = last["op"] == "block"
    resident = {"kind": "resident", "ref": "R3", "building": "6栋", "unit": "1单元", "name": "王五"}
    return [resident, car]


def _swap(make_gw: Callable[..., Gateway], *, says_blocked: bool) -> str:
    old = make_gw()
    set_blocked(old.conn, T0, "guard1", ("plate", STOLEN), True, "车辆被盗，公安已立案")
    assert show(old, "car-in", STOLEN, T0 + H).reason == "blocked"
    told = _blocks_told(old)
    assert told and told[-1]["resident"] == "R3"  # what the centre knows the block by
    new = make_gw()  # the old box died; the new one gets the register from the centre
    _snapshot(new, 1, _centre_answer(told, says_blocked=says_blocked))
    return show(new, "car-in", STOLEN, T0 + 2 * H).reason


def test_the_centre_sending_the_booth_block_keeps_the_stolen_car_out(make_gw: Callable[..., Gateway]) -> None:
    assert _swap(make_gw, says_blocked=True) == "blocked"


def test_a_snapshot_silent_on_the_block_lets_it_in_hence_the_rule(make_gw: Callable[..., Gateway]) -> None:
    """The limit the docs name: the new box cannot know of a block it never held."""
    assert _swap(make_gw, says_blocked=False) != "blocked"
