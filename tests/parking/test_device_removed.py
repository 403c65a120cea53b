"""A device taken out of the site config (a broken camera replaced by one under a new id) leaves no
alarm open that nothing could ever clear: its fault, its repair deadline, the daily report."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from gateway.parking.operations import Operations, worker_of
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config, seed

H = timedelta(hours=1)

OLD_CAMERA = """
[[devices]]
id = "car-in-camera-old"
lane = "car-in"
kind = "camera"
driver = "simulated"
per_minute = 0
"""


def open_alarms(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        return [tuple(r) for r in c.execute("SELECT kind, source FROM alarms WHERE cleared_at IS NULL")]


def upstream(db: Path, source: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as c:
        payloads = [json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]
    return [(p["kind"], p["state"]) for p in payloads if p["source"] == source]


def test_a_device_taken_out_of_the_config_leaves_no_alarm_open_for_ever(tmp_path: Path) -> None:
    """An installer replaces a broken camera: it is taken out of site.toml (a new one, with another id,
    goes in) and the gateway is restarted. Nothing reports on a device that is not configured, and
    acknowledging does not close a condition: the old camera's device_offline would stay on the
    alarms page, raise repair_overdue upstream after repair_hours and be an open, overdue fault in
    every daily report, for ever. docs/mqtt.md: "Every raised alarm is cleared in the end"."""
    data = tmp_path / "data"
    first = parking_config(data, extra=OLD_CAMERA)
    seed(first, tmp_path)
    gw = Gateway(first)
    gw.start()
    gw.on_worker(lambda c: None).result(60)  # started; the camera breaks later
    health = next(h for h in gw.devices.health if h.device == "car-in-camera-old")
    health.set_offline("RTSP stream closed: camera broken")
    gw.on_worker(lambda c: None).result(60)
    assert ("device_offline", "car-in-camera-old") in open_alarms(gw.db_path)
    gw.stop()

    second = Gateway(parking_config(data))  # the camera is gone from the config
    second.start()
    try:
        second.on_worker(lambda c: None).result(60)
        worker = worker_of(second.on_worker)
        ops = Operations(second.site, second.db_path, second.data_dir, worker, second.now())
        later = second.now() + 25 * H
        ops.repairs(later)
        day = later.date() - timedelta(days=1)  # a period that ends after the restart
        report = ops.build_report(day, later)
    finally:
        second.stop()
    still = open_alarms(second.db_path)
    assert not [a for a in still if a[1] == "car-in-camera-old"], (
        f"alarms for a device no longer configured stay open for ever: {still}"
    )
    # The centre closes it too, as it closes any alarm whose condition has ended.
    assert upstream(second.db_path, "car-in-camera-old") == [
        ("device_offline", "raised"),
        ("device_offline", "cleared"),
    ]
    assert report["devices"]["open_faults"] == []
