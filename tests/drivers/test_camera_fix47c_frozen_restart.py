"""A camera whose picture froze (its encoder hung) and a stream opened on it afresh: the gateway
restarted meanwhile (a power cut at the booth, systemd), or the stream reconnected (an NVR cutting
its session). The new stream's first picture is the frozen one: no sign the camera is live."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from drivers.cameras.backlog import Backlog
from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frozen import ALARM_AFTER_S, FROZEN, FrozenPicture, Picture
from drivers.health import DeviceHealth
from drivers.simulated import SimulatedRelay
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import health, wait_for
from tests.drivers.mjpeg_feed import CAR, FPS, FeedCamera
from tests.drivers.test_camera_stall_burst import _decided, _gateway


@pytest.fixture
def feed() -> Iterator[FeedCamera]:
    camera = FeedCamera()
    yield camera
    camera.close()


def _alarms(gw: Gateway) -> list[tuple[int, str | None, str]]:
    return gw.on_worker(  # type: ignore[no-any-return]
        lambda conn: conn.execute(
            "SELECT id, cleared_at, message FROM alarms WHERE source = 'car-in-camera' "
            "AND kind = 'device_offline' ORDER BY id"
        ).fetchall()
    ).result(timeout=10)


def _access_rows(tmp_path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "data" / "gateway.db") as conn:
        return conn.execute("SELECT value, admitted, reason FROM access_log").fetchall()


def _frozen_again(camera: OpenCvCamera) -> bool:
    """The restarted gateway has judged the picture frozen, and written what that changes: the
    second frozen frame comes after the first one's set_offline (the same capture thread)."""
    return camera.health.counters["frozen"] >= 2


