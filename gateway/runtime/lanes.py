"""Lane I/O: loop detectors, barrier feedback, and a guard's manual control of a lane.

- A car over the loop asks the lane's cameras for a fresh read (a car that stopped at the
  barrier is read again, even if its plate was seen a moment ago).
- A barrier that opens with no decision or guard command behind it in the last few seconds
  raises a `forced_open` alarm for the lane, cleared when the barrier closes again.
- Guard commands (open once, hold open, release) are written to the audit table first, then
  carried out, on the decision worker like every other write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from drivers.base import InputEmit, LaneInput
from gateway.alarm_texts import AlarmText
from gateway.runtime.devices import Devices
from gateway.store.alarms import clear_alarm, raise_alarm

log = logging.getLogger(__name__)

DEFAULT_GRACE_S = 10.0


class BarrierWatch:
    """When each lane was last told to open; time is a parameter (monotonic seconds)."""

    def __init__(self, grace_s: dict[str, float] | None = None, default_s: float = DEFAULT_GRACE_S):
        self._grace = grace_s or {}
        self._default = default_s
        self._last: dict[str, float] = {}
        self._held: set[str] = set()
        self._forced: set[str] = set()
        self._lock = threading.Lock()

    def commanded(self, lane: str, now: float) -> None:
        with self._lock:
            self._last[lane] = now

    def held(self, lane: str, on: bool, now: float) -> None:
        with self._lock:
            self._last[lane] = now
            (self._held.add if on else self._held.discard)(lane)

    def opened(self, lane: str, now: float) -> bool:
        """The barrier went up: True if nothing told it to (forced open)."""
        with self._lock:
            last = self._last.get(lane)
            expected = lane in self._held or (
                last is not None and now - last <= self._grace.get(lane, self._default)
            )
            if not expected:
                self._forced.add(lane)
            return not expected

    def closed(self, lane: str) -> bool:
        """The barrier came down: True if it had been forced open (the alarm can clear)."""
        with self._lock:
            was = lane in self._forced
            self._forced.discard(lane)
            return was


Worker = Callable[[Callable[[Any], Any]], "Future[Any]"]


class LaneControl:
    def __init__(self, devices: Devices, on_worker: Worker, now: Callable[[], datetime], lanes: set[str]):
        self.devices = devices
        self.barriers = BarrierWatch(devices.open_grace_s)
        self._on_worker = on_worker
        self._now = now
        self._lanes = lanes

    def start(self) -> None:
        for lane_id, lane in self.devices.lanes.items():
            for sensor in lane.sensors:
                sensor.watch(self.input_handler(lane_id, sensor.health.device))

    def input_handler(self, lane: str, device: str) -> InputEmit:
        def on_input(name: LaneInput, active: bool) -> None:
            if name == "car_present":
                self.car_present(lane, device, active)
            elif name == "barrier_open":
                self.barrier(lane, device, active)

        return on_input

    def car_present(self, lane: str, device: str, active: bool) -> None:
        log.debug("loop lane=%s device=%s car=%s", lane, device, active)
        if not active:
            return
        for camera in self.devices.lanes[lane].cameras:
            camera.request_read()

    def barrier(self, lane: str, device: str, is_open: bool) -> None:
        at = self._now()
        if is_open and self.barriers.opened(lane, time.monotonic()):
            text = AlarmText("forced_open", {"lane": lane, "device": device})
            log.warning("forced open lane=%s device=%s", lane, device)
            self._on_worker(lambda conn: raise_alarm(conn, "forced_open", lane, text, at))
        elif not is_open and self.barriers.closed(lane):
            self._on_worker(lambda conn: clear_alarm(conn, "forced_open", lane, at))

    def opening(self, lane: str) -> None:
        """A decision is about to open the lane (called before its relays are pulsed)."""
        self.barriers.commanded(lane, time.monotonic())
