"""A captured frame, and the shape of what reads frames (a plate recognizer, for one)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only frames from a camera carry an image: a site without one needs no numpy
    import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    image: np.ndarray  # BGR, as OpenCV decodes it; never changed after capture
    seq: int  # counts frames since the camera started
    captured: float  # time.monotonic() when the frame arrived
    wall: float  # time.time() when the frame arrived
    # The decided plate's region, unmarked, where a plate reader annotated this frame: stored
    # beside the snapshot so that a site's own plates can become training crops.
    plate: np.ndarray | None = None

    def age(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.captured


# Reads a frame and says what it saw: (kind, value, confidence) such as ("plate", "皖A12345", 0.97).
# The plate recognizer attaches itself as one of these, e.g.
#   camera.attach(lambda f: [("plate", r.text, r.confidence) for r in rec.read_frame(f.image, roi)])
FrameConsumer = Callable[[Frame], Iterable[tuple[str, str, float]] | None]
