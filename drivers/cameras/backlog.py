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
since it ended, its frames count as paced when they come at the camera's pace on average. A stream
that slowed down (a camera with a "dynamic" frame rate: 25 fps while something moves, 1 fps while
the scene is still) takes its first slow gap for a stall; its next frame comes as long after, and
none sooner than the camera's interval: a queue delivers faster than the camera takes frames, so
nothing is queued and that frame is live. Either way the stream's usual interval is measured
afresh from the gaps that showed its pace, so that its new rate is no stall at every frame.

A gap longer than the frame interval never grows the lag: it is the camera's pace (a stream in
twos, a slower rate), not a queue falling further behind. The usual interval is the mean of the
stream's recent gaps (its frames' time over their count), not their median: the gaps of frames in
twos alternate (70 and 10 ms at 25 fps), and neither is the camera's 40 ms.

Limits: a link that catches up at less than 1/PACE times the camera's rate cannot be told from a
stream that paused, nor can a box that decodes more slowly than the rate a backlog comes at.
"""

from __future__ import annotations

import statistics
from collections import deque

USUAL_FRAMES = 25  # the frame intervals whose mean is the stream's usual interval
PACED = 3  # frames in a row at the camera's pace: the stream paused, nothing is queued
PACE = 0.9  # a gap this share of the frame interval or more is the camera's pace, not a backlog's
MAX_FPS = 120.0  # a declared rate above this is no camera's (RTSP streams can report 90000)


class Backlog:
    """Whether each frame of one stream, arriving at a monotonic time, is live."""

    def __init__(self, max_age_s: float, declared_fps: float = 0.0) -> None:
        self._max_age_s = max_age_s
        self._declared = 1.0 / declared_fps if 1.0 <= declared_fps <= MAX_FPS else 0.0
        # The gaps between live frames: a stall's silence and a backlog's gaps are no interval of
        # the camera's (one 3 s silence would move the mean of 25 by a tenth of a second).
        self._intervals: deque[float] = deque(maxlen=USUAL_FRAMES)
        self._last: float | None = None
        self._behind = False  # after a stall: frames arrive queued until the lag is made up
        self._lag = 0.0  # after a stall: how far the frame read is behind the camera
        self._silence = 0.0  # the stall's: how long no frame came
        self._queued = False  # after a stall: a frame came sooner than the camera takes them
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
            return not self._behind
        if gap > max(self._max_age_s, 2 * self._usual()):
            self._stalled(gap, arrived)
            return False  # the first frame after the silence may be the oldest of all
        self._intervals.append(gap)
        return True

    def _stalled(self, gap: float, arrived: float) -> None:
        self._behind = True
        self._lag = gap - self._usual()
        self._silence = gap
        self._queued = False
        self._gaps.clear()
        self._drained_by = arrived + gap

    def _catch_up(self, gap: float, arrived: float) -> None:
        """A frame read after a stall: the camera took it one interval after the one before, and
        it came `gap` after it; sooner, the lag shrinks by the difference. It is live once the lag
        is made up, or once the stream shows that nothing is queued: it comes at its own pace."""
        interval = self._usual()
        self._queued = self._queued or gap < PACE * interval
        self._lag = max(0.0, self._lag - max(0.0, interval - gap))
        self._gaps.append(gap)
        if self._slowed(gap, interval):
            self._paced([gap])
        elif self._at_pace(interval, arrived):
            self._paced(list(self._gaps))
        else:
            self._behind = self._lag > self._max_age_s

    def _slowed(self, gap: float, interval: float) -> bool:
        """Whether the stream came back slower, nothing queued: no frame since the stall came sooner
        than the camera's interval, and this one as long after the one before as half the silence,
        and twice the interval or more. A queue delivers faster than the camera takes frames; the
        silence is the stream's new pace (a camera dropping to 1 fps when its scene is still)."""
        return not self._queued and gap >= max(2 * interval, self._silence / 2)

    def _at_pace(self, interval: float, arrived: float) -> bool:
        """Whether the last PACED frames came at the camera's own pace: nothing queued to make up."""
        if len(self._gaps) < PACED:
            return False
        if arrived < self._drained_by:
            return all(gap >= PACE * interval for gap in self._gaps)
        return statistics.fmean(self._gaps) >= PACE * interval

    def _paced(self, gaps: list[float]) -> None:
        """Live again at the stream's own pace, which `gaps` show: its usual interval is measured
        afresh from them. The stall may have been the camera changing its rate, and what it sent
        before says nothing of its pace now."""
        self._behind = False
        self._intervals.clear()
        self._intervals.extend(gaps)

    def _usual(self) -> float:
        """The stream's measured frame interval; the declared one until one is measured. Measured,
        not declared, once it can be: FFmpeg declares 25 fps for any MJPEG over HTTP, and a
        backlog of a 10 fps camera drained at 1.5 times its rate would look paced at 25."""
        return statistics.fmean(self._intervals) if self._intervals else self._declared
