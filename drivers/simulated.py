"""Simulated devices: the demo and the tests use them where no hardware is configured."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.base import Emit
from drivers.health import DeviceHealth

log = logging.getLogger(__name__)

# Picks what a simulated reader or camera shows next: (kind, value, confidence), or None for nothing.
Chooser = Callable[[], tuple[str, str, float] | None]


class SimulatedSource:
    """Presents credentials at random moments, on average `per_minute` a minute."""

    def __init__(self, health: DeviceHealth, per_minute: float, choose: Chooser, seed: int | None = None):
        self.health = health
        self._per_minute = per_minute
        self._choose = choose
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._random = random.Random(seed)

    def start(self, emit: Emit) -> None:
        self.health.set_online()
        if self._per_minute <= 0:
            return
        self._thread = threading.Thread(
            target=self._run, args=(emit,), name=f"sim-{self.health.device}", daemon=True
        )
        self._thread.start()

    def _run(self, emit: Emit) -> None:
        mean_gap = 60.0 / self._per_minute
        while not self._stop.wait(self._random.expovariate(1.0 / mean_gap)):
            shown = self._choose()
            if shown is None:
                continue
            self.health.seen()
            emit(*shown)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class SimulatedRelay:
    """Records its pulses; with `pulse_log`, appends each one to a file before returning (tests)."""

    def __init__(self, health: DeviceHealth, pulse_log: Path | None = None):
        self.health = health
        self.pulses: list[tuple[float, float]] = []
        self.held = False
        self._pulse_log = pulse_log
        health.set_online()

    def pulse(self, seconds: float, ref: str = "") -> None:
        self.pulses.append((time.time(), seconds))
        self.health.count("pulses")
        if self._pulse_log is not None:
            with open(self._pulse_log, "a", encoding="utf-8") as f:
                f.write(f"{time.time():.6f} {seconds} {ref}\n")
                f.flush()
        log.debug("relay pulse device=%s seconds=%s", self.health.device, seconds)

    def hold(self) -> None:
        self.held = True
        self.health.count("holds")

    def release(self) -> None:
        self.held = False

    def close(self) -> None:
        self.held = False


class SimulatedDisplay:
    def __init__(self, health: DeviceHealth):
        self.health = health
        self.shown: list[list[str]] = []
        health.set_online()

    def show(self, lines: list[str]) -> None:
        self.shown.append(lines)
        del self.shown[:-20]

    def close(self) -> None:
        pass
