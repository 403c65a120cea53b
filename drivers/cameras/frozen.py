"""A camera whose picture froze, told from one whose lane is merely still.

A camera's encoder can hang while its stream goes on: it repeats the last picture at its usual rate,
byte for byte, and nothing drops or goes silent. The repeated picture shows the lane as it was (the
car that was at the barrier then), stamped as new. A real camera's frames are never alike, however
still the lane: the sensor's noise changes some pixels in every frame, at night (more gain) most of
all, and an encoder that re-codes a still scene changes its pixels too. So a frame is compared,
exactly, with the one before: a sample of its pixels as decoded (every SAMPLE_STEP-th pixel of every
SAMPLE_STEP-th row, not averaged: an average would smooth the noise away), cheap on a Pi at 25 fps.

A camera whose codec codes a still lane as exact repeats between key frames (docs/hardware.md asks
for one at least every 4 s) repeats its picture too, and its lane is as the picture shows. So a
repeat is never read again (it holds nothing new, and read again it would count as a second look at
the plate), but for ALARM_AFTER_S it is the lane still as its first frame showed it (Picture.STILL:
the cars read in it are still there). Repeated for ALARM_AFTER_S, whatever max_frame_age_s, the
picture is frozen (Picture.FROZEN): the camera's fault, it goes offline (a device_offline alarm),
and its next different frame brings it back.

A stream's first picture says nothing of the camera: a picture that froze before the stream opened
(the gateway restarted, or an NVR cut the session, while the encoder hung) comes as the first frame
of the new stream, the car at the barrier then in it. So it is only the reference the next frames
are compared with (Picture.FIRST), neither read nor taken as the camera heard from, and a camera is
live from its picture's first change (a live camera's second frame: its noise differs). Unchanged
for ALARM_AFTER_S from the first frame, it is frozen as any other.
"""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np

SAMPLE_STEP = 4  # one pixel in 16: a 1080p frame's sample is 0.4 MB
# A picture repeated this long is the camera's fault, not a still lane between two key frames (an
# H.264 camera codes a new one every second or two; docs/hardware.md asks for one every 4 s).
ALARM_AFTER_S = 5.0

FROZEN = (
    "picture frozen: the camera sends the same image over and over (its encoder hung); "
    "reboot the camera or check its encoder settings"
)


class Picture(Enum):
    """What a frame shows, against the frames before it."""

    # The stream's first picture, or it repeated for less than ALARM_AFTER_S: not yet known live.
    FIRST = "first"
    NEW = "new"  # a picture not seen in the frame before: a live frame, to be read
    STILL = "still"  # the picture before, repeated for less than ALARM_AFTER_S: the lane unchanged
    FROZEN = "frozen"  # repeated for ALARM_AFTER_S or longer: the camera's encoder hung


def sample(image: np.ndarray) -> np.ndarray:
    """The pixels a frame is compared by: every SAMPLE_STEP-th of every SAMPLE_STEP-th row, exact
    values, no averaging. OpenCV's nearest-neighbour resize picks them in one pass, in a third of
    the time numpy's strided copy of the same pixels takes (0.2 against 0.5 ms a 1080p frame)."""
    height, width = image.shape[:2]
    size = (max(1, width // SAMPLE_STEP), max(1, height // SAMPLE_STEP))
    return cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)


class FrozenPicture:
    """What each frame of one stream, arriving at a monotonic time, shows: a new picture, the one
    before repeated (still), or a picture that froze."""

    def __init__(self, alarm_after_s: float = ALARM_AFTER_S) -> None:
        self._alarm_after_s = alarm_after_s
        self._last: np.ndarray | None = None
        self._since = 0.0  # when the picture last changed
        self._changed = False  # the picture has changed since the stream's first frame
        self._frozen = False  # the last frame judged repeated the picture for alarm_after_s

    @property
    def moving(self) -> bool:
        """Whether the stream shows a live camera: its picture has changed since its first frame,
        and not frozen since. Until then, no frame of it (a backlog's neither) is the camera heard
        from."""
        return self._changed and not self._frozen

    def judge(self, image: np.ndarray, arrived: float) -> Picture:
        """Whether this frame shows a new picture, or repeats exactly the one before: for less than
        alarm_after_s since that picture first came (still; the stream's first picture, first), or
        for longer (frozen)."""
        pixels = sample(image)
        if self._last is None:
            self._last, self._since = pixels, arrived
            return Picture.FIRST
        if not np.array_equal(pixels, self._last):
            self._last, self._since = pixels, arrived
            self._changed, self._frozen = True, False
            return Picture.NEW
        if arrived - self._since >= self._alarm_after_s:
            self._frozen = True
            return Picture.FROZEN
        return Picture.STILL if self._changed else Picture.FIRST
