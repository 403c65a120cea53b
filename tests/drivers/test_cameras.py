"""Cameras: an MJPEG stream served over HTTP by the test (cut and restored), and video files the
test writes. Frames go to attached consumers, newest first, never stale."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from drivers.cameras.capture import OpenCvCamera, capture_source
from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import SnapshotWriter
from tests.drivers.conftest import MjpegCamera, frame_jpeg, health, wait_for, write_video


class Emitted:
    def __init__(self) -> None:
        self.values: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, kind: str, value: str, confidence: float) -> None:
        with self.lock:
            self.values.append(value)

    def count(self) -> int:
        with self.lock:
            return len(self.values)


@pytest.fixture
def start_camera() -> Iterator[Callable[..., tuple[OpenCvCamera, Emitted]]]:
    started: list[OpenCvCamera] = []

    def start(url: str, consumers: list[Any] = (), **options: Any) -> tuple[OpenCvCamera, Emitted]:  # type: ignore[assignment]
        options = {"read_timeout_s": 2, "reconnect_max_s": 0.3, "max_frame_age_s": 2.0} | options
        camera = OpenCvCamera(health("cam", "camera", "car-in"), url, **options)
        for consumer in consumers:
            camera.attach(consumer)
        emitted = Emitted()
        camera.start(emitted)
        started.append(camera)
        return camera, emitted

    yield start
    for camera in started:
        camera.stop()


def test_sources_for_each_kind_of_url() -> None:
    assert capture_source("usb:0") == (0, cv2.CAP_V4L2, False)
    assert capture_source("/dev/video2") == ("/dev/video2", cv2.CAP_V4L2, False)
    assert capture_source("rtsp://admin:x@10.0.0.5/h264") == (
        "rtsp://admin:x@10.0.0.5/h264",
        cv2.CAP_FFMPEG,
        False,
    )
    assert capture_source("/srv/lane.mp4") == ("/srv/lane.mp4", cv2.CAP_FFMPEG, True)


def test_mjpeg_stream_cut_and_restored(
    mjpeg_camera: MjpegCamera, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    camera, _ = start_camera(mjpeg_camera.url)
    wait_for(lambda: camera.health.online, "the first frame")
    frame = wait_for(camera.latest, "a fresh frame")
    assert frame.image.shape == (120, 160, 3) and frame.age() <= camera.max_frame_age_s
    assert camera.health.snapshot()["counters"]["frames"] >= 1

    mjpeg_camera.cut.set()  # the network drops: the stream ends and new connections are refused
    wait_for(lambda: not camera.health.online, "the camera to go offline")
    assert "dropped" in camera.health.last_error or "cannot open" in camera.health.last_error
    wait_for(lambda: camera.latest() is None, "the last frame to become too old to use")

    seq = frame.seq
    mjpeg_camera.cut.clear()
    wait_for(lambda: camera.health.online, "the camera to reconnect by itself")
    wait_for(lambda: (camera.latest() or frame).seq > seq, "new frames after the reconnect")


@pytest.fixture
def short_stream() -> Iterator[tuple[str, list[float]]]:
    """An MJPEG url whose every session ends after a few frames (a camera rebooting in a loop, an
    NVR cutting each session); the times it was connected to."""
    connects: list[float] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            connects.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for i in range(5):
                jpeg = frame_jpeg(len(connects) + i)
                length = str(len(jpeg)).encode()
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + length)
                self.wfile.write(b"\r\n\r\n" + jpeg + b"\r\n")
            self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/video.mjpg", connects
    server.shutdown()
    server.server_close()


def test_a_stream_that_dies_after_a_few_frames_stays_offline_with_growing_waits(
    short_stream: tuple[str, list[float]],
) -> None:
    """The guard sees one device_offline alarm for a camera whose stream keeps dying, not one raised
    and cleared ten times a second; and the camera is asked again with growing waits."""
    url, connects = short_stream
    changes: list[bool] = []
    h = health("cam", "camera", "car-in")
    h.on_change = lambda _h, online: changes.append(online)  # the runtime raises and clears alarms here
    camera = OpenCvCamera(h, url, read_timeout_s=1, reconnect_max_s=2.0)
    camera.start(lambda kind, value, confidence: None)
    try:
        wait_for(lambda: connects, "the first connection")
        time.sleep(6.0)
    finally:
        camera.stop()
    assert changes == [True, False], "the alarm was raised and cleared again and again"
    assert len(connects) <= 8, f"{len(connects)} reconnects in 6 s"  # waits of 0.2, 0.4, 0.8, 1.6, 2 s


def test_a_slow_consumer_gets_the_newest_frame_not_a_backlog(
    mjpeg_camera: MjpegCamera, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    seen: list[Frame] = []

    def slow(frame: Frame) -> None:
        seen.append(frame)
        time.sleep(0.2)  # a recognizer on a Raspberry Pi: slower than the camera

    camera, _ = start_camera(mjpeg_camera.url, [slow], max_frame_age_s=0.5)
    wait_for(lambda: len(seen) >= 4, "a few frames read")
    assert camera.health.counters["frames_skipped"] > 0
    assert all(b.seq > a.seq for a, b in zip(seen, seen[1:], strict=False))


def test_readings_are_debounced_but_a_loop_trigger_reads_again(
    mjpeg_camera: MjpegCamera, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    def recognizer(frame: Frame) -> list[tuple[str, str, float]]:
        return [("plate", "皖A12345", 0.97)]  # the same car, standing at the barrier

    camera, emitted = start_camera(mjpeg_camera.url, [recognizer], debounce_s=60)
    wait_for(lambda: emitted.count() == 1, "the first reading")
    wait_for(lambda: camera.health.counters["repeats"] >= 3, "repeats held back")
    assert emitted.count() == 1
    camera.request_read()  # the loop detector: a car is (still, again) at the barrier
    wait_for(lambda: emitted.count() == 2, "a fresh read for the trigger")


def test_trigger_mode_reads_only_after_the_loop_asks(
    mjpeg_camera: MjpegCamera, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    read: list[int] = []
    camera, _ = start_camera(
        mjpeg_camera.url, [lambda f: read.append(f.seq)], read_mode="trigger", trigger_frames=3
    )
    wait_for(lambda: camera.health.counters["frames"] >= 5, "frames arriving")
    assert read == []
    asked_after = camera.latest()
    camera.request_read()
    wait_for(lambda: len(read) == 3, "three frames read for the trigger")
    assert asked_after is not None and min(read) > asked_after.seq  # only frames newer than the ask


def test_video_file_plays_in_a_loop(
    tmp_path: Path, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    video = write_video(tmp_path / "lane.avi", frames=10)
    values: list[int] = []
    camera, _ = start_camera(str(video), [lambda f: values.append(int(f.image[0, 0, 0]))], fps=100)
    wait_for(lambda: camera.health.counters["frames"] > 25, "the file played more than twice")
    assert camera.health.online and camera.health.counters["offline"] == 0
    assert min(values) <= 8 and max(values) >= 64  # frames from the start and the end (JPEG-ish)


def test_a_file_that_disappears_is_an_offline_camera(
    tmp_path: Path, start_camera: Callable[..., tuple[OpenCvCamera, Emitted]]
) -> None:
    video = write_video(tmp_path / "lane.avi", frames=5)
    camera, _ = start_camera(str(video), fps=100)
    wait_for(lambda: camera.health.online, "playing")
    video.unlink()
    wait_for(lambda: not camera.health.online, "offline once the file is gone")
    assert "cannot open" in camera.health.last_error


def test_a_stream_whose_read_raises_is_reopened_and_reported_offline(
    start_camera: Callable[..., tuple[OpenCvCamera, Emitted]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenCV can raise from VideoCapture.read() on a broken stream instead of returning False.
    That must be a drop like any other (offline, reopened), not the end of the capture thread
    with the camera still shown online. The capture object is the hardware edge, faked here."""
    opened: list[int] = []

    class BreaksOnce:
        def __init__(self, *args: Any) -> None:
            opened.append(1)
            self.first, self.reads = len(opened) == 1, 0

        def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
            return True

        def read(self) -> tuple[bool, np.ndarray]:
            self.reads += 1
            time.sleep(0.01)
            if self.first and self.reads > 3:
                raise cv2.error("corrupt stream")
            return True, np.zeros((10, 10, 3), np.uint8)

        def release(self) -> None:
            pass

        def set(self, *args: Any) -> bool:
            return True

        def get(self, *args: Any) -> float:
            return 25.0

    monkeypatch.setattr(cv2, "VideoCapture", BreaksOnce)
    camera, _ = start_camera("rtsp://cam/stream")
    wait_for(lambda: len(opened) >= 2, "the stream reopened after the read raised")
    assert camera.health.counters["drops"] >= 1


def test_a_camera_password_never_reaches_the_health_report(
    start_camera: Callable[..., tuple[OpenCvCamera, Emitted]],
) -> None:
    camera, _ = start_camera("rtsp://admin:s3cret@127.0.0.1:9/stream", read_timeout_s=1)
    wait_for(lambda: camera.health.last_error, "the failed open")
    assert "s3cret" not in camera.health.last_error and "admin:***@" in camera.health.last_error


def test_snapshot_writer_writes_the_jpeg_it_named(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path)
    try:
        frame = Frame(np.full((120, 160, 3), 128, np.uint8), 1, time.monotonic(), time.time())
        name = writer.submit(frame, "cam")
        assert name is not None and name.startswith("snapshots/") and name.endswith("-cam-1.jpg")
        writer.flush()
        written = cv2.imread(str(tmp_path / name))
        assert written is not None and written.shape == (120, 160, 3)
    finally:
        writer.close()
