"""A camera whose stream runs 3 s and is cut, over and over (a flaky PoE switch port, a camera
rebooting), against the real MJPEG capture: the office sees one device_offline alarm, raised once
upstream and still open, not a new alarm to acknowledge every few seconds (it was 4 in 40 s, each
open a quarter of a second: ~360 an hour)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from tests.drivers.mjpeg_feed import QuietHandler, noisy_jpeg, send_part, serve_mjpeg
from tests.drivers.test_camera_stall_burst import _gateway


class CutEvery3s(QuietHandler):
    def do_GET(self) -> None:
        rng = np.random.default_rng()
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        end = time.monotonic() + 3.0
        try:
            while time.monotonic() < end:
                send_part(self.wfile, noisy_jpeg(20, rng))
                self.wfile.flush()
                time.sleep(1 / 25)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


def test_a_camera_cut_every_few_seconds_is_one_open_fault(tmp_path: Path) -> None:
    server, url = serve_mjpeg(CutEvery3s)
    gw, camera = _gateway(tmp_path, url)
    gw.start()
    try:
        time.sleep(20)
        rows = gw.on_worker(
            lambda c: c.execute(
                "SELECT raised_at, cleared_at FROM alarms WHERE kind = 'device_offline'"
            ).fetchall()
        ).result(timeout=10)
        sent = gw.on_worker(
            lambda c: [
                json.loads(p) for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")
            ]
        ).result(timeout=10)
        offline_count = camera.health.counters["offline"]
    finally:
        gw.stop()
        server.shutdown()
    assert offline_count >= 2, "the feed was to cut the camera more than once"
    assert len(rows) == 1 and rows[0][1] is None, rows
    assert [(r["kind"], r["state"]) for r in sent] == [("device_offline", "raised")]
