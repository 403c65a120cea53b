"""An IP camera (or an NVR) that closes its MJPEG session every so often, every frame it sent whole."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from drivers.cameras.capture import OpenCvCamera
from tests.drivers.conftest import frame_jpeg, health, wait_for
from tests.drivers.mjpeg_feed import QuietHandler, send_part, serve_mjpeg


@pytest.fixture
def closing_stream() -> Iterator[tuple[str, list[float]]]:
    """Each session: 3 s of whole JPEG frames at 25 fps, then the camera closes it cleanly."""
    connects: list[float] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            connects.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            try:
                for i in range(75):
                    send_part(self.wfile, frame_jpeg(len(connects) * 100 + i))
                    time.sleep(0.04)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the camera stopped reading as the test ended
            self.close_connection = True

    server, url = serve_mjpeg(Handler)
    yield url, connects
    server.shutdown()
    server.server_close()


def test_a_session_the_camera_closes_counts_no_bad_frames(closing_stream: tuple[str, list[float]]) -> None:
    """The camera sends only whole JPEGs and closes its session now and then. /api/devices' counter
    `bad_frames` (docs/hardware.md: a frame that fails to decode, a JPEG cut short) rose by about
    twenty per drop here (read_timeout_s 1 s; about a hundred at the default 5 s), every failed read
    of the ended stream counted as a broken frame: the installer was sent after a camera that sends
    broken pictures. A closed session is a drop (`drops`), not bad frames."""
    url, connects = closing_stream
    camera = OpenCvCamera(health("cam", "camera", "car-in"), url, read_timeout_s=1.0, reconnect_max_s=0.2)
    camera.start(lambda kind, value, confidence: None)
    try:
        wait_for(lambda: len(connects) >= 3, "two sessions closed and a third opened", timeout=30)
        counters = camera.health.snapshot()["counters"]
    finally:
        camera.stop()
    assert counters.get("drops", 0) >= 2
    assert counters.get("bad_frames", 0) == 0, f"no broken frame was sent, yet: {counters}"
