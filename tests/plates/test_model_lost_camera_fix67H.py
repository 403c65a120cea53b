"""The plate model lost (fsck on a failing card; Review 67 H2): the whole camera was dropped with it,
so its lane kept no snapshot with each decision and no clip of each opening by hand, the evidence a
guard's opening leaves. Only plate reading needs the model: the camera goes on, its health still
saying the model's error (its device_offline alarm open), and no plate is read."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from tests.drivers.conftest import write_video
from tests.ui.conftest import PLATE, decided, make_config, start_site, stored, wait_for


def test_a_camera_without_its_plate_model_still_keeps_snapshots_and_clips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plates.model.DEFAULT_MODEL", tmp_path / "lost" / "plate_rec.onnx")
    video = write_video(tmp_path / "lane.avi")
    camera = textwrap.dedent(
        f"""
        [[devices]]
        id = "car-in-lpr"
        lane = "car-in"
        kind = "camera"
        driver = "opencv"
        url = "{video}"
        """
    )
    site = start_site(make_config(tmp_path / "data", camera))
    try:
        devices = site.gw.devices
        [lane_camera] = devices.lanes["car-in"].cameras
        assert [c.device for c in devices.clip_cameras] == ["car-in-lpr"]
        assert not devices.lanes["car-in"].plate_readers
        deadline = time.monotonic() + 10
        while lane_camera.latest() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        # A plate decided at the lane (typed, or its other camera's) has the lane's picture.
        row = decided(site, "car-in-camera", "plate", PLATE)
        assert row["snapshot"], row
        wait_for(
            lambda: (
                (site.gw.data_dir / "snapshots").exists()
                and any((site.gw.data_dir / "snapshots").rglob("*.jpg"))
            )
        )
        [health] = [h for h in devices.health if h.device == "car-in-lpr"]
        report = health.snapshot()
        assert not report["online"] and report["last_error"].startswith("plate model: "), report
        assert report["frame_age_s"] is not None and report["stream"]["online"], report
        alarms = "SELECT kind FROM alarms WHERE source = 'car-in-lpr' AND cleared_at IS NULL"
        assert stored(site, alarms) == [("device_offline",)]
    finally:
        site.gw.stop()
