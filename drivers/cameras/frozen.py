"""A camera whose picture froze, told from one whose lane is merely still.

A camera's encoder can hang while its stream goes on: it repeats the last picture at its usual rate,
byte for byte, and nothing drops or goes silent. The repeated picture shows the lane as it was (the
car that was at the barrier then), stamped as new. A real camera's frames are never alike, however
still the lane: the sensor's noise changes some pixels in every frame, at night (more gain) most of
all, and an encoder that re-codes a still scene changes its pixels too. So a frame is compared,
exactly, with the one before: a sample of its pixels as decoded (every SAMPLE_STEP-th pixel of every
SAMPLE_STEP-th row, not averaged: an average would smooth the noise away), cheap on a Pi at 25 fps.
A picture that has not changed for longer than max_frame_age_s is as old as its first arrival:
frozen, neither read nor kept as the newest frame, until a different one arrives. One frozen for
ALARM_AFTER_S puts the camera offline (a device_offline alarm), which its next different frame clears.
"""

from __future__ import annotations

import numpy as np

SAMPLE_STEP = 4  # one pixel in 16: a 1080p frame's sample is 0.4 MB
# A picture frozen this long is the camera's fault, not a still lane between two key frames (an
# H.264 camera codes a new one every second or two): the camera goes offline, with what to do.
ALARM_AFTER_S = 5.0

FROZEN = (
    "picture frozen: the camera sends the same image over and over (its encoder hung); "
    "reboot the camera or check its encoder settings"
)


def sample(image: np.ndarray) -> bytes:
    """The pixels a frame is compared by: exact values, no averaging."""
    return np.ascontiguousarray(image[::SAMPLE_STEP, ::SAMPLE_STEP]).tobytes()


class FrozenPicture:
    """Whether each frame of one stream, arriving at a monotonic time, shows a picture that froze."""

    def __init__(self, max_age_s: float, alarm_after_s: float = ALARM_AFTER_S) -> None:
        self._max_age_s = max_age_s
        self._alarm_after_s = alarm_after_s
        self._last = b""
        self._since = 0.0  # when the picture last changed

    def frozen(self, image: np.ndarray, arrived: float) -> bool:
        """Whether this frame repeats, exactly, a picture first seen more than max_age_s ago."""
        pixels = sample(image)
        if pixels != self._last:
            self._last, self._since = pixels, arrived
            return False
        return arrived - self._since > self._max_age_s

    def alarm(self, now: float) -> bool:
        """Whether the picture has been frozen long enough to be the camera's fault."""
        return bool(self._last) and now - self._since >= self._alarm_after_s
