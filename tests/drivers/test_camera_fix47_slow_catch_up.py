"""The uplink saturated (docs/hardware.md names it as a cause of a stall): the stream stalls for 3 s,
under read_timeout_s, and then the frames the camera took meanwhile come back, not in one TCP
gulp, but as fast as the recovering link allows: one and a half times the camera's own rate, with
the live frames queued behind them. They are 3 s old when the first arrive, and it takes the link
6 s to catch up."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from drivers.cameras.backlog import PACED, Backlog
from drivers.simulated import SimulatedRelay
from tests.drivers.conftest import wait_for
from tests.drivers.mjpeg_feed import CAR, EMPTY, FPS, QuietHandler, noisy_jpeg, send_part, serve_mjpeg
from tests.drivers.test_camera_stall_burst import _decided, _gateway

CATCH_UP = 1.5  # the recovering link delivers 1.5x the camera's rate until the queue is empty


class SaturatedUplink:
    """An MJPEG camera that takes a frame every 1/FPS of whatever `scene` shows; the frames queue
    on a link that sends none while `stalled` and at most CATCH_UP times FPS otherwise."""

    def __init__(self) -> None:
        self.scene = EMPTY
        self.stalled = False
        self.queue: deque[int] = deque()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        uplink = self
        threading.Thread(target=self._capture, daemon=True).start()

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                rng = np.random.default_rng()
                with uplink.lock:
                    uplink.queue.clear()
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                due = time.monotonic()  # the link's schedule: a late frame is made up by the next
                try:
                    while not uplink.stop.is_set():
                        with uplink.lock:
                            level = None if uplink.stalled or not uplink.queue else uplink.queue.popleft()
                        if level is None:
                            time.sleep(0.002)
                            due = time.monotonic()
                            continue
                        jpeg = noisy_jpeg(level, rng)
                        send_part(self.wfile, jpeg)
                        self.wfile.flush()
                        due += 1 / (CATCH_UP * FPS)
                        time.sleep(max(0.0, due - time.monotonic()))
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server, self.url = serve_mjpeg(Handler)

    def _capture(self) -> None:
        due = time.monotonic()
        while not self.stop.is_set():
            with self.lock:
                self.queue.append(self.scene)
            due += 1 / FPS
            time.sleep(max(0.0, due - time.monotonic()))

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def uplink() -> Iterator[SaturatedUplink]:
    camera = SaturatedUplink()
    yield camera
    camera.close()


def test_a_backlog_drained_at_a_saturated_links_pace_does_not_open_for_a_car_long_gone(
    tmp_path: Path, uplink: SaturatedUplink
) -> None:
    """During a 3 s stall a resident's car drove up, waited 1.6 s and reversed away. The backlog
    then drains at 1.5x the camera's rate: its frames are more than half the usual interval apart,
    so the gateway takes them for the live stream after three of them and raises the barrier for
    the car from frames ~3 s old, though the lane has been empty for 1.4 s. docs/hardware.md
    promises "a car that drove off during the stall opens nothing". Expected: nothing decided
    while the link is still catching up."""
    gw, camera = _gateway(tmp_path, uplink.url)
    gw.start()
    try:
        wait_for(lambda: camera.latest() is not None, "live frames")
        time.sleep(1.0)
        uplink.stalled = True
        uplink.scene = CAR  # the car drives up while the stream is stalled
        time.sleep(1.6)
        uplink.scene = EMPTY  # and reverses away
        time.sleep(1.4)
        uplink.stalled = False  # the link comes back and drains the 3 s backlog at 1.5x
        time.sleep(8.0)
        rows = _decided(gw)
        relay = gw.devices.lanes["car-in"].relays[0]
        assert isinstance(relay, SimulatedRelay)
        assert rows == [] and relay.pulses == [], (
            f"decided on frames from before the stall ended, the barrier opened {len(relay.pulses)} "
            f"time(s) for a car gone: {rows}; stale={camera.health.counters.get('stale')}"
        )
        assert camera.latest() is not None and camera.health.online  # and the live stream is read
    finally:
        gw.stop()


def _catch_up(catch_up: float, fps: float = FPS, declared: float = FPS) -> tuple[list[float], list[bool]]:
    """A Backlog fed 2 s of a live stream, a 3 s stall, then the stall's frames and the live ones
    behind them at `catch_up` times the camera's rate until the link has caught up, then live
    again. Each frame's real age as it arrives, and whether it was taken for live."""
    backlog = Backlog(0.5, declared)
    interval = 1 / fps
    taken = [i * interval for i in range(round(2 * fps))]
    arrived = list(taken)
    t = taken[-1] + 3.0
    while True:
        taken.append(taken[-1] + interval)
        arrived.append(t)
        if t - taken[-1] <= interval / 2:  # caught up
            break
        t += interval / catch_up
    for _ in range(25):
        arrived.append(arrived[-1] + interval)
        taken.append(arrived[-1])
    live = [backlog.live(t) for t in arrived]
    return [a - c for a, c in zip(arrived, taken, strict=True)], live


@pytest.mark.parametrize(
    ("catch_up", "fps", "declared"),
    [
        *((catch_up, 25, 25) for catch_up in (1.25, 1.5, 2.0, 10.0, 100.0)),
        (1.5, 10, 25),  # MJPEG over HTTP: FFmpeg declares 25 fps whatever the camera sends
        (1.5, 12.5, 0),  # no rate declared
    ],
)
def test_no_frame_more_than_max_frame_age_s_old_is_live_however_fast_the_link_catches_up(
    catch_up: float, fps: float, declared: float
) -> None:
    """Also for a 10 fps camera over MJPEG, whose rate FFmpeg declares as 25 fps."""
    ages, live = _catch_up(catch_up, fps, declared)
    stale = [round(age, 2) for age, ok in zip(ages, live, strict=True) if ok and age > 0.5 + 1e-9]
    assert stale == [], f"frames this old taken for live at {catch_up}x: {stale}"
    assert all(live[-10:])  # and once caught up, the stream is live again


def test_a_link_catching_up_at_one_and_a_half_times_is_live_only_once_nearly_caught_up() -> None:
    ages, live = _catch_up(1.5)
    first = live.index(False, 50)  # the stall's first frame
    back = live.index(True, first)
    assert 0.4 <= ages[back] <= 0.5  # not seconds earlier, with the car's frames


def test_a_stream_slow_while_still_is_live_at_once_when_it_sends_at_its_rate_again() -> None:
    """A motion server's MJPEG: a frame a second while nothing moves, a 3 s pause, then 25 fps as a
    car comes: each frame makes up a second of the lag it is measured by, live within 3 frames."""
    backlog = Backlog(0.5, 25.0)
    assert all([backlog.live(float(i)) for i in range(30)][1 + PACED :])
    after = [backlog.live(32.0 + i / 25) for i in range(10)]
    assert after == [False] * 2 + [True] * 8
