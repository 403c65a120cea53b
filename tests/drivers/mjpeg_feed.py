"""An MJPEG camera over real HTTP whose feed can go wrong frame by frame: live frames carry sensor
noise (no two alike, as a real camera's), a frozen feed repeats one JPEG byte for byte, and a
single truncated JPEG (its first bytes only) can be slipped into an otherwise healthy stream."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

FPS = 25.0
CAR, EMPTY = 200, 20  # frame brightness: a car with its plate at the barrier, or an empty lane


def noisy_jpeg(level: int, rng: np.random.Generator) -> bytes:
    image = np.clip(rng.normal(level, 6, (120, 160, 3)), 0, 255).astype(np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


class QuietHandler(BaseHTTPRequestHandler):
    """A camera's HTTP handler that keeps its requests out of the test's output."""

    def log_message(self, *args: Any) -> None:
        pass


def send_part(wfile: Any, jpeg: bytes) -> None:
    """One JPEG as the next part of a multipart MJPEG stream (boundary `frame`)."""
    wfile.write(
        b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
        + str(len(jpeg)).encode()
        + b"\r\n\r\n"
        + jpeg
        + b"\r\n"
    )


def serve_mjpeg(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """A camera's HTTP server on a free loopback port, serving in a thread; and its stream's URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/video.mjpg"


class FeedCamera:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.level = EMPTY
        self.frozen = False
        self.corrupt_next = False
        self.sent = 0
        self.stop = threading.Event()
        self.cut = threading.Event()  # the stream drops: connections end, new ones are refused
        feed = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if feed.cut.is_set():
                    self.send_error(503)
                    return
                rng = np.random.default_rng()
                last = noisy_jpeg(feed.level, rng)
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    while not feed.stop.is_set() and not feed.cut.is_set():
                        with feed.lock:
                            frozen, level = feed.frozen, feed.level
                            corrupt, feed.corrupt_next = feed.corrupt_next, False
                        if not frozen:
                            last = noisy_jpeg(level, rng)
                        jpeg = last
                        if corrupt:  # one frame the camera sent cut short: its first bytes only
                            jpeg = jpeg[: len(jpeg) // 50]
                        send_part(self.wfile, jpeg)
                        self.wfile.flush()
                        feed.sent += 1
                        time.sleep(1 / FPS)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        self.server, self.url = serve_mjpeg(Handler)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
