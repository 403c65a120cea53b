"""Real pseudo-terminals standing in for serial devices, an MJPEG camera served over HTTP, gateways
with real drivers (lane inputs on gpiozero mock pins), and a check that every test stops the threads
its drivers started."""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from gpiozero import Device as GpioBase
from gpiozero.pins.mock import MockFactory

from drivers.health import DeviceHealth
from drivers.relays.lcus import LcusRelay
from gateway.config import parse_config
from gateway.runtime.devices import Devices, build_devices
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import site_toml, write_csv
from tests.drivers.mjpeg_feed import QuietHandler, send_part, serve_mjpeg


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Poll until `condition()` is truthy; a generous limit, so this is no timing assertion."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def cleared_when_back_for_good(gw: Gateway, kind: str = "device_offline") -> list[str]:
    """The operations thread's look, [alarms] clear_after_s (300 s) later: the faults of devices
    back online since clear, and the sources of the open alarms of `kind` left (for wait_for:
    a device's return is written on the decision worker in its turn)."""
    gw.operations.returns(gw.now() + timedelta(seconds=gw.site.config.alarms.clear_after_s))
    rows = gw.on_worker(
        lambda c: c.execute(
            "SELECT source FROM alarms WHERE kind = ? AND cleared_at IS NULL", (kind,)
        ).fetchall()
    ).result(timeout=10)
    return sorted(source for (source,) in rows)


def health(device: str = "dev", kind: str = "reader", lane: str = "door") -> DeviceHealth:
    return DeviceHealth(device=device, kind=kind, lane=lane, driver="test")


class PtyDevice:
    """The far end of a serial cable: a pty whose slave is reached through a symlink, like
    /dev/serial/by-id/... Unplugging closes the pty and removes the link; plugging back makes a
    new pty behind the same path."""

    def __init__(self, link: Path):
        self.path = str(link)
        self._link = link
        self.master = -1
        self._slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes arrive as sent
        self._link.unlink(missing_ok=True)
        self._link.symlink_to(os.ttyname(self._slave))

    def replug(self) -> None:
        """Gone and back before the driver looks again (a USB adapter on a bad hub): the new pty is
        behind the path before the old one closes, so the path is never missing, whatever the
        machine's load between the two (an unplug() then plug() left a moment without it)."""
        old = (self.master, self._slave)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        new_link = self._link.with_name(self._link.name + ".new")
        new_link.unlink(missing_ok=True)
        new_link.symlink_to(os.ttyname(self._slave))
        os.replace(new_link, self._link)
        for fd in old:
            if fd >= 0:
                os.close(fd)

    def unplug(self) -> None:
        self._link.unlink(missing_ok=True)
        for fd in (self.master, self._slave):
            if fd >= 0:
                os.close(fd)
        self.master = self._slave = -1

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def read(self, size: int, timeout: float = 10.0) -> bytes:
        """Exactly `size` bytes the driver wrote, or fail."""
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < size:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"expected {size} bytes from the driver, got {out!r}")
            out += os.read(self.master, size - len(out))
        return out

    def pending(self, wait: float = 0.05) -> bytes:
        """What the driver has written and nobody read yet (nothing, if it wrote nothing)."""
        out = b""
        while select.select([self.master], [], [], wait)[0]:
            out += os.read(self.master, 4096)
        return out

    def close(self) -> None:
        self.unplug()


@pytest.fixture
def pty_device(tmp_path: Path) -> Iterator[Callable[[str], PtyDevice]]:
    made: list[PtyDevice] = []

    def make(name: str = "ttyUSB-reader") -> PtyDevice:
        device = PtyDevice(tmp_path / name)
        made.append(device)
        return device

    yield make
    for device in made:
        device.close()