def test_a_picture_frozen_on_a_car_does_not_open_the_barrier_after_a_restart(
    tmp_path: Path, feed: FeedCamera
) -> None:
    """The resident's car is let in once; the camera's picture freezes on it at the barrier and the
    camera is alarmed offline (picture frozen). The box then restarts with the picture still
    frozen: the gateway took the new stream's first frame for a live one, "saw" the car again and
    raised the barrier for whoever is there. Expected: no opening from a frozen picture."""
    gw, camera = _gateway(tmp_path, feed.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(0.5)
        feed.level = CAR
        wait_for(lambda: _decided(gw), "the car decided", timeout=10)
        time.sleep(0.3)
        feed.frozen = True  # the picture freezes on the car; the real car drives in
        wait_for(lambda: not camera.health.online, "the camera offline: picture frozen", timeout=15)
    finally:
        gw.stop()
    before = _access_rows(tmp_path)
    gw, camera = _gateway(tmp_path, feed.url)  # the restart; the picture is still the frozen one
    gw.start()
    try:
        wait_for(lambda: _frozen_again(camera), "the picture judged frozen again", timeout=20)
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        rows = _decided(gw)
        assert relay.pulses == [] and rows == before, (
            f"after the restart the barrier opened {len(relay.pulses)} time(s) for the car in the "
            f"frozen picture; access log {rows}"
        )
        assert not camera.health.online and camera.health.last_error == FROZEN
        assert camera.latest() is None and not camera.watching(3.0)
    finally:
        gw.stop()


def test_a_frozen_cameras_alarm_is_not_cleared_by_a_restart(tmp_path: Path, feed: FeedCamera) -> None:
    """The camera's picture froze on an empty lane and its device_offline alarm (picture frozen) is
    open, its repair deadline running. The gateway restarts; nobody touched the camera, which still
    repeats the same picture. The alarm was cleared at the start, as if the camera had been
    repaired, and a new one raised 5 s later: a repair on record that never happened, two faults in
    the daily report, the repair deadline counted again from zero. Expected: the one alarm stays
    open through the restart."""
    gw, camera = _gateway(tmp_path, feed.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(0.5)
        feed.frozen = True
        wait_for(lambda: _alarms(gw), "the device_offline alarm", timeout=15)
    finally:
        gw.stop()
    gw, camera = _gateway(tmp_path, feed.url)  # the restart; the picture is still frozen
    gw.start()
    try:
        wait_for(lambda: _frozen_again(camera), "the picture judged frozen again", timeout=20)
        alarms = _alarms(gw)
        assert len(alarms) == 1 and alarms[0][1] is None, (
            f"the frozen camera's alarm was cleared by the restart and raised anew: {alarms}"
        )
        assert "picture frozen" in alarms[0][2]
    finally:
        gw.stop()


def _pictures(count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(count)]


def _stream(
    camera: OpenCvCamera, images: list[np.ndarray], start: float, backlog: Backlog, frozen: FrozenPicture
) -> list[bool]:
    """The frames of one stream at 25 fps from `start`, as OpenCvCamera._read_frames takes them;
    whether the camera was online after each."""
    online = []
    for i, image in enumerate(images):
        camera._take(image, start + i / FPS, backlog, frozen)
        online.append(camera.health.online)
    return online


def _camera() -> tuple[OpenCvCamera, list[bool]]:
    camera = OpenCvCamera(health("car-in-camera", "camera", "car-in"), "rtsp://10.0.0.9/stream")
    changes: list[bool] = []

    def changed(_: DeviceHealth, online: bool) -> None:
        changes.append(online)

    camera.health.on_change = changed
    return camera, changes


def test_a_stream_reopened_on_a_frozen_picture_is_not_live() -> None:
    """An NVR cuts the session of a camera whose picture froze on a car; the stream reconnects and
    repeats the same picture. Its first frame was read as new: the camera online (the alarm
    cleared), the car read again. Expected: offline until the picture changes, nothing read."""
    camera, changes = _camera()
    moving = _pictures(25, 3)
    car = moving[-1]
    frozen_on_car = moving + [car.copy() for _ in range(int(6 * FPS))]
    _stream(camera, frozen_on_car, 100.0, Backlog(0.5, FPS), FrozenPicture())
    assert camera.health.last_error == FROZEN and changes == [True, False]
    kept = camera._seq
    camera.health.set_offline("stream dropped")  # as _capture says of the session cut
    reopened = [car.copy() for _ in range(int(ALARM_AFTER_S * FPS) + 5)]
    online = _stream(camera, reopened, 120.0, Backlog(0.5, FPS), FrozenPicture())  # a new stream's
    assert not any(online), f"online again at frame {online.index(True)} of a still frozen picture"
    assert camera._seq == kept, "a frame of the frozen picture was kept to be read"
    assert camera.health.last_error == FROZEN and changes == [True, False]
    different = _pictures(2, 4)
    assert _stream(camera, different, 130.0, Backlog(0.5, FPS), FrozenPicture()) == [False, True]


def test_a_healthy_stream_is_live_from_its_second_frame() -> None:
    """What a start costs a live camera: its first frame is the picture the next is compared with;
    the second, differing by the sensor's noise, is read and brings the camera online."""
    camera, changes = _camera()
    assert _stream(camera, _pictures(3, 5), 100.0, Backlog(0.5, FPS), FrozenPicture()) == [False, True, True]
    assert camera._seq == 2 and changes == [True]


def test_a_frozen_picture_stalled_and_caught_up_does_not_bring_the_camera_back() -> None:
    """A camera whose picture froze (offline, alarmed) has its link stall for 2 s (a switch
    rebooting); the repeats queued meanwhile then arrive in a burst, each dropped as stale. Each of
    them counted as the camera heard from: online, the alarm cleared, and raised anew once the
    live repeats were judged frozen again. Expected: still offline, the one alarm."""
    camera, changes = _camera()
    backlog, frozen = Backlog(0.5, FPS), FrozenPicture()
    moving = _pictures(25, 6)
    _stream(camera, moving + [moving[-1].copy() for _ in range(int(6 * FPS))], 100.0, backlog, frozen)
    assert changes == [True, False]
    last = 100.0 + (25 + 6 * FPS - 1) / FPS
    for i in range(50):  # the burst after a 2 s stall, 4 ms apart
        camera._take(moving[-1].copy(), last + 2.0 + i * 0.004, backlog, frozen)
    assert camera.health.counters["stale"] > 0
    assert changes == [True, False] and not camera.health.online, f"alarm raised and cleared: {changes}"


def test_a_stream_s_first_picture_is_a_reference_then_frozen_if_it_never_changes() -> None:
    picture = FrozenPicture()
    first, other = _pictures(2, 7)
    judged = [picture.judge(first.copy(), i / FPS) for i in range(int(ALARM_AFTER_S * FPS) + 2)]
    assert set(judged[: int(ALARM_AFTER_S * FPS)]) == {Picture.FIRST}
    assert set(judged[int(ALARM_AFTER_S * FPS) :]) == {Picture.FROZEN}
    assert not picture.moving
    assert picture.judge(other, 6.0) is Picture.NEW and picture.moving
