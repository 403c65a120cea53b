"""One truncated JPEG in an MJPEG stream that is otherwise fine (the camera sent a frame cut short,
its first bytes only): OpenCV fails that one read, and the next read on the same stream returns
the next frame (checked against OpenCV's FFmpeg backend)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.cameras.capture import OpenCvCamera
from tests.drivers.conftest import wait_for
from tests.drivers.mjpeg_feed import FeedCamera
from tests.drivers.test_camera_stall_burst import _gateway


def _newest(camera: OpenCvCamera) -> int:
    frame = camera.latest(5.0)
    return 0 if frame is None else frame.seq


@pytest.fixture
def feed() -> Iterator[FeedCamera]:
    camera = FeedCamera()
    yield camera
    camera.close()


def test_one_corrupted_frame_raises_no_device_offline_alarm(tmp_path: Path, feed: FeedCamera) -> None:
    """A single JPEG cut short (2 % of its bytes) in a healthy, running stream: the gateway took it
    for the stream dropping, put the camera offline, raised a device_offline alarm (设备离线, sent
    to the centre), dropped the connection and reconnected. The guard and the centre saw the camera
    "go offline" for one bad frame. Expected: the bad frame is skipped (counted), the camera stays
    online, no alarm, and the frames after it are read from the same stream."""
    gw, camera = _gateway(tmp_path, feed.url)
    gw.start()
    try:
        wait_for(lambda: camera.health.online, "the camera online")
        time.sleep(2.5)  # a stream that has run well past STABLE_S
        feed.corrupt_next = True
        wait_for(lambda: camera.health.counters.get("bad_frames"), "the bad frame read")
        after = _newest(camera) + 10
        wait_for(lambda: _newest(camera) > after, "the frames after it")
        alarms = gw.on_worker(
            lambda conn: conn.execute(
                "SELECT kind, message, raised_at, cleared_at FROM alarms WHERE source = 'car-in-camera'"
            ).fetchall()
        ).result(timeout=10)
        counters = camera.health.snapshot()["counters"]
        assert alarms == [] and counters.get("offline", 0) == 0 and counters.get("drops", 0) == 0, (
            f"one corrupted JPEG put the camera offline: drops={counters.get('drops')} alarms={alarms}"
        )
        assert counters["bad_frames"] == 1 and camera.health.online
    finally:
        gw.stop()