def frame_jpeg(value: int, size: tuple[int, int] = (160, 120)) -> bytes:
    """A grey frame whose brightness says which frame it is."""
    image = np.full((size[1], size[0], 3), value % 256, np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


class MjpegCamera:
    """An IP camera's MJPEG stream (multipart/x-mixed-replace) served over real HTTP."""

    def __init__(self, fps: float = 25.0):
        self.fps = fps
        self.cut = threading.Event()
        self.sent = 0
        camera = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if camera.cut.is_set():
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while not camera.cut.is_set():
                        jpeg = frame_jpeg(camera.sent)
                        camera.sent += 1
                        send_part(self.wfile, jpeg)
                        time.sleep(1 / camera.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server, self.url = serve_mjpeg(Handler)

    def stop(self) -> None:
        self.cut.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mjpeg_camera() -> Iterator[MjpegCamera]:
    camera = MjpegCamera()
    yield camera
    camera.stop()


def write_video(path: Path, frames: int = 30, size: tuple[int, int] = (160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, size)
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 8) % 256, np.uint8))
    writer.release()
    return path


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """A driver that is stopped must stop its threads: fail the test that leaks one."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(("asyncio", "ThreadPoolExecutor"))
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"


_LCUS_CHANNEL = """
[[devices]]
id = "{id}"
lane = "{lane}"
kind = "relay"
driver = "lcus"
port = "{port}"
channel = {channel}
reconnect_max_s = {wait}
"""


def lcus_two_lanes(tmp_path: Path, board: PtyDevice, wait: float) -> tuple[Devices, LcusRelay, LcusRelay]:
    """An entrance barrier on channel 1 and an exit barrier on channel 2 of one board."""
    devices = build_devices(
        parse_config(
            site_toml(tmp_path / "data")
            + _LCUS_CHANNEL.format(id="entry-barrier", lane="car-in", port=board.path, channel=1, wait=wait)
            + _LCUS_CHANNEL.format(id="exit-barrier", lane="car-out", port=board.path, channel=2, wait=wait),
            "site.toml",
        )
    )
    entry = next(r for r in devices.lanes["car-in"].relays if r.health.device == "entry-barrier")
    exit_ = next(r for r in devices.lanes["car-out"].relays if r.health.device == "exit-barrier")
    return devices, entry, exit_  # type: ignore[return-value]


def start_gateway(tmp_path: Path, devices: str) -> Gateway:
    """A gateway (not started) at the test site with `devices`, resident R1 holding card 0102030405."""
    cfg = parse_config(site_toml(tmp_path / "data") + devices, "site.toml")
    import_csv(
        cfg,
        [
            write_csv(
                tmp_path / "r.csv",
                """
            ref,building,unit,name
            R1,3栋,2单元,张三
            """,
            ),
            write_csv(
                tmp_path / "c.csv",
                """
            card,resident_ref
            0102030405,R1
            """,
            ),
        ],
    )
    return Gateway(cfg)


def query(gw: Gateway, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read on the worker, after everything queued before it."""
    future: Future[list[tuple[Any, ...]]] = gw.on_worker(lambda conn: conn.execute(sql, args).fetchall())
    return future.result(timeout=10)


def open_alarms(gw: Gateway, kind: str) -> list[str]:
    sql = "SELECT source FROM alarms WHERE kind = ? AND cleared_at IS NULL"
    return [r[0] for r in query(gw, sql, kind)]


@pytest.fixture
def gateways() -> Iterator[Callable[[Gateway], Gateway]]:
    """Start a gateway, stopped after the test."""
    running: list[Gateway] = []

    def run(gw: Gateway) -> Gateway:
        gw.start()
        running.append(gw)
        return gw

    yield run
    for gw in running:
        gw.stop()


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    factory = MockFactory()
    GpioBase.pin_factory = factory
    yield factory
    factory.reset()
    GpioBase.pin_factory = None


def gpio_io(inputs: str = "{ barrier_open = 6 }", held_open_s: float | None = None) -> str:
    """The car-in lane's barrier relay on GPIO 17, with its inputs (the barrier contact on 6, a loop
    detector on 5) and, if given, how long the barrier may stay up."""
    device = f"""
[[devices]]
id = "car-in-io"
lane = "car-in"
kind = "relay"
driver = "gpio"
pin = 17
inputs = {inputs}
bounce_s = 0
"""
    return device if held_open_s is None else device + f"held_open_s = {held_open_s}\n"


def left_propped_open(tmp_path: Path, pins: MockFactory, config: str) -> None:
    """A gateway ran, the door was propped open and alarmed, and the gateway stopped."""
    gw = start_gateway(tmp_path, config)
    gw.start()
    try:
        pins.pin(6).drive_low()
        wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm")
    finally:
        gw.stop()


def restart_with_barrier_up(
    tmp_path: Path, pins: MockFactory, gateways: Callable[[Gateway], Gateway], config: str
) -> Gateway:
    """The gateway started again while the barrier (or door) is still up: the mock pin, made anew
    with its pull-up, must be told so again before the new gateway looks."""
    again = start_gateway(tmp_path, config)
    pins.pin(6).drive_low()
    return gateways(again)
