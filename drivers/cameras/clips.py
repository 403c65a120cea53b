"""Event clips: a few seconds of a lane's video before and after something a guard must be able to
look back at (a barrier forced up, a car through on another's opening, an opening by hand).

A snapshot is one picture of a decision; what happened at a forced barrier is in the seconds around
it. Each camera keeps its recent picture, sampled `fps` times a second as small JPEGs (640 px wide,
the time burnt in), for `seconds`: about 2 MB. Asked for a clip, it takes what it kept, goes on
gathering for `seconds` more, and hands the frames to the writer, whose thread encodes them as a
WebM (VP8, which a browser plays without a plug-in) under the snapshots' day folder: retention
keeps it as long as the snapshots (`retention.snapshots_days`, the week the plans ask) and the disk
guard deletes the oldest first alike (gateway/parking/retention.py).

The clip's name is chosen by the caller (gateway/runtime/event_clips.py names it by the event, so
that the event's page finds it); the writer says which names it still has to write (pending).
A camera that gives no picture meanwhile (offline) writes no clip: there is nothing to show, and
the camera's health counts it (clips_failed) with its own offline alarm saying why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from drivers.cameras.frame import Frame
from drivers.cameras.snapshots import fix_for_unsaved, partial_path
from drivers.health import DeviceHealth

log = logging.getLogger(__name__)

# OpenCV's FFmpeg writer says a tag it falls back from on every clip ("tag 'VP80' is not
# supported with codec id 139"): quiet, as the cameras' reader is (capture.py).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


@dataclass(frozen=True, slots=True)
class ClipSettings:
    fps: int = 5  # frames a second kept: a car passes a barrier in about 2 s, 10 frames
    seconds: float = 10.0  # kept before the event, and gathered after it
    width: int = 640  # a 1080p frame is scaled down to this: about 30 KB a frame as JPEG
    quality: int = 70

    @property
    def frames(self) -> int:
        return max(1, round(self.seconds * self.fps))


@dataclass(slots=True)
class Clip:
    name: str  # relative to the data directory, as the caller chose it
    device: str
    until: float  # time.monotonic() the clip's last frame is gathered by
    fps: int
    frames: list[bytes] = field(default_factory=list)


class ClipWriter:
    """Encodes the clips the cameras gathered, one at a time on its own thread; a queue of
    `max_pending` at most (a burst of alarms on every lane): one more is dropped and counted."""

    def __init__(self, data_dir: Path, health_of: Callable[[str], DeviceHealth | None], max_pending: int = 8):
        self.data_dir = data_dir
        self._health_of = health_of
        self._queue: queue.Queue[Clip | None] = queue.Queue(max_pending)
        self._pending: set[str] = set()
        self._cancelled: set[str] = set()  # pending, and not to be kept after all
        self._lock = threading.Lock()
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="clips", daemon=True)
        self._thread.start()

    def expect(self, name: str) -> bool:
        """A clip of this name is being gathered: pending until written or failed. False if one of
        that name already is (two openings in one second are one clip)."""
        with self._lock:
            if name in self._pending:
                return False
            self._pending.add(name)
            return True

    def pending(self, name: str) -> bool:
        with self._lock:
            return name in self._pending

    def forget(self, name: str) -> None:
        """A clip called off while it was still gathered: it is not pending any more."""
        with self._lock:
            self._pending.discard(name)

    def cancel(self, name: str) -> None:
        """A clip handed over already that is not to be kept: skipped if it is not written yet,
        deleted if it is."""
        with self._lock:
            if name in self._pending:
                self._cancelled.add(name)
                return
        with contextlib.suppress(OSError):
            (self.data_dir / name).unlink(missing_ok=True)

    def submit(self, clip: Clip) -> None:
        try:
            self._queue.put_nowait(clip)
        except queue.Full:
            self._done(clip, False, "the clip writer is behind (a burst of events): clip dropped")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def flush(self) -> None:
        """Wait until every clip handed over is written (tests, shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while (clip := self._queue.get()) is not None:
            try:
                self._write(clip)
            finally:
                self._queue.task_done()
        self._queue.task_done()

    def _write(self, clip: Clip) -> None:
        import cv2

        path = self.data_dir / clip.name
        if self._called_off(clip.name):
            return
        if not clip.frames:
            self._done(clip, False, "no picture from the camera while it was gathered (offline?)")
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            encode_webm(path, clip.frames, clip.fps)
        except (OSError, cv2.error) as exc:
            self._done(clip, False, f"{exc}; fix: {fix_for_unsaved(exc, path, self.data_dir)}")
            return
        if self._called_off(clip.name):  # called off as it was encoded
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return
        self._done(clip, True, "")

    def _called_off(self, name: str) -> bool:
        with self._lock:
            if name not in self._cancelled:
                return False
            self._cancelled.discard(name)
            self._pending.discard(name)
            return True

    def _done(self, clip: Clip, ok: bool, why: str) -> None:
        with self._lock:
            self._pending.discard(clip.name)
            self._cancelled.discard(clip.name)  # called off, then dropped or failed: never written
        health = self._health_of(clip.device)
        if not ok and not self._warned:  # once at WARNING: a full disk would say it at every event
            log.warning("event clip not saved %s: %s", clip.name, why)
            self._warned = True
        if health is not None:
            health.count("clips_written" if ok else "clips_failed")


def encode_webm(path: Path, jpegs: list[bytes], fps: int) -> None:
    """The JPEGs as one WebM (VP8) at `fps`, written whole or not at all (a hidden name moved into
    place, as snapshots are): a clip a full disk cut short is never there to be served."""
    import cv2
    import numpy as np

    partial = partial_path(path)
    writer = None
    try:
        for data in jpegs:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                continue
            if writer is None:
                size = (image.shape[1], image.shape[0])
                writer = cv2.VideoWriter(str(partial), cv2.VideoWriter.fourcc(*"VP80"), fps, size)
                if not writer.isOpened():
                    raise OSError("this OpenCV cannot write WebM (VP8): install opencv-python-headless")
            elif (image.shape[1], image.shape[0]) != size:  # the stream changed resolution
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            writer.write(image)
        if writer is None:
            raise OSError("no frame of the clip could be decoded")
        writer.release()
        writer = None
        if partial.stat().st_size == 0:  # the disk took nothing (full): FFmpeg says no error
            raise OSError("the clip came out empty: is the disk full?")
        os.replace(partial, path)
    except BaseException:
        if writer is not None:
            writer.release()
        with contextlib.suppress(OSError):  # left, it goes with retention
            partial.unlink(missing_ok=True)
        raise


class ClipRecorder:
    """One camera's recent picture, kept for its clips. `latest` gives the camera's newest frame
    (None while it has no fresh one); `tz` is the site's, for the time burnt into each frame."""

    def __init__(
        self,
        device: str,
        latest: Callable[[], Frame | None],
        writer: ClipWriter,
        settings: ClipSettings,
        tz: tzinfo | None = None,
    ):
        self.device = device
        self.settings = settings
        self._latest = latest
        self._writer = writer
        self._tz = tz
        self._kept: deque[tuple[float, bytes]] = deque(maxlen=settings.frames)
        self._gathering: list[Clip] = []
        self._lock = threading.Lock()
        self._last: tuple[int, bytes] | None = None  # the last frame sampled: its seq and JPEG
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"clips-{self.device}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:  # what was gathered so far is written: the stop is no reason to lose it
            gathered, self._gathering = self._gathering, []
        for clip in gathered:
            self._writer.submit(clip)

    def record(self, name: str) -> None:
        """Cut a clip named `name`: the seconds kept before now, and as many after. Timed on the
        monotonic clock: a wall clock NTP steps would cut the seconds before, or gather for an hour."""
        if not self._writer.expect(name):
            return
        now = time.monotonic()
        with self._lock:
            clip = Clip(name, self.device, now + self.settings.seconds, self.settings.fps)
            clip.frames = [jpeg for at, jpeg in self._kept if at >= now - self.settings.seconds]
            self._gathering.append(clip)

    def cancel(self, name: str) -> None:
        """Not to be kept after all (the alarm it was cut for was open already): dropped while
        still gathered, else left to the writer to skip or delete."""
        with self._lock:
            kept = [c for c in self._gathering if c.name != name]
            gathered = len(kept) < len(self._gathering)
            self._gathering = kept
        if gathered:
            self._writer.forget(name)
        else:
            self._writer.cancel(name)

    def _run(self) -> None:
        step = 1.0 / self.settings.fps
        due = time.monotonic()
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            due = max(due + step, time.monotonic() - step)  # a stall is not caught up in a burst
            try:
                self.sample(time.monotonic())
            except Exception:  # a clip is evidence, not the lane: the camera goes on
                log.exception("event clip sampling failed camera=%s", self.device)

    def sample(self, now: float) -> None:
        """Keep the camera's newest picture (the last one again where it has not changed, so that
        the clip plays in real time) and hand over the clips gathered in full; `now` is
        time.monotonic()."""
        jpeg = self._picture()
        with self._lock:
            if jpeg is not None:
                self._kept.append((now, jpeg))
                for clip in self._gathering:
                    clip.frames.append(jpeg)
            done = [c for c in self._gathering if now >= c.until]
            self._gathering = [c for c in self._gathering if now < c.until]
        for clip in done:
            self._writer.submit(clip)

    def _picture(self) -> bytes | None:
        frame = self._latest()
        if frame is None:
            return None
        if self._last is not None and self._last[0] == frame.seq:
            return self._last[1]
        jpeg = small_jpeg(frame, self.settings, self._tz, self.device)
        if jpeg is not None:
            self._last = (frame.seq, jpeg)
        return jpeg


def small_jpeg(frame: Frame, settings: ClipSettings, tz: tzinfo | None, device: str) -> bytes | None:
    """The frame scaled to the clip's width, its time and camera burnt in at the top left."""
    import cv2

    image = frame.image
    height, width = image.shape[:2]
    if width > settings.width:
        size = (settings.width, max(2, round(height * settings.width / width / 2) * 2))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    else:
        image = image.copy()  # the frame is shared with the plate reader: never drawn on
    stamp = f"{datetime.fromtimestamp(frame.wall, tz):%Y-%m-%d %H:%M:%S}  {device}"
    for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):  # outlined: legible on any sky
        cv2.putText(image, stamp, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, colour, thickness, cv2.LINE_AA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, settings.quality])
    return data.tobytes() if ok else None
