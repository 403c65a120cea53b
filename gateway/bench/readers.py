"""`gateway bench readers`: a card frame's last byte on a real pty to the decision made, with a
camera streaming MJPEG into the runtime meanwhile; then a reader unplugged and plugged back.

The card reader and the camera are the real drivers the site config builds (serial-reader on a
pseudo-terminal behind a by-id style symlink, opencv on an MJPEG stream served over HTTP here).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import threading
import time
import tty
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from drivers.readers.frames import em4100_frame
from gateway.bench.common import (
    count,
    duration,
    frame_size,
    fsync_p99_ms,
    in_work_dir,
    per_second,
    percentile,
    report,
    rounded,
    work_folder,
    write_bench_config,
)
from gateway.config import load_config
from gateway.core import Presented
from gateway.demo.seed import write_site_csvs
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cards", type=count, default=1000, help="card frames to time")
    p.add_argument("--camera-fps", type=per_second, default=20.0, help="background camera load")
    p.add_argument("--frame-size", type=frame_size, default="1280x720", help="camera frame size, WxH")
    p.add_argument("--unplugs", type=count, default=5, help="unplug/replug cycles to time")
    p.add_argument("--unplugged-s", type=duration, default=3.0, help="how long each unplug lasts")
    p.add_argument(
        "--sync",
        choices=["full", "normal"],
        default="full",
        help="storage.sync of the bench site (full: an fsync per commit)",
    )
    p.add_argument("--work-dir", type=work_folder, help="keep the generated data here")


def bench_readers(args: argparse.Namespace) -> int:
    return in_work_dir(args, "gateway-bench-readers-", _run)


class _Pty:
    """A serial device the bench plugs in and out: a pty behind a symlink."""

    def __init__(self, link: Path):
        self.link = link
        self.master = self.slave = -1

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.link.unlink(missing_ok=True)
        self.link.symlink_to(os.ttyname(self.slave))

    def unplug(self) -> None:
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)


def _camera_process(fps: float, size: tuple[int, int]) -> tuple[multiprocessing.Process, str]:
    """The camera in a process of its own, as a real camera is: it costs the gateway no GIL."""
    ready: multiprocessing.Queue[int] = multiprocessing.Queue()
    proc = multiprocessing.Process(target=_serve_camera, args=(fps, size, ready), daemon=True)
    proc.start()
    port = ready.get(timeout=30)
    return proc, f"http://127.0.0.1:{port}/video.mjpg"


def _serve_camera(fps: float, size: tuple[int, int], ready: multiprocessing.Queue[int]) -> None:
    server = _camera_server(fps, size)
    ready.put(server.server_address[1])
    threading.Event().wait()


def _camera_server(fps: float, size: tuple[int, int]) -> ThreadingHTTPServer:
    # Imported here: `gateway run` builds the bench commands' arguments from this module too, and
    # must not carry OpenCV for it.
    import cv2
    import numpy as np

    rng = np.random.default_rng(5)
    # Noise compresses badly, so each frame costs the decoder what a busy lane scene would.
    jpegs = [
        cv2.imencode(
            ".jpg", rng.integers(0, 255, (size[1], size[0], 3), np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 80]
        )[1].tobytes()
        for _ in range(10)
    ]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            due = time.monotonic()
            try:
                for i in range(10**9):
                    jpeg = jpegs[i % len(jpegs)]
                    self.wfile.write(
                        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                        + str(len(jpeg)).encode()
                        + b"\r\n\r\n"
                        + jpeg
                        + b"\r\n"
                    )
                    due += 1 / fps
                    time.sleep(max(0.0, due - time.monotonic()))
            except OSError:
                pass

        def log_message(self, *a: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _devices_toml(port: Path, url: str) -> str:
    return f"""
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
debounce_s = 0

[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "{url}"
"""


class _TimedGateway(Gateway):
    """The real runtime, noting when the driver handed the card over and when it was decided."""

    presented_at = 0.0
    decided_at: dict[str, float] = {}

    def present(self, p: Presented) -> bool:
        self.presented_at = time.perf_counter()
        return super().present(p)

    def _decide_one(self, p: Presented) -> AccessEvent:
        ev = super()._decide_one(p)  # looked up, decided and written, not yet committed
        self.decided_at[ev.event_id] = time.perf_counter()
        return ev


def _wait(condition: Any, timeout: float = 30.0, step: float = 0.001) -> float:
    """Seconds until condition() held (polling every `step`)."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the bench waited too long; is the machine overloaded?")
        time.sleep(step)
    return time.perf_counter() - start


