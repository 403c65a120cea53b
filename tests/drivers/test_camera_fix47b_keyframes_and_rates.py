"""A car standing at the barrier on cameras whose stream is right but unusual: one that codes a still
lane as exact repeats between key frames (a key frame every 3.8 s, within the 4 s docs/hardware.md
asks for), and one whose frame rate drops when the scene is still (Axis Zipstream's "dynamic FPS"
and the like: 25 fps while something moves, 1 fps while nothing does). Either way the car is the
same car all along: decided once, and again only after repeat_after_s (15 s)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from drivers.cameras.backlog import PACED, Backlog
from drivers.cameras.frame import Frame
from drivers.simulated import SimulatedRelay
from gateway.runtime.plate_reading import PlateReader
from plates.lane import LaneVoter
from tests.drivers.conftest import wait_for
from tests.drivers.mjpeg_feed import CAR, EMPTY, FPS, QuietHandler, noisy_jpeg, send_part, serve_mjpeg
from tests.drivers.test_camera_stall_burst import PLATE, CarRecognizer, _decided, _gateway

KEY_FRAME_S = 3.8  # under the 4 s docs/hardware.md asks for
STILL_FPS = 1.0


class KeyFrameCamera:
    """An MJPEG camera at 25 fps. While `live`, every frame differs (a car driving up); once not,
    the picture is new only every KEY_FRAME_S (a key frame) and repeated byte for byte between."""

    def __init__(self) -> None:
        self.level = EMPTY
        self.live = True
        self.stop = threading.Event()
        feed = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                rng = np.random.default_rng()
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                last, key_at = noisy_jpeg(feed.level, rng), time.monotonic()
                try:
                    while not feed.stop.is_set():
                        now = time.monotonic()
                        if feed.live or now - key_at >= KEY_FRAME_S:
                            last, key_at = noisy_jpeg(feed.level, rng), now
                        send_part(self.wfile, last)
                        self.wfile.flush()
                        time.sleep(1 / FPS)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server, self.url = serve_mjpeg(Handler)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class DynamicFpsCamera:
    """MJPEG at FPS while `moving`, at STILL_FPS otherwise; every frame a fresh noisy picture, sent
    as it is taken: none is a backlog."""

    def __init__(self) -> None:
        self.level = EMPTY
        self.moving = True
        self.stop = threading.Event()
        feed = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                rng = np.random.default_rng()
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while not feed.stop.is_set():
                        send_part(self.wfile, noisy_jpeg(feed.level, rng))
                        self.wfile.flush()
                        time.sleep(1 / (FPS if feed.moving else STILL_FPS))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server, self.url = serve_mjpeg(Handler)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def keyframes() -> Iterator[KeyFrameCamera]:
    camera = KeyFrameCamera()
    yield camera
    camera.close()


@pytest.fixture
def dynamic() -> Iterator[DynamicFpsCamera]:
    camera = DynamicFpsCamera()
    yield camera
    camera.close()


def test_a_car_standing_at_the_barrier_on_a_camera_with_key_frames_every_4_s_is_decided_once(
    tmp_path: Path, keyframes: KeyFrameCamera
) -> None:
    """A resident's car drives up at night and stands at the barrier; the camera (key frame every
    3.8 s, as docs/hardware.md advises) codes the still lane as exact repeats in between. The
    gateway took each repeat past 0.5 s for a frozen picture, the car went unread for 3.3 s, the
    voter decided it had left, and every key frame decided it afresh: the barrier was raised again
    every ~4 s and access_log filled with the one car. Expected: decided once, and again only
    after 15 s; and no offline alarm (key frames under 5 s apart)."""
    gw, camera = _gateway(tmp_path, keyframes.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(0.5)
        keyframes.level = CAR  # the car drives up (moving: every frame differs)
        wait_for(lambda: _decided(gw), "the car decided")
        time.sleep(0.3)
        keyframes.live = False  # it stands still: key frames every 3.8 s, exact repeats between
        time.sleep(12.5)  # under repeat_after_s (15 s) since the decision
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        rows = _decided(gw)
        assert len(rows) == 1 and len(relay.pulses) == 1, (
            f"one car standing at the barrier for 13 s was decided {len(rows)} times and the barrier "
            f"pulsed {len(relay.pulses)} times: {rows}; "
            f"still_frames={camera.health.counters.get('still_frames')}"
        )
        assert camera.health.online
    finally:
        gw.stop()


def test_a_car_standing_at_the_barrier_on_a_dynamic_fps_camera_is_decided_once(
    tmp_path: Path, dynamic: DynamicFpsCamera
) -> None:
    """A resident's car drives up (25 fps) and stops at the barrier; the camera, its scene still,
    drops to 1 frame a second. The gateway took each drop to 1 fps for a stall whose lag the next
    frames (each a second late against the 25 fps median) only grew: the car went unread for 4 s,
    the voter decided it had left, and the next live frame decided it afresh, every ~4 s.
    Expected: decided once, again only after 15 s."""
    gw, camera = _gateway(tmp_path, dynamic.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(1.5)  # 25 fps of an empty lane with traffic going by
        dynamic.level = CAR  # the car drives up
        wait_for(lambda: _decided(gw), "the car decided")
        time.sleep(0.3)
        dynamic.moving = False  # it stands: the camera drops to 1 fps
        time.sleep(12.0)  # under repeat_after_s (15 s) since the decision
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        rows = _decided(gw)
        assert len(rows) == 1 and len(relay.pulses) == 1, (
            f"one car standing at the barrier for 12 s was decided {len(rows)} times and the barrier "
            f"pulsed {len(relay.pulses)} times: {rows}; stale={camera.health.counters.get('stale')} "
            f"frames={camera.health.counters.get('frames')}"
        )
    finally:
        gw.stop()


def test_a_drop_from_25_to_1_fps_is_not_a_backlog_for_half_a_minute() -> None:
    """The same camera, as Backlog sees it: 3 s at 25 fps, then 1 frame a second, each sent as it
    is taken. After the first slow frame at most PACED more are dropped (docs/hardware.md: a stream
    that merely paused loses its first three frames); one frame in four was live for ~30 s."""
    backlog = Backlog(0.5, 25.0)
    times = [i / 25 for i in range(75)] + [74 / 25 + 1.0 * (i + 1) for i in range(30)]
    slow = [backlog.live(t) for t in times][75:]
    dropped = [i for i, ok in enumerate(slow) if not ok]
    assert all(slow[1 + PACED :]), f"of 30 frames at 1 fps, each sent as it was taken, dropped: {dropped}"
    assert dropped == [0]  # docs/hardware.md: only the first frame at the new rate
    fast = [backlog.live(times[-1] + (i + 1) / 25) for i in range(50)]
    assert all(fast)  # and back at 25 fps (something moves), every frame is live


def test_a_repeated_picture_keeps_the_car_standing_there_but_never_decides_it_again() -> None:
    """The lane voter at 25 fps: a key frame every 3.8 s reads the car, the repeats between only say
    the lane is still. The car stays in the lane, is decided again only on a key frame read past
    repeat_after_s, and repeats alone (a picture that froze) never make it due again."""
    voter = LaneVoter()
    assert voter.add([PLATE], 0.0) is not None
    decided = []
    for i in range(1, int(17 * FPS)):
        now = i / FPS
        if i % round(3.8 * FPS) == 0:  # a key frame, read
            decision = voter.add([PLATE], now)
            decided += [round(now, 2)] if decision is not None else []
        else:
            voter.still(now)
        assert voter.in_lane(PLATE.text, now), f"the standing car left the lane at {now:.2f} s"
    assert decided == [15.2], f"decided again at {decided} (once, past 15 s, on a key frame)"
    frozen = LaneVoter()
    assert frozen.add([PLATE], 0.0) is not None
    for i in range(1, int(40 * FPS)):
        frozen.still(i / FPS)  # nothing but repeats: the picture froze on the car
    assert frozen.add([], 40.0) is None and not frozen.in_lane(PLATE.text, 43.1)


def test_a_repeat_says_nothing_of_a_picture_the_reader_has_not_read() -> None:
    """Trigger mode, or a box that skipped the frame: the picture repeated is not the last frame the
    plate reader read, whose plates it would otherwise keep in the lane."""
    car = Frame(np.full((120, 160, 3), CAR, np.uint8), 1, time.monotonic() - 2.5, time.time() - 2.5)
    empty = Frame(np.full((120, 160, 3), EMPTY, np.uint8), 2, car.captured + 0.1, car.wall + 0.1)
    readers = [PlateReader(None, CarRecognizer()) for _ in range(2)]  # type: ignore[arg-type]
    for reader in readers:
        assert reader(car) == [("plate", PLATE.text, PLATE.confidence)]
    unread, read = readers
    unread.still(empty, time.monotonic())  # frame 2 was never read: says nothing of the car
    read.still(car, time.monotonic())  # the picture of frame 1, read: the car is still there
    time.sleep(0.7)  # frame 1 is now more than gone_after_s (3 s) old
    assert not unread.in_lane(PLATE.text) and read.in_lane(PLATE.text)


def test_a_repeat_does_not_bring_back_a_plate_that_has_left() -> None:
    """A plate unread for gone_after_s has left (docs/hardware.md); a repeat of the picture it was
    read in, after a stall, does not put it back in the lane."""
    voter = LaneVoter()
    assert voter.add([PLATE], 0.0) is not None
    voter.still(3.5)
    assert not voter.in_lane(PLATE.text, 3.5)
