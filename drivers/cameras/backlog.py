"""Frames a stream delivers late, in a burst after a stall, told from live ones by when they arrive.

A stream over TCP that stalls for less than read_timeout_s (a switch rebooting after a surge, an
uplink saturated) keeps its camera live; the frames the camera took meanwhile then arrive at once as
TCP catches up, seconds old, and a frame's only time is its arrival. The stream's own clock is no
better: OpenCV's position in an MJPEG stream counts frames at the declared rate, and an RTSP
camera's clock drifts from the box's, with frames lost in a stall. What no backlog can hide is its
pace: queued frames are read faster than the camera takes them. So after a silence longer than
max_frame_age_s (a backlog of it could hold frames that old), no frame is live until frames have
to be waited for again: until PACED frames in a row each come at least half the stream's usual
frame interval after the one before. Every frame until then is dropped, the newest of the burst as
well as its oldest: none is known to be fresh until the burst has drained.

A box that decodes more slowly than half the frame interval reads a backlog at nearly the camera's
own pace and cannot tell it from a live stream; a stream that pauses when nothing moves (a motion
server's MJPEG, a camera that dropped what it took in the stall) loses its first PACED frames
after the pause, a tenth of a second at 25 fps.
"""

from __future__ import annotations

import statistics
from collections import deque

USUAL_FRAMES = 25  # the frame intervals whose median is the stream's usual interval
PACED = 3  # frames in a row at the stream's pace: the burst has drained, the stream is live
MAX_FPS = 120.0  # a declared rate above this is no camera's (RTSP streams can report 90000)


class Backlog:
    """Whether each frame of one stream, arriving at a monotonic time, is live."""

    def __init__(self, max_age_s: float, declared_fps: float = 0.0) -> None:
        self._max_age_s = max_age_s
        self._declared = 1.0 / declared_fps if 1.0 <= declared_fps <= MAX_FPS else 0.0
        # Every interval but those inside a burst: a rare stall does not move the median, and a
        # camera set to one frame a second is measured as that, not taken for one stalling.
        self._intervals: deque[float] = deque(maxlen=USUAL_FRAMES)
        self._last: float | None = None
        self._behind = False  # after a stall: frames arrive queued until they are waited for
        self._paced = 0  # frames in a row since then that came at the stream's pace
        # When the backlog has drained at the latest: frames queued over a stall of S seconds,
        # read faster than the camera took them, are all read within S seconds. A stream whose
        # frames always come in twos (Wi-Fi aggregating its packets) never looks paced: without
        # this it stayed blind for good after its first stall.
        self._drained_by = 0.0

    def live(self, arrived: float) -> bool:
        last, self._last = self._last, arrived
        if last is None:
            return True
        gap = arrived - last
        if self._behind:
            # Half the usual interval: a live stream's jitter stays above it, a TCP catch-up (the
            # frames back to back, a few ms apart) far below; and PACED such gaps in a row, as one
            # alone may be this thread let wait by a busy box in the middle of a burst.
            self._paced = self._paced + 1 if gap >= self._quickest() / 2 else 0
            self._behind = self._paced < PACED and arrived < self._drained_by
        elif gap > max(self._max_age_s, 2 * self._usual()):
            self._behind = True  # the first frame after the silence may be the oldest of all
            self._paced = 0
            self._drained_by = arrived + gap
            self._intervals.append(gap)
            return False
        if not self._behind:
            self._intervals.append(gap)
        return not self._behind

    def _usual(self) -> float:
        """The stream's measured frame interval; the declared one until one is measured."""
        return statistics.median(self._intervals) if self._intervals else self._declared

    def _quickest(self) -> float:
        """The shorter of the declared and the measured interval: a stream that pauses when still
        (measured slow) is not taken for a backlog when it sends at its declared rate again."""
        return min((t for t in (self._declared, self._usual()) if t > 0), default=0.0)
