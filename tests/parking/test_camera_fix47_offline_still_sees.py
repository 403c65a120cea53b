"""An exit camera whose stream drops while cars are held there to pay: it has read nothing since,
yet the gateway goes on taking it for a camera that still sees the last car it read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frame import Frame
from gateway.core import Presented
from gateway.runtime.devices import build_devices
from gateway.runtime.gateway import Gateway
from gateway.runtime.plate_reading import PlateReader
from plates.lane import LaneVoter
from plates.reading import Reading
from tests.drivers.conftest import wait_for
from tests.drivers.mjpeg_feed import CAR, EMPTY, FeedCamera
from tests.parking.conftest import parking_config, seed

FIRST, SECOND = "苏E12345", "苏E54321"  # two strangers' cars, both owing at the exit


def exit_camera(url: str) -> str:
    return f"""
[[devices]]
id = "car-out-camera"
lane = "car-out"
kind = "camera"
driver = "opencv"
url = "{url}"
plates = false
max_frame_age_s = 0.5
read_timeout_s = 1
reconnect_max_s = 0.3
"""


class FirstCarRecognizer:
    """Where the plate network would be: reads FIRST on frames that show a car."""

    def read_frame(self, image: np.ndarray, roi: object = None) -> list[Reading]:
        car = float(image.mean()) > (CAR + EMPTY) / 2
        return [Reading(FIRST, "blue", 0.99, (40, 60, 60, 20))] if car else []


@pytest.fixture
def feed() -> Iterator[FeedCamera]:
    camera = FeedCamera()
    yield camera
    camera.close()


HELD = "SELECT value FROM access_log WHERE lane = 'car-out' AND reason = 'payment_due'"


def _rows(gw: Gateway, sql: str) -> list[Any]:
    return gw.on_worker(lambda conn: conn.execute(sql).fetchall()).result(timeout=10)


def _exit_with_camera(tmp_path: Path, url: str, wired: bool) -> tuple[Gateway, OpenCvCamera]:
    """The parking site, its car exit's camera reading FIRST on frames that show a car; `wired`: the
    reader told of its camera, as gateway/runtime/devices.py does for a plate camera."""
    cfg = parking_config(tmp_path / "data", extra=exit_camera(url))
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    reader = PlateReader(None, FirstCarRecognizer())  # type: ignore[arg-type]
    camera = gw.devices.lanes["car-out"].cameras[0]
    assert isinstance(camera, OpenCvCamera)
    camera.attach(reader, reader.annotate)
    if wired:
        reader.watched_by(camera)
    gw.devices.lanes["car-out"].plate_readers.append(reader)
    return gw, camera


def _held_then_offline(gw: Gateway, camera: OpenCvCamera, feed: FeedCamera) -> None:
    """Both cars came in hours ago; FIRST is read at the exit and held to pay; the stream drops."""
    now = gw.now()
    for plate, hours in ((FIRST, 2), (SECOND, 3)):
        entry = Presented("car-in", "plate", plate, 0.97, now - timedelta(hours=hours), "car-in-cam")
        gw.on_worker(lambda _, p=entry: gw.handle(p)).result(timeout=10)  # type: ignore[misc]
    wait_for(lambda: camera.latest() is not None, "live frames")
    feed.level = CAR  # 苏E12345 at the exit barrier
    wait_for(lambda: _rows(gw, HELD) == [(FIRST,)], "the first car held to pay", timeout=5)
    feed.cut.set()  # the stream drops
    wait_for(lambda: not camera.health.online, "the camera offline")


def _typed_then_quoted(gw: Gateway) -> str | None:
    """The guard types the plate of the car now at the barrier (SECOND): the plate the quote names."""
    typed = Presented("car-out", "plate", SECOND, 1.0, gw.now(), "guard:张保安")
    gw.on_worker(lambda _: gw.handle(typed)).result(timeout=10)
    assert _rows(gw, HELD) == [(FIRST,), (SECOND,)]
    quote = gw.on_worker(lambda conn: gw.parking.lane_quote(conn, "car-out", gw.now())).result(timeout=10)
    return None if quote is None else quote["plate"]  # type: ignore[no-any-return]


def test_the_fee_quote_does_not_name_a_car_the_offline_camera_last_saw(
    tmp_path: Path, feed: FeedCamera
) -> None:
    """苏E12345 is read by the exit camera and held to pay; the camera's stream then drops (offline,
    device_offline alarm) and the car backs away. 苏E54321 comes to the barrier and the guard types
    its plate: held too. The guard's "收费放行 Take the fee" quote named 苏E12345, the car that left,
    because the offline camera was taken to "still see" it (docs/parking.md: the first held that the
    lane's camera still sees, else the last held). Expected: the quote names 苏E54321. (The reader
    is not told of its camera here: no frame read for gone_after_s, a plate has left.)"""
    gw, camera = _exit_with_camera(tmp_path, feed.url, wired=False)
    gw.start()
    try:
        _held_then_offline(gw, camera, feed)
        time.sleep(4.0)  # meanwhile the first car backs away from the barrier
        plate = _typed_then_quoted(gw)
        assert plate == SECOND, (
            f"the fee quote names {plate}, read by a camera offline for 4 s, not {SECOND} at the barrier"
        )
    finally:
        gw.stop()


def test_a_camera_offline_a_moment_sees_nothing(tmp_path: Path, feed: FeedCamera) -> None:
    """The same, the plate camera's reader told of its camera as the device factory does: the
    moment the camera is offline it sees no car, not the last it read seconds ago."""
    gw, camera = _exit_with_camera(tmp_path, feed.url, wired=True)
    gw.start()
    try:
        _held_then_offline(gw, camera, feed)
        assert not gw.devices.sees("car-out", FIRST) and not gw.devices.watches("car-out")
        assert _typed_then_quoted(gw) == SECOND
    finally:
        gw.stop()


def test_the_device_factory_tells_a_plate_reader_of_its_camera(tmp_path: Path) -> None:
    """A plate camera built from the config (plates = true) that has not delivered a frame: its
    lane is not watched, nor any plate seen there, even one a guard just typed."""
    text = exit_camera("http://127.0.0.1:9/video.mjpg").replace("plates = false", "plates = true")
    devices = build_devices(parking_config(tmp_path / "data", extra=text))
    reader = devices.lanes["car-out"].plate_readers[0]
    reader.hold(FIRST)
    assert reader.in_lane(FIRST)
    assert not devices.watches("car-out") and not devices.sees("car-out", FIRST)


class StillCamera:
    """A camera online with fresh frames, reading continuously or only when the loop asks."""

    def __init__(self, continuous: bool) -> None:
        self.continuous = continuous

    def watching(self, within_s: float) -> bool:
        return True


class PlateRecognizer:
    """Reads one plate on every frame."""

    def __init__(self, plate: str) -> None:
        self.plate = plate

    def read_frame(self, image: np.ndarray, roi: object = None) -> list[Reading]:
        return [Reading(self.plate, "blue", 0.99, (40, 60, 60, 20))]


@pytest.mark.parametrize(("continuous", "seen"), [(True, False), (False, True)])
def test_a_plate_read_4_s_ago_has_left_unless_the_camera_reads_only_at_the_loop(
    continuous: bool, seen: bool
) -> None:
    """Reading every frame, a camera that has not read a plate for gone_after_s (3 s) no longer has
    it in the lane, whether frames came meanwhile or not. In trigger mode it reads frames only
    when the loop says a car arrived: the car it read at the barrier is there until then."""
    reader = PlateReader(None, PlateRecognizer(FIRST))  # type: ignore[arg-type]
    reader.watched_by(StillCamera(continuous))
    at = time.monotonic() - 4.0
    assert reader(Frame(np.zeros((120, 160, 3), np.uint8), 1, at, at)) == [("plate", FIRST, 0.99)]
    assert reader.in_lane(FIRST) is seen


def test_the_lane_voter_judges_a_held_plate_at_the_time_given() -> None:
    voter = LaneVoter()
    voter.add([Reading(FIRST, "blue", 0.99, (40, 60, 60, 20))], 100.0)
    assert voter.in_lane(FIRST, 102.9) and voter.in_lane(FIRST, 103.0)
    assert not voter.in_lane(FIRST, 103.1) and not voter.in_lane(SECOND, 100.0)