def _run(args: argparse.Namespace, work: Path) -> int:
    width, height = args.frame_size
    camera_proc, url = _camera_process(args.camera_fps, (width, height))
    reader = _Pty(work / "ttyUSB-bench-reader")
    reader.plug()
    config = write_bench_config(work)
    config.write_text(config.read_text(encoding="utf-8") + _devices_toml(reader.link, url), encoding="utf-8")
    cfg = load_config(config)
    cfg = cfg.model_copy(update={"storage": cfg.storage.model_copy(update={"sync": args.sync})})
    paths = write_site_csvs(work / "csv", residents=500, cards=1000, slots=400)
    import_csv(cfg, list(paths.values()))

    gw = _TimedGateway(cfg)
    gw.decided_at = {}
    decided: queue.Queue[tuple[float, AccessEvent]] = queue.Queue()
    gw.subscribe(lambda ev: decided.put((time.perf_counter(), ev)))
    camera = gw.devices.lanes["car-in"].cameras[0]
    camera.attach(lambda frame: None)  # a frame consumer runs, as the plate recognizer would
    health = {h.device: h for h in gw.devices.health}
    gw.start()
    try:
        _wait(lambda: health["door-reader"].online and camera.latest() is not None)
        cards = [
            r[0]
            for r in gw.conn.execute(
                "SELECT value FROM credentials WHERE kind = 'card' ORDER BY id LIMIT 1000"
            )
        ]
        frames_before, began = health["car-in-camera"].counters["frames"], time.perf_counter()
        timings = _time_cards(gw, reader, decided, cards, args.cards)
        camera_fps = (health["car-in-camera"].counters["frames"] - frames_before) / (
            time.perf_counter() - began
        )
        offline_s, online_s = _time_unplugs(reader, health["door-reader"], decided, cards, args)
    finally:
        gw.stop()
        camera_proc.terminate()
        camera_proc.join(timeout=5)
        reader.unplug()
    presented, decision, recorded = (list(t) for t in zip(*timings, strict=True))
    figures = {
        "cards": len(timings),
        "card_wire_to_presented_p99_ms": rounded(percentile(presented, 99), 3),
        "card_wire_to_decision_p50_ms": rounded(percentile(decision, 50), 3),
        "card_wire_to_decision_p99_ms": rounded(percentile(decision, 99), 3),
        "card_wire_to_recorded_p50_ms": rounded(percentile(recorded, 50), 3),
        "card_wire_to_recorded_p99_ms": rounded(percentile(recorded, 99), 3),
        "card_wire_to_recorded_max_ms": rounded(max(recorded, default=None), 3),
        "camera_frames_per_s": round(camera_fps, 1),
        "camera_frame_size": f"{width}x{height}",
        "disk_fsync_p99_ms": rounded(fsync_p99_ms(work), 3),
        "unplug_to_offline_max_s": rounded(max(offline_s, default=None), 3),
        "replug_to_online_max_s": rounded(max(online_s, default=None), 3),
        "replug_to_online_p50_s": rounded(percentile(online_s, 50), 3),
        "sync": cfg.storage.sync,
    }
    report(
        figures,
        args.json,
        [
            "from the frame's last byte written to the pty: presented = the reader driver hands the "
            "card to the runtime; decision = looked up, decided and written in the transaction; "
            f"recorded = committed (synchronous={cfg.storage.sync}), gate pulsed, listeners told",
            "recorded includes one disk flush per commit with sync=full: see disk_fsync_p99_ms",
            f"meanwhile the camera decodes {width}x{height} MJPEG and a frame consumer reads it",
            f"each unplug lasts {args.unplugged_s} s or up to 2 s more, so the port comes back at "
            "different points of the reader's backoff (longest wait: reconnect_max_s = 2 s)",
        ],
    )
    return 0


def _time_cards(
    gw: _TimedGateway, reader: _Pty, decided: queue.Queue[tuple[float, AccessEvent]], cards: list[str], n: int
) -> list[tuple[float, float, float]]:
    """(presented, decision, recorded) milliseconds after the last byte, for each card."""
    timings = []
    for i in range(n + 20):
        frame = em4100_frame(cards[i % len(cards)])
        os.write(reader.master, frame[:-1])
        time.sleep(0.002)  # the reader has the frame but its last byte
        sent = time.perf_counter()
        os.write(reader.master, frame[-1:])
        at, ev = decided.get(timeout=10)
        if i >= 20:  # the first ones warm caches and connections
            timings.append(
                (
                    (gw.presented_at - sent) * 1000,
                    (gw.decided_at.pop(ev.event_id) - sent) * 1000,
                    (at - sent) * 1000,
                )
            )
        time.sleep(0.01)
    return timings


def _time_unplugs(
    reader: _Pty,
    health: Any,
    decided: queue.Queue[tuple[float, AccessEvent]],
    cards: list[str],
    args: argparse.Namespace,
) -> tuple[list[float], list[float]]:
    offline, online = [], []
    for i in range(args.unplugs):
        start = time.perf_counter()
        reader.unplug()
        _wait(lambda: not health.online)
        offline.append(time.perf_counter() - start)
        # Unplugged for different lengths, so the replug falls at different points of the
        # reader's backoff (its waits grow to 2 s): the max is then near the worst case.
        time.sleep(args.unplugged_s + 2.0 * i / max(args.unplugs, 1))
        start = time.perf_counter()
        reader.plug()
        _wait(lambda: health.online)
        online.append(time.perf_counter() - start)
        os.write(reader.master, em4100_frame(cards[i % len(cards)]))  # and it reads again
        decided.get(timeout=10)
    return offline, online
