"""A camera whose picture freezes: its encoder hangs and the stream goes on repeating the last
picture, byte for byte, at its usual rate (the stream never drops, so nothing goes offline)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.cameras.frozen import ALARM_AFTER_S, FrozenPicture, Picture
from drivers.simulated import SimulatedRelay
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import cleared_when_back_for_good, wait_for
from tests.drivers.mjpeg_feed import CAR, FeedCamera
from tests.drivers.test_camera_stall_burst import _decided, _gateway


@pytest.fixture
def feed() -> Iterator[FeedCamera]:
    camera = FeedCamera()
    yield camera
    camera.close()


def _open_alarms(gw: Gateway) -> list[tuple[str]]:
    return gw.on_worker(  # type: ignore[no-any-return]
        lambda conn: conn.execute(
            "SELECT message FROM alarms WHERE source = 'car-in-camera' AND cleared_at IS NULL"
        ).fetchall()
    ).result(timeout=10)


def test_a_frozen_picture_of_a_car_does_not_open_the_barrier_again_and_again(
    tmp_path: Path, feed: FeedCamera
) -> None:
    """A resident's car drives up and is let in once; as it drives through, the camera's picture
    freezes on the frame showing it at the barrier. The gateway kept "seeing" the car in the
    identical repeated frame and opened the barrier for it again 15 s later (and every 15 s after),
    for whoever follows. Expected: a picture repeated byte for byte is no live lane: one opening."""
    gw, camera = _gateway(tmp_path, feed.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(0.5)
        feed.level = CAR  # the car arrives at the barrier (live, noisy frames)
        wait_for(lambda: _decided(gw), "the car decided")
        time.sleep(0.3)
        feed.frozen = True  # the picture freezes on the car; the real car drives in
        time.sleep(17.5)
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        rows = _decided(gw)
        assert len(relay.pulses) == 1 and len(rows) == 1, (
            f"the barrier opened {len(relay.pulses)} times for one car from a frozen picture: {rows}"
        )
        assert camera.latest() is None and camera.health.counters["frozen"] > 100
    finally:
        gw.stop()


def test_a_frozen_camera_is_reported_not_shown_healthy(tmp_path: Path, feed: FeedCamera) -> None:
    """The camera's picture freezes on an empty lane (its encoder hung): for the next 10 s every
    frame is the same JPEG byte for byte, and every car that comes is missed. The guard's device
    list and the alarms showed the camera online with no error at all. Expected: the camera's
    health (and an alarm) says its picture is frozen, so that someone goes to fix it; and once
    the picture moves again, the camera is back online and the alarm cleared."""
    gw, camera = _gateway(tmp_path, feed.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(0.5)
        feed.frozen = True
        time.sleep(10.0)
        health = camera.health.snapshot()
        offline = _open_alarms(gw)
        assert not (health["online"] and not health["last_error"] and not offline), (
            f"a camera frozen for 10 s is shown healthy: online={health['online']} "
            f"last_error={health['last_error']!r} alarms={offline} frames={health['counters'].get('frames')}"
        )
        assert not health["online"] and "picture frozen" in health["last_error"]
        wait_for(lambda: _open_alarms(gw), "the device_offline alarm")
        feed.frozen = False  # the camera rebooted: its picture moves again
        wait_for(lambda: camera.health.online and camera.latest() is not None, "the camera back")
        wait_for(lambda: not cleared_when_back_for_good(gw), "the alarm cleared")
        assert camera.health.last_error == ""
    finally:
        gw.stop()


def _night_frames(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """A still lane at night, as the box decodes it: dark, a lit plate-sized patch, faint sensor
    noise (0.5 of a grey level), compressed hard (JPEG quality 30)."""
    lane = cv2.GaussianBlur(rng.uniform(0, 40, (360, 640, 3)).astype(np.float32), (0, 0), 3)
    cv2.rectangle(lane, (300, 150), (420, 190), (90, 90, 90), -1)
    frames: list[np.ndarray] = []
    for _ in range(count):
        noisy = np.clip(lane + rng.normal(0, 0.5, lane.shape), 0, 255).astype(np.uint8)
        decoded = cv2.imdecode(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], 1)
        assert decoded is not None
        frames.append(decoded)
    return frames


def test_a_still_lane_at_night_is_not_taken_for_a_frozen_picture() -> None:
    """25 fps for 10 s of a lane where nothing moves, at night: every frame is a new picture (but
    the stream's first, the reference: tests/drivers/test_camera_fix47c_frozen_restart.py)."""
    picture = FrozenPicture()
    frames = _night_frames(250, np.random.default_rng(7))
    judged = [picture.judge(image, i / 25) for i, image in enumerate(frames)]
    assert judged[0] is Picture.FIRST and all(p is Picture.NEW for p in judged[1:])


def test_a_repeated_picture_is_still_then_frozen_once_repeated_for_the_alarm_s() -> None:
    picture = FrozenPicture()
    first, other = _night_frames(2, np.random.default_rng(8))
    assert picture.judge(other.copy(), -0.04) is Picture.FIRST  # the stream's first picture
    same = [picture.judge(first.copy(), i / 25) for i in range(int(ALARM_AFTER_S * 25) + 1)]
    assert same == [Picture.NEW] + [Picture.STILL] * (len(same) - 2) + [Picture.FROZEN]
    assert picture.judge(other, ALARM_AFTER_S + 0.04) is Picture.NEW  # a different picture: live again
