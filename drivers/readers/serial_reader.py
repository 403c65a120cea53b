"""A card reader or QR scanner on a serial port: bytes in, debounced credentials out, and it never
gives up.

A vanished port (USB unplugged, cable cut on a USB adapter) puts the device offline, which raises
an alarm; the reader then reopens the port with backoff by itself. Bad frames are counted in the
device's health (`bad_frames`, `noise_bytes`), never raised.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

import serial

from drivers.base import Emit
from drivers.health import DeviceHealth
from drivers.readers.debounce import Debouncer
from drivers.readers.frames import Scanner
from drivers.serialport import Backoff, PortError, explain, open_port

log = logging.getLogger(__name__)

STABLE_S = 5.0  # a port read this long without an error counts as working, even with no card shown


class SerialReader:
    def __init__(
        self,
        health: DeviceHealth,
        port: str,
        baudrate: int,
        scan: Scanner,
        *,
        debounce_s: float = 3.0,
        reconnect_max_s: float = 2.0,
    ):
        self.health = health
        self.port = port
        self._baudrate = baudrate
        self._scan = scan
        self._debounce = Debouncer(debounce_s)
        self._backoff = Backoff(0.1, reconnect_max_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, emit: Emit) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(emit,), name=f"reader-{self.health.device}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self, emit: Emit) -> None:
        while not self._stop.is_set():
            try:
                port = open_port(self.port, self._baudrate, timeout=0.2)
            except PortError as exc:
                self.health.set_offline(str(exc))
                self._stop.wait(self._backoff.next())
                continue
            try:
                self._read(port, emit)
            except (serial.SerialException, OSError) as exc:
                self.health.count("disconnects")
                self.health.set_offline(explain(self.port, exc))
            finally:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
            self._stop.wait(self._backoff.next())

    def _read(self, port: serial.Serial, emit: Emit) -> None:
        buf = b""
        opened = time.monotonic()
        while not self._stop.is_set():
            # Blocks until at least one byte (or the timeout): a frame's last byte is seen at once.
            data = port.read(port.in_waiting or 1)
            # Online, and the backoff reset, only once reads work: a port that opens but fails
            # every read (a second program on it, an adapter in a bad state) stays offline with
            # waits that grow, instead of raising and clearing an alarm ten times a second.
            if not self.health.online:
                self.health.set_online()
            if data or time.monotonic() - opened > STABLE_S:
                self._backoff.reset()
            if not data:
                continue
            self.health.seen()
            found = self._scan(buf + data)
            buf = found.rest
            if found.bad:
                self.health.count("bad_frames", found.bad)
            if found.noise:
                self.health.count("noise_bytes", found.noise)
            for value in found.values:
                self.health.count("reads")
                if self._debounce.accept(value, time.monotonic()):
                    emit(found.kind, value, 1.0)
                else:
                    self.health.count("repeats")
