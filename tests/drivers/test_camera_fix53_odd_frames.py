"""Odd frames at a lane camera (review 53f): a fault a frame consumer has on every frame (a camera
set to 16-bit output, which the recogniser refuses) is logged once with its traceback, not 25 times
a second, and said again when it changes or clears; an empty picture decoded from the stream (read()
ok, no pixels) is a bad frame skipped, not a drop of the stream."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth


class Refusing:
    """A frame consumer that refuses every frame as the recogniser refuses a 16-bit one, until
    `fixed`, then reads nothing."""

    decides_passages = True

    def __init__(self) -> None:
        self.fault = "a 16-bit frame: give 8-bit frames"
        self.fixed = False

    def __call__(self, frame: Frame) -> list[tuple[str, str, float]]:
        if not self.fixed:
            raise ValueError(self.fault)
        return []


def _camera() -> OpenCvCamera:
    health = DeviceHealth("car-in-camera", "camera", "car-in", "opencv")
    health.set_online()
    return OpenCvCamera(health, "rtsp://cam/stream", max_frame_age_s=5.0)


def _frames(camera: OpenCvCamera, first: int, n: int) -> None:
    image = np.zeros((72, 128, 3), np.uint8)
    for seq in range(first, first + n):
        camera.consume_frame(Frame(image, seq, time.monotonic(), time.time()), lambda *a: None)


def test_a_fault_on_every_frame_is_logged_once_and_when_it_changes_or_clears(
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera, consumer = _camera(), Refusing()
    camera.attach(consumer)
    caplog.set_level(logging.INFO, logger="drivers.cameras.capture")
    _frames(camera, 1, 50)  # two seconds of a 25 fps camera
    assert camera.health.counters["consumer_errors"] == 50
    assert len([r for r in caplog.records if r.exc_info]) == 1
    consumer.fault = "another fault"
    _frames(camera, 51, 10)
    assert len([r for r in caplog.records if r.exc_info]) == 2
    consumer.fixed = True
    _frames(camera, 61, 10)
    assert [r.getMessage() for r in caplog.records if "works again" in r.getMessage()] == [
        "frame consumer works again camera=car-in-camera"
    ]
    consumer.fixed = False
    _frames(camera, 71, 3)  # the fault back after it cleared: said again
    assert len([r for r in caplog.records if r.exc_info]) == 3
    assert camera.health.counters["consumer_errors"] == 63


def test_an_empty_picture_from_the_stream_is_a_bad_frame_not_a_drop() -> None:
    camera = _camera()
    rng = np.random.default_rng(1)

    class Capture:
        reads = 0

        def read(self) -> tuple[bool, np.ndarray]:
            self.reads += 1
            if self.reads == 30:
                camera._stop.set()
            if self.reads == 10:
                return True, np.zeros((0, 0, 3), np.uint8)
            return True, rng.integers(0, 255, (72, 128, 3), np.uint8)

        def get(self, *_: Any) -> float:
            return 25.0

    capture = Capture()
    _, frames = camera._read_frames(capture, False, time.monotonic())
    assert frames >= 28 and capture.reads == 30
