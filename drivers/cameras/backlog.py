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
the scene is still) takes its first slow gap for a stall; its next frame comes as long after
(within PACE), and none sooner than the camera's interval: a queue delivers faster than the camera
takes frames, so nothing is queued and that frame is live. The frame after it must come as far
apart again: much sooner, it is a queue's after all (a link recovering with a second silence as
long as the first), and the stream is behind again by both silences. Either way the stream's
usual interval is measured afresh from the gaps that showed its pace, so that its new rate is no
stall at every frame.

A gap longer than the frame interval never grows the lag: it is the camera's pace (a stream in
twos, a slower rate), not a queue falling further behind; but a second silence before the lag is
made up (TCP retransmitting as the link recovers, longer than max_frame_age_s and than twice the
interval) is more of the stall, and grows it. The usual interval is the mean of the stream's
recent gaps (its frames' time over their count), not their median: the gaps of frames in twos
alternate (70 and 10 ms at 25 fps), and neither is the camera's 40 ms. Their longest and shortest
tenth are left out of it: a frame skipped once (half a second as an IR filter switches) is no pace
of the camera's, and would have a later backlog's lag made up faster than it is.

Limits: a link that catches up at less than 1/PACE times the camera's rate cannot be told from a
stream that paused, nor can a box that decodes more slowly than the rate a backlog comes at. A
second silence as long as the first lets its one frame be read (it is a camera that slowed down,
until the next frame). A stream at a low rate (a dynamic-FPS camera idling at 1 fps) sees no stall
in a silence shorter than twice its interval: a backlog after it, the camera back at 25 fps, is
read as live; its frames' true interval is unknown until the queue has drained.
"""

from __future__ import annotations

import statistics
from collections import deque

USUAL_FRAMES = 25  # the frame intervals whose mean is the stream's usual interval
TRIMMED = 0.1  # the share of those intervals, longest and shortest, left out of the mean
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
        # After a stream taken for one that slowed down: its usual interval from before, should the
        # next frame show that it was a queue after all.
        self._slowed_from: list[float] | None = None
        self._gaps: deque[float] = deque(maxlen=PACED)  # the last gaps since the stall
        # From when a stream whose frames come in twos is judged on their average pace: as long
        # after the stall as the stall lasted.
        self._drained_by = 0.0

    def live(self, arrived: float) -> bool:
        last, self._last = self._last, arrived
        if last is None:
            return True
        gap = arrived - last
        if self._slowed_from is not None:
            self._confirm_slowed(gap)
        if self._behind:
            self._catch_up(gap, arrived)
            return not self._behind
        if gap > self._stall_s(self._usual()):
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
            self._silent_again(gap, arrived, interval)  # should the next frame show a queue
            self._slowed_from = list(self._intervals)
            self._paced([gap])
        elif gap > self._stall_s(interval):
            self._silent_again(gap, arrived, interval)
        elif self._at_pace(interval, arrived):
            self._paced(list(self._gaps))
        else:
            self._behind = self._lag > self._max_age_s

    def _silent_again(self, gap: float, arrived: float, interval: float) -> None:
        """The stream fell silent again before it caught up (TCP retransmitting, its timer doubling,
        as the link recovers): the silence is more of the stall, not the camera's pace, and the
        frames behind it are that much older."""
        self._lag += gap - interval
        self._gaps.clear()
        self._drained_by = max(self._drained_by, arrived + self._lag)

    def _slowed(self, gap: float, interval: float) -> bool:
        """Whether the stream came back slower, nothing queued: no frame since the stall came sooner
        than the camera's interval, and this one as long after the one before as the silence lasted
        (within PACE), and twice the interval or more. A queue delivers faster than the camera takes
        frames; the silence is the stream's new pace (a camera dropping to 1 fps when its scene is
        still). A link that recovers with a second silence as long as the first looks the same for
        one frame: `_confirm_slowed` judges the next."""
        steady = PACE * self._silence <= gap and PACE * gap <= self._silence
        return not self._queued and steady and gap >= 2 * interval

    def _confirm_slowed(self, gap: float) -> None:
        """The frame after one taken for a stream that slowed down: as far apart again or more, it
        did. Much sooner, the frames were queued after all, the second silence more of the stall:
        the stream is behind again by both, at the camera's interval from before."""
        intervals, self._slowed_from = self._slowed_from or [], None
        if gap >= PACE * self._usual():
            return
        self._behind = True
        self._queued = True
        self._intervals.clear()
        self._intervals.extend(intervals)

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

    def _stall_s(self, interval: float) -> float:
        """A silence longer than this may have queued frames: longer than max_frame_age_s, and than
        twice the camera's interval (at 1 fps, a gap of 1.5 s is its pace, one frame late)."""
        return max(self._max_age_s, 2 * interval)

    def _usual(self) -> float:
        """The stream's measured frame interval; the declared one until one is measured. Measured,
        not declared, once it can be: FFmpeg declares 25 fps for any MJPEG over HTTP, and a
        backlog of a 10 fps camera drained at 1.5 times its rate would look paced at 25."""
        return _trimmed_mean(self._intervals) if self._intervals else self._declared


def _trimmed_mean(gaps: deque[float]) -> float:
    """The mean of `gaps` less their longest and shortest TRIMMED share: a frame the camera skipped
    now and then (half a second as its IR filter switches at dusk) is none of its pace, and would
    make a backlog's lag seem made up faster than it is; frames in twos (70 and 10 ms apart at
    25 fps) still average to the camera's 40 ms."""
    ordered = sorted(gaps)
    cut = int(len(ordered) * TRIMMED)
    return statistics.fmean(ordered[cut : len(ordered) - cut])
