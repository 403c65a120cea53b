"""A plate lane for tests: the real camera driver, PlateReader and LaneVoter together, with a clock the
test sets, and a recognizer that reports what the test says is in view (the only fake: where the model
would be)."""

from __future__ import annotations

import types
from collections.abc import Callable

import numpy as np
import pytest

import drivers.cameras.capture as capture
import drivers.cameras.frame as frame_module
import gateway.runtime.plate_reading as plate_reading
from drivers.cameras.capture import OpenCvCamera
from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from gateway.runtime.plate_reading import PlateReader
from plates.reading import Reading

AT_BARRIER = (600, 400, 120, 40)
BEHIND = (620, 200, 80, 28)
P = "皖A12345"
START = 1000.0


def _nothing() -> None:
    pass


class Recognizer:
    """Reports the plates the test puts in view, and counts the frames it was asked to read."""

    def __init__(self) -> None:
        self.in_view: list[Reading] = []
        self.calls = 0
        self.while_reading: Callable[[], object] = _nothing  # what happens at the lane meanwhile

    def read_frame(self, image: np.ndarray, roi: object = None) -> list[Reading]:
        self.while_reading()
        self.calls += 1
        return list(self.in_view)


class Lane:
    """One plate camera at a lane; `at` is seconds since the test began."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, **camera: object) -> None:
        self.now = START
        clock = types.SimpleNamespace(monotonic=lambda: self.now, time=lambda: 1.7e9 + self.now)
        for module in (capture, plate_reading, frame_module):
            monkeypatch.setattr(module, "time", clock)
        self.recognizer = Recognizer()
        self.reader = PlateReader(None, self.recognizer)  # type: ignore[arg-type]
        health = DeviceHealth("car-out-camera", "camera", "car-out", "opencv")
        self.camera = OpenCvCamera(health, "usb:0", **camera)  # type: ignore[arg-type]
        self.camera.attach(self.reader, self.reader.annotate)
        self.presented: list[tuple[float, str]] = []
        self.on_present = lambda value: None
        self._seq = 0
        self._image = np.zeros((720, 1280, 3), np.uint8)

    def _emit(self, kind: str, value: str, confidence: float) -> None:
        self.presented.append((round(self.now - START, 2), value))
        self.on_present(value)

    def frames(
        self,
        start: float,
        end: float,
        in_view: list[str | Reading],
        step: float = 0.1,
        read_s: float = 0.0,
        while_read: Callable[[], object] = _nothing,
    ) -> None:
        """The camera delivers a frame every `step` seconds from `start` to before `end`. Reading one
        takes the recognizer `read_s` on the lane's clock, `while_read` happening meanwhile; the frames
        that came during a slow read are passed over, as the camera hands the recognizer the newest
        frame whenever it is free."""
        self.recognizer.in_view = [
            p if isinstance(p, Reading) else Reading(p, "blue", 0.99, AT_BARRIER) for p in in_view
        ]

        def reading() -> None:
            self.now += read_s
            while_read()

        self.recognizer.while_reading = reading
        try:
            for i in range(round((end - start) / step)):
                at = START + start + i * step
                if read_s and at < self.now:  # the recognizer was still busy
                    continue
                self.now = at
                self._seq += 1
                self.camera.consume_frame(
                    Frame(self._image, self._seq, self.now, 1.7e9 + self.now), self._emit
                )
        finally:
            self.recognizer.while_reading = _nothing

    def loop(self, at: float) -> None:
        """The lane's loop detector: a car has arrived."""
        self.now = START + at
        self.camera.request_read()

    def times(self, plate: str = P) -> list[float]:
        return [t for t, value in self.presented if value == plate]
