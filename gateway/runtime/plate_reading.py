"""Plates at a vehicle lane: a camera's frames in, one plate presentation per passing vehicle out.

The recognizer reads every plate in the lane's region of each frame (its bounding rectangle grown
by a plate's reach, so a plate over the lane's line is read whole); the lane voter keeps the plates
whose centre is in the lane, combines one vehicle's readings across frames and decides once, as
soon as they agree enough. The frame the decision came from is kept with the plate's box drawn on
it, for the event's snapshot, and the plate's own region, unmarked, beside it (`gateway
export-plates` makes training crops of those).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

import cv2
import numpy as np

from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth
from plates.detect import grown
from plates.lane import LaneVoter
from plates.recognizer import Recognizer

log = logging.getLogger(__name__)

Point = tuple[int, int]
# The plate crop kept beside a snapshot: the box grown by these shares of its width (each side)
# and height (above and below), as the recognizer's first look frames it.
CROP_MARGIN_X, CROP_MARGIN_Y = 0.08, 0.15
# How far past the lane region's bounding rectangle its plates are searched, as shares of the
# frame's width: half of a plate a quarter of the frame wide (sideways), half of such a plate with
# two rows (up and down). A plate whose centre is in the lane (the voter's rule) reaches past the
# lane's line by half its size, and a plate cut by the searched rectangle is misread or missed.
SEARCH_REACH_X, SEARCH_REACH_Y = 1 / 8, 1 / 16


class LaneCamera(Protocol):
    """What a plate reader asks of the camera whose frames it reads (OpenCvCamera)."""

    @property
    def continuous(self) -> bool: ...

    def watching(self, within_s: float) -> bool: ...


class PlateReader:
    """A FrameConsumer for OpenCvCamera.attach(): frames -> [("plate", text, confidence)]."""

    # Its lane voter already decides once per passage (and again for a car left standing, or when
    # the loop asks): the camera presents each decision as it is, with no repeat filter of its own.
    decides_passages = True

    def __init__(self, roi: Sequence[Point] | None = None, recognizer: Recognizer | None = None):
        self._recognizer = recognizer or Recognizer()
        self._roi: list[tuple[int, int]] | None = [(int(p[0]), int(p[1])) for p in roi] if roi else None
        self._voter = LaneVoter(roi=self._roi)
        self._lock = threading.Lock()
        self._marked: tuple[int, tuple[int, int, int, int]] | None = None
        self._in_time: Callable[[Frame], bool] = lambda frame: True
        self._camera: LaneCamera | None = None
        self._read_at = 0.0  # when the last frame read was taken (monotonic)
        self._read_seq = 0  # the last frame read (Frame.seq), whose picture a repeat may still show
        # The frame size last judged against the lane's roi, and the note shown while the roi lies
        # outside frames of that size ("" while it is inside): judged once per size, not per frame.
        self._judged: tuple[int, int] | None = None
        self._outside = ""

    def only_fresh(self, in_time: Callable[[Frame], bool]) -> None:
        """The camera's test, asked as a frame's reading ends, of whether it may still be acted on
        (OpenCvCamera.attach). A frame that went stale while it was read is dropped before the
        voter counts it: dropped after a decision, the car would stay decided, never presented."""
        self._in_time = in_time

    def __call__(self, frame: Frame) -> list[tuple[str, str, float]]:
        search = search_region(self._roi, frame.image.shape) if self._roi else None
        # A lane wholly outside the picture holds no plate's centre: nothing to read.
        readings = [] if self._roi_outside(frame) else self._recognizer.read_frame(frame.image, search)
        if not self._in_time(frame):
            return []  # the lane has moved on while the frame was read
        with self._lock:
            self._read_at = max(self._read_at, frame.captured)
            self._read_seq = frame.seq
            decision = self._voter.add(readings, frame.captured)
            if decision is None:
                return []
            self._marked = (frame.seq, decision.box)
        confidence = min(1.0, decision.support / max(decision.frames, 1))
        log.debug(
            "plate decided %s frames=%d support=%.2f again=%s",
            decision.text,
            decision.frames,
            decision.support,
            decision.again,
        )
        return [("plate", decision.text, round(confidence, 3))]

    @property
    def repeat_after_s(self) -> float:
        """How long after it was decided a car left standing in the lane is decided again (its
        lane voter's repeat_after_s): a trigger-mode camera whose loop stays on reads it again
        from then (OpenCvCamera)."""
        return self._voter.repeat_after_s

    def still(self, frame: Frame, now: float) -> None:
        """The camera's picture has not changed since `frame` (OpenCvCamera: a repeat of it, a still
        lane between key frames): if that is the last frame read, the plates it showed are still in
        the lane at `now` (monotonic). Nothing is read or decided."""
        with self._lock:
            if frame.seq == self._read_seq:
                self._voter.still(now)

    def on_loop_still(self, plates: Iterable[str], now: float) -> None:
        """The loop these plates' cars arrived on is still on at `now` (monotonic), read nothing
        since (OpenCvCamera: a trigger-mode camera's first read under a loop stuck on): they are
        still in the lane, and a car standing there is decided again, not taken for a new one."""
        with self._lock:
            self._voter.on_loop_still(plates, now)

    def rearm(self) -> None:
        """The lane's loop says a car has arrived (OpenCvCamera.request_read): a plate decided a
        while ago and still standing there is decided again."""
        with self._lock:
            self._voter.rearm(time.monotonic())

    def hold(self, text: str) -> None:
        """A plate decided without this camera (a guard typed it): do not decide it again."""
        with self._lock:
            self._voter.hold(text, time.monotonic())

    def _roi_outside(self, frame: Frame) -> bool:
        """Whether the lane's roi lies wholly outside the frame: drawn on the 1920x1080 main stream
        while the camera sends the 1280x720 sub-stream (or a firmware reset changed its resolution),
        it makes the lane read nothing. Said once per frame size, at WARNING, and in the camera's
        last_error, the camera staying online (its stream is fine, as for a recognizer too slow);
        cleared once a frame has the roi inside again."""
        if not self._roi:
            return False
        ih, iw = frame.image.shape[:2]
        health = self._health()
        if self._judged != (iw, ih):
            self._judged = (iw, ih)
            note = outside_note(self._roi, iw, ih)
            device = health.device if health is not None else "?"
            if note:
                log.warning("camera %s: %s", device, note)
            elif self._outside:
                log.info("camera %s: the lane's roi is inside the picture again", device)
            if health is not None and self._outside and health.last_error == self._outside:
                health.last_error = ""
            self._outside = note
        # Set again on each frame: a stream that drops and comes back clears last_error
        # (set_online). A stream's own fault, shown first, is not overwritten.
        if self._outside and health is not None and health.online and not health.last_error:
            health.last_error = self._outside
        return bool(self._outside)

    def _health(self) -> DeviceHealth | None:
        health = getattr(self._camera, "health", None)  # a test's stand-in camera may have none
        return health if isinstance(health, DeviceHealth) else None

    def watched_by(self, camera: LaneCamera) -> None:
        """The camera whose frames this reader reads (gateway/runtime/devices.py): what the reader
        says of its lane holds only while that camera watches it."""
        self._camera = camera

    def watching(self) -> bool:
        """Whether the camera it reads sees its lane now: online, its picture live (not frozen, not
        a backlog after a stall), a frame taken within the time an unread plate takes to leave
        (gone_after_s). A reader told of no camera (fed frames by a test) watches."""
        camera = self._camera
        return camera is None or camera.watching(self._voter.gone_after_s)

    def in_lane(self, text: str) -> bool:
        """Whether this camera still has `text` in the lane: read within gone_after_s. The quote of
        the held car at the barrier asks (Devices.sees)."""
        with self._lock:
            return self._voter.in_lane(text, self._lane_now())

    def _lane_now(self) -> float:
        """The time the lane is judged at. A camera in trigger mode reads frames only when the loop
        says a car arrived: in between, the lane is as the last frame read showed it (the car held
        at the barrier is still there). Otherwise now: a plate unread for gone_after_s has left,
        whether frames were read meanwhile or not."""
        camera = self._camera
        if camera is not None and not camera.continuous:
            return self._read_at
        return time.monotonic()

    def arrived(self, text: str) -> bool:
        """Whether `text` was not in the lane when the loop last fired: the car that arrived, not the
        one in front of it pulling away (the camera's trigger ends only on the car that arrived)."""
        with self._lock:
            return self._voter.arrived(text)

    def decided_again(self, text: str) -> bool:
        """True if the last decision of `text` was a car that stayed in the lane, decided again
        (the repeat timer, or the loop asking): the same car, not one more arrival. The gateway asks
        as the decision is presented (Gateway.standing), and presents it with `again` set."""
        with self._lock:
            return self._voter.decided_again(text)

    def annotate(self, frame: Frame) -> Frame:
        """The frame with the decided plate's box drawn, if the decision came from this frame, and
        the plate's region before drawing (with the margins the recognizer's first look takes)."""
        with self._lock:
            marked = self._marked
        if marked is None or marked[0] != frame.seq:
            return frame
        x, y, w, h = marked[1]
        x0, y0, x1, y1 = grown(marked[1], CROP_MARGIN_X, CROP_MARGIN_Y, frame.image.shape)
        plate = frame.image[y0:y1, x0:x1].copy()
        image: np.ndarray = frame.image.copy()
        cv2.rectangle(image, (x, y), (x + w, y + h), (0, 0, 255), max(2, image.shape[1] // 400))
        return Frame(image, frame.seq, frame.captured, frame.wall, plate)


def search_region(roi: Sequence[Point], shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """The part of a frame of that shape searched for a lane's plates, as x, y, w, h: the lane
    polygon's bounding rectangle grown by a plate's reach (SEARCH_REACH_X, SEARCH_REACH_Y), clipped
    to the frame. Plates read beyond the lane are the voter's to ignore (their centre is outside)."""
    ih, iw = shape[:2]
    reach_x, reach_y = round(iw * SEARCH_REACH_X), round(iw * SEARCH_REACH_Y)
    xs, ys = [p[0] for p in roi], [p[1] for p in roi]
    x0, y0 = max(0, min(xs) - reach_x), max(0, min(ys) - reach_y)
    x1, y1 = min(iw, max(xs) + reach_x), min(ih, max(ys) + reach_y)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def outside_note(roi: Sequence[Point], iw: int, ih: int) -> str:
    """What the camera's health says of a lane roi wholly outside an iw x ih frame, with what to
    do; "" for one that overlaps it, even in part (its part in the picture is read)."""
    xs, ys = [p[0] for p in roi], [p[1] for p in roi]
    if min(xs) < iw and max(xs) > 0 and min(ys) < ih and max(ys) > 0:
        return ""
    return (
        f"the lane's roi (x {min(xs)}..{max(xs)}, y {min(ys)}..{max(ys)}) lies outside the camera's "
        f"{iw}x{ih} picture, so no plate is read at this lane: redraw the roi on a current snapshot, "
        "or set the camera back to the resolution it was drawn on (docs/hardware.md)"
    )
