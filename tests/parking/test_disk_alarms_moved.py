"""The disk alarms after the data directory is moved to a bigger disk (the fix `disk_low` asks for)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import namedtuple
from functools import partial
from pathlib import Path

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm
from tests.parking.conftest import parking_config, seed

Usage = namedtuple("Usage", "total used free")
FULL, ROOMY = Usage(100, 97, 3), Usage(100, 10, 90)  # 3 % and 90 % free


def open_alarms(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return c.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL ORDER BY id").fetchall()


def cleared_upstream(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        sent = [json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]
    return [(m["kind"], m["source"]) for m in sent if m["state"] == "cleared"]


def run_once(data: Path, usage: Usage, seed_from: Path | None = None) -> Gateway:
    """Start the gateway on `data`, let the disk guard look once (on a disk this full) and stop."""
    cfg = parking_config(data)
    if seed_from is not None:
        seed(cfg, seed_from)
    gw = Gateway(cfg)
    gw.start()
    try:
        gw.operations.disk_guard(gw.now(), usage=lambda _: usage)
    finally:
        gw.stop()
    return gw


def young_snapshots(data: Path, n: int) -> None:
    """`n` snapshots taken in the last hours: pruning them leaves less than the week kept."""
    folder = data / "snapshots" / "car-in"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"snap{i}.jpg").write_bytes(b"\xff")  # 1 % of the fake disk


def test_disk_low_alarm_clears_once_the_data_directory_is_moved_to_a_disk_with_room(tmp_path: Path) -> None:
    """The SD card fills: disk_low is raised (a condition: acknowledging does not close it). The
    installer does what it asks, a bigger disk: stops the service, copies the data directory to
    the new disk, points [site] data_dir at it and starts again. The new disk has plenty of room,
    so the alarm must clear (and the centre be told), not stay open for ever on the alarms page
    and in every report because its source is the old path."""
    old, new = tmp_path / "sd" / "data", tmp_path / "usb" / "data"
    run_once(old, FULL, seed_from=tmp_path)
    assert open_alarms(old / "gateway.db") == [("disk_low", str(old))]

    shutil.copytree(old, new)
    second = Gateway(parking_config(new))
    second.start()
    try:
        second.operations.disk_guard(second.now(), usage=lambda _: ROOMY)
        for (alarm_id,) in second.conn.execute("SELECT id FROM alarms WHERE cleared_at IS NULL").fetchall():
            acknowledge = partial(acknowledge_alarm, alarm_id=alarm_id, at=second.now(), actor="guard1")
            second.on_worker(acknowledge).result(60)  # the guard acknowledges it too
    finally:
        second.stop()
    still = open_alarms(new / "gateway.db")
    assert still == [], f"disk_low stays open for ever on a disk with 90 % free: {still}"
    assert cleared_upstream(new / "gateway.db") == [("disk_low", str(old))]


def test_retention_short_alarm_clears_once_the_data_directory_is_moved(tmp_path: Path) -> None:
    """The disk guard had to delete this week's snapshots to make room on the SD card:
    retention_short says the week is not kept and asks for a bigger card. Once the data is on a
    bigger disk nothing there is deleted for room, so the alarm about the old card's snapshots
    clears, here and upstream."""
    old, new = tmp_path / "sd" / "data", tmp_path / "usb" / "data"
    young_snapshots(old, 3)
    run_once(old, Usage(100, 86, 14), seed_from=tmp_path)  # below 15 % free: snapshots are pruned
    assert open_alarms(old / "gateway.db") == [("retention_short", str(old / "snapshots"))]

    shutil.copytree(old, new)
    run_once(new, ROOMY)
    assert open_alarms(new / "gateway.db") == []
    assert cleared_upstream(new / "gateway.db") == [("retention_short", str(old / "snapshots"))]


def test_a_restart_on_the_same_full_disk_keeps_its_disk_alarms_open(tmp_path: Path) -> None:
    """Restarting the gateway without moving the data fixes nothing: the alarms of the full card
    stay open, one each, and the centre is not told they cleared."""
    data = tmp_path / "data"
    young_snapshots(data, 3)
    run_once(data, FULL, seed_from=tmp_path)
    raised = [("retention_short", str(data / "snapshots")), ("disk_low", str(data))]
    assert open_alarms(data / "gateway.db") == raised
    run_once(data, FULL)
    assert open_alarms(data / "gateway.db") == raised
    assert cleared_upstream(data / "gateway.db") == []
