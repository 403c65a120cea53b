"""A lane roi wholly outside the camera's picture (review 53f): drawn on the 1920x1080 main stream
while the camera sends the 1280x720 sub-stream, it makes the lane read nothing. The reader says so
once, in the log and in the camera's last_error, and takes it back once the picture fits again."""

from __future__ import annotations

import logging
import random
import time

import numpy as np
import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from gateway.runtime.plate_reading import PlateReader
from plates.recognizer import Recognizer
from plates.synth.scene import render_scene
from plates.synth.texts import PlateSpec

PLATE = "皖A7K258"
# The lane, drawn on the 1920x1080 main stream: below the 720th row, so wholly outside a 1280x720
# picture, yet within a plate's reach of it (the search region clipped to 1280x720 is not empty).
LANE_1080P = [(800, 740), (1200, 740), (1200, 900), (800, 900)]
Emitted = list[tuple[str, str, float]]


@pytest.fixture(scope="module")
def rec() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def scene_720p() -> np.ndarray:
    frame, _, _, _ = render_scene(
        random.Random(2), 1280, 720, spec=PlateSpec(PLATE, "blue", 1, "standard"), plate_w=160
    )
    return frame


@pytest.fixture(scope="module")
def scene_1080p(scene_720p: np.ndarray) -> np.ndarray:
    """The main stream's picture: the scene moved 640 right and 400 down, its plate (254, 371,
    164 wide, 50 high at 720p) then in LANE_1080P."""
    image = np.full((1080, 1920, 3), 90, np.uint8)
    image[400:1080, 640:1920] = scene_720p[:680]
    return image


def lane_camera(reader: PlateReader) -> OpenCvCamera:
    """A camera wired to its reader as gateway/runtime/devices.py wires it."""
    health = DeviceHealth("car-in-camera", "camera", "car-in", "opencv")
    health.set_online()
    camera = OpenCvCamera(health, "rtsp://cam/stream", max_frame_age_s=5.0)
    camera.attach(reader, reader.annotate)
    reader.watched_by(camera)
    return camera


def feed(camera: OpenCvCamera, image: np.ndarray, seqs: range, emitted: Emitted) -> None:
    for seq in seqs:
        frame = Frame(image, seq, time.monotonic(), time.time())
        camera.consume_frame(frame, lambda *a: emitted.append(a))


def outside_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return [m for m in messages if "roi" in m]


def test_an_roi_outside_the_picture_is_said_once_and_cleared_when_it_fits_again(
    rec: Recognizer, scene_720p: np.ndarray, scene_1080p: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    reader = PlateReader(LANE_1080P, rec)
    camera = lane_camera(reader)
    emitted: Emitted = []
    caplog.set_level(logging.DEBUG)
    feed(camera, scene_720p, range(1, 51), emitted)  # two seconds of a 25 fps camera

    assert emitted == []
    warned = outside_warnings(caplog)
    assert len(warned) == 1, warned
    error = camera.health.last_error
    assert "roi (x 800..1200, y 740..900)" in error
    assert "1280x720 picture" in error
    assert "redraw the roi on a current snapshot" in error
    assert camera.health.online  # its stream is fine: shown as a fault to fix, not a drop

    # A stream that drops and comes back clears last_error; the next frame says it again.
    camera.health.set_offline("stream dropped")
    camera.health.set_online()
    feed(camera, scene_720p, range(51, 53), emitted)
    assert camera.health.last_error == error
    assert len(outside_warnings(caplog)) == 1

    # The camera set back to the main stream the roi was drawn on: the lane reads again.
    feed(camera, scene_1080p, range(53, 63), emitted)
    assert camera.health.last_error == ""
    assert len(outside_warnings(caplog)) == 1
    assert [(kind, text) for kind, text, _ in emitted][:1] == [("plate", PLATE)]
    assert len([r for r in caplog.records if "inside the picture again" in r.getMessage()]) == 1


def test_an_roi_partly_outside_the_picture_is_read_and_not_reported(
    rec: Recognizer, scene_720p: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, _, box = render_scene(
        random.Random(2), 1280, 720, spec=PlateSpec(PLATE, "blue", 1, "standard"), plate_w=160
    )
    x, y, w, h = box
    # The lane reaches past the picture's right and bottom edges; the plate's centre is inside.
    roi = [(x - 40, y - 30), (1500, y - 30), (1500, 900), (x - 40, 900)]
    reader = PlateReader(roi, rec)
    camera = lane_camera(reader)
    emitted: Emitted = []
    caplog.set_level(logging.DEBUG)
    feed(camera, scene_720p, range(1, 6), emitted)
    assert [(kind, text) for kind, text, _ in emitted][:1] == [("plate", PLATE)]
    assert camera.health.last_error == ""
    assert outside_warnings(caplog) == []
