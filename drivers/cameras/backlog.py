"""Frames a stream delivers late, after a stall, told from live ones by when they arrive.

A stream over TCP that stalls for less than read_timeout_s (a switch rebooting after a surge, an
uplink saturated) keeps its camera live; the frames the camera took meanwhile then arrive as TCP
catches up, seconds old, and a frame's only time is its arrival. The stream's own clock is no
better: OpenCV's position in an MJPEG stream counts frames at the declared rate, and an RTSP
camera's clock drifts from the box's, with frames lost in a stall. What no backlog can hide is its
pace: queued frames are read faster than the camera takes them. So the lag is tracked: after a
silence longer than max_frame_age_s, the frame read is that silence (less one frame interval)
behind the camera, and each frame after it that comes sooner than the camera's frame interval
makes up the difference. A frame is live again only once the lag is down to max_frame_age_s,
however the backlog drains: in one TCP gulp (milliseconds apart) or as fast as a recovering link
allows (1.5 times the camera's rate takes twice the stall to catch up). Every frame until then
is dropped, however new it looks; the last frames of a burst read in one gulp may already be
within max_frame_age_s of the camera, and are live.

A stream that merely paused (a motion server's MJPEG, a camera that dropped what it took in the
stall) comes back at the camera's own pace, making up nothing: it is live again once PACED frames
in a row have each come at least PACE of the frame interval after the one before, losing its first
frames after the pause (a tenth of a second at 25 fps). A stream whose frames come in twos (Wi-Fi
aggregating its packets) never comes paced frame by frame: once as long as the silence has passed
since it ended, its frames count as paced when they come at the camera's pace on average.

Limits: a link that catches up at less than 1/PACE times the camera's rate cannot be told from a
stream that paused, nor can a box that decodes more slowly than the rate a backlog comes at.
"""

from __future__ import annotations

import statistics
from collections import deque

USUAL_FRAMES = 25  # the frame intervals whose median is the stream's usual interval
PACED = 3  # frames in a row at the camera's pace: the stream paused, nothing is queued
PACE = 0.9  # a gap this share of the frame interval or more is the camera's pace, not a backlog's
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
        self._behind = False  # after a stall: frames arrive queued until the lag is made up
        self._lag = 0.0  # after a stall: how far the frame read is behind the camera
        self._gaps: deque[float] = deque(maxlen=PACED)  # the last gaps since the stall
        # From when a stream whose frames come in twos is judged on their average pace: as long
        # after the stall as the stall lasted.
        self._drained_by = 0.0

    def live(self, arrived: float) -> bool:
        last, self._last = self._last, arrived
        if last is None:
            return True
        gap = arrived - last
        if self._behind:
            self._catch_up(gap, arrived)
        elif gap > max(self._max_age_s, 2 * self._usual()):
            self._stalled(gap, arrived)
            return False  # the first frame after the silence may be the oldest of all
        if not self._behind:
            self._intervals.append(gap)
        return not self._behind

    def _stalled(self, gap: float, arrived: float) -> None:
        self._behind = True
        self._lag = gap - self._usual()
        self._gaps.clear()
        self._drained_by = arrived + gap
        self._intervals.append(gap)

    def _catch_up(self, gap: float, arrived: float) -> None:
        """A frame read after a stall: the camera took it one interval after the one before, and
        it came `gap` after it; the lag shrinks by the difference, and grows by another silence."""
        interval = self._usual()
        self._lag = max(0.0, self._lag - (interval - gap))
        self._gaps.append(gap)
        self._behind = self._lag > self._max_age_s and not self._at_pace(interval, arrived)

    def _at_pace(self, interval: float, arrived: float) -> bool:
        """Whether the last PACED frames came at the camera's own pace: nothing queued to make up."""
        if len(self._gaps) < PACED:
            return False
        if arrived < self._drained_by:
            return all(gap >= PACE * interval for gap in self._gaps)
        return statistics.fmean(self._gaps) >= PACE * interval

    def _usual(self) -> float:
        """The stream's measured frame interval; the declared one until one is measured. Measured,
        not declared, once it can be: FFmpeg declares 25 fps for any MJPEG over HTTP, and a
        backlog of a 10 fps camera drained at 1.5 times its rate would look paced at 25."""
        return statistics.median(self._intervals) if self._intervals else self._declared
