"""An OpenCV camera: RTSP, MJPEG over HTTP, USB (V4L2) or a video file.

Two threads per camera. The capture thread reads as fast as the stream delivers and keeps only
the newest frame, so nothing downstream ever works on a backlog; the old frames a stalled stream
delivers as it catches up are dropped until it has made up its lag (backlog.py). A frame repeating
the picture before is no new frame to read: for a few seconds it is a still lane (a codec's repeats
between key frames), and the consumers that hold what they read are told the lane still shows it
(`still`); repeated longer, the picture froze and the camera goes offline (frozen.py). A stream's
first frame is only the picture the next are compared with (it may be one that froze before the
stream opened): the camera is live, and read, from its picture's first change. A frame that
fails to decode (a JPEG cut short) is skipped; when the stream
drops (its reads fail for read_timeout_s) it goes offline (an alarm) and reconnects with backoff.
The consumer thread hands the newest frame to the attached consumers (the plate recognizer)
whenever it is free: frames that arrive while it is busy are skipped, never queued. Frames older
than `max_frame_age_s` are neither read nor stored, and what was read from a frame that grew older
than that while it was read is dropped: a recognizer slower than the limit decides nothing, the
health's `read_age_s` shows by how much, and its `last_error` says so, with what to do, once most
readings are dropped.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import cv2

from drivers.base import Emit
from drivers.cameras.backlog import Backlog
from drivers.cameras.frame import Frame, FrameConsumer
from drivers.cameras.frozen import FROZEN, FrozenPicture, Picture
from drivers.health import DeviceHealth
from drivers.readers.debounce import Debouncer
from drivers.serialport import Backoff
from drivers.urls import redact_url, redact_urls

log = logging.getLogger(__name__)

# RTSP over TCP: UDP loses packets on busy estate networks and the frames come out smeared.
os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")


def _quiet_native_logs() -> None:
    """OpenCV and FFmpeg write their own lines to stderr, which the journal takes: a camera that is
    off writes two at every reconnect ("Connection to tcp://... failed", "VIDEOIO(FFMPEG): backend
    is generally available but can't be used to capture by name"), for days. The camera's health
    and its one "device offline" line say it with the fix; OpenCV's errors still show. An installer
    who wants the native lines back sets OPENCV_LOG_LEVEL and OPENCV_FFMPEG_LOGLEVEL in the unit
    (docs/hardware.md, Cameras): they are left as set."""
    # Read by OpenCV as the FFmpeg backend first opens a capture: in time, whoever imported cv2.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
    # Read as cv2 is imported, which plates/ may have done before this module: set it directly.
    if "OPENCV_LOG_LEVEL" not in os.environ:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


_quiet_native_logs()

# Trigger mode: a car on the loop whose plate was not readable in the trigger's frames (glare, a
# tow bar, the angle as it stopped) is looked at again once a second until something is read,
# for as long as a car plausibly waits at a barrier.
TRIGGER_RETRY_S = 1.0
TRIGGER_RETRY_FOR_S = 60.0
# A loop still on past that minute is stuck (a welded relay, a metal plate over it): no car stands
# on a loop for minutes while its plate is read, and each car of a queue makes an edge of its own.
# It would make no edge for the next car, so the camera reads a frame every TRIGGER_RETRY_S for as
# long as it stays on, and its health says why (LOOP_STUCK).
LOOP_STUCK = (
    "loop detector on for {minutes} min: trigger mode reads a frame once a second until it goes "
    "off; check the loop detector (a stuck relay, something metal over the loop)"
)

# Trigger mode: a car whose trigger read its plate and that stays on the loop (refused at the
# barrier: its household's slot taken, a fee owed) is read again, a frame every TRIGGER_RETRY_S, from
# its consumers' repeat_after_s after it was read (PlateReader: its lane voter's). Its voter then
# decides it again as at a continuous camera, when its slot frees or its fee is paid ahead; read
# only by the stuck-loop fallback, it waited a minute. An empty lane, and a car that drives on (its
# loop goes off), still cost no reading.

# Trigger mode: a car the camera never read (glare), let through by hand, pulls away in the picture
# as the next car rolls onto the loop, nose to tail; read as it goes, it does not end the next car's
# trigger, which reads on until both are read or this long after its loop fired. A car is out of the
# picture within seconds of the barrier rising; kept under the lane voter's repeat_after_s (15 s),
# the car on the loop is still presented once when the one in front is never read.
IN_FRONT_S = 10.0

# The last readings the health judges the recognizer's speed on: once most of them were dropped as
# stale, the camera's last_error says the box reads too slowly, and what to do.
SPEED_WINDOW = 10

# A stream that has delivered frames this long is up: only then do the reconnect waits start again
# from the shortest. After a stream that dropped sooner (a camera rebooting in a loop, an NVR that
# cuts each session) the camera is online again only once one runs this long, so it stays offline
# with growing waits instead of raising and clearing its alarm ten times a second.
STABLE_S = 2.0

# A stream that ended fails each read at once: the reads that follow a failed one are this far apart,
# until read_timeout_s says it dropped, so that the capture thread does not spin meanwhile.
FAILED_READ_PAUSE_S = 0.05


def capture_source(url: str) -> tuple[str | int, int, bool]:
    """What cv2.VideoCapture is given for a configured url: (source, backend, is a file)."""
    if url.startswith("usb:"):
        return int(url[4:]), cv2.CAP_V4L2, False
    # Any device node: /dev/video0, or the stable /dev/v4l/by-id/usb-...-video-index0 (a link to
    # it), which FFmpeg would open as a file and loop as a recording, never judged frozen.
    if url.startswith("/dev/"):
        return url, cv2.CAP_V4L2, False
    return url, cv2.CAP_FFMPEG, url.startswith("/")


class OpenCvCamera:
    def __init__(
        self,
        health: DeviceHealth,
        url: str,
        *,
        max_frame_age_s: float = 0.5,
        read_mode: Literal["continuous", "trigger"] = "continuous",
        trigger_frames: int = 10,
        debounce_s: float = 10.0,
        read_timeout_s: float = 5.0,
        reconnect_max_s: float = 5.0,
        fps: float | None = None,
    ):
        self.health = health
        self.url = url
        self.max_frame_age_s = max_frame_age_s
        self._read_mode = read_mode
        self._trigger_frames = trigger_frames
        self._debounce = Debouncer(debounce_s)
        self._read_timeout_s = read_timeout_s
        self._read_timeout_ms = int(read_timeout_s * 1000)
        self._backoff = Backoff(0.2, reconnect_max_s)
        self._fps = fps
        self._consumers: list[FrameConsumer] = []
        # Each consumer's fault as last logged (by id): a fault on every frame is logged once.
        self._consumer_faults: dict[int, str] = {}
        self._annotate: Callable[[Frame], Frame] | None = None
        self._cond = threading.Condition()
        self._newest: Frame | None = None
        self._consumed: Frame | None = None  # the frame last read
        self._still_at = -math.inf  # when a frame last repeated the newest one's picture (monotonic)
        self._read_age: float | None = None  # how old the last frame read was when its reading ended
        self._trigger_at = 0.0  # monotonic time of the last request_read()
        self._trigger_left = 0
        self._retry_next = 0.0  # trigger mode: when the next frame is looked at again, and until when
        self._retry_until = 0.0
        self._loop_on = False  # trigger mode: the loop has fired (at _trigger_at) and not gone off
        self._loop_on_since = 0.0  # when it went on: a lane's other loop firing meanwhile is no restart
        # When the minute after which a loop still on is stuck started: its last trigger, or the
        # return of its module with it found on (loop_still_on), not the trigger before the blip.
        self._on_from = 0.0
        self._stuck_reading = False  # the loop that fired last is read on, stuck or its car standing
        # From when the car the last trigger read, its loop still on, is read again once a second.
        self._standing_from = math.inf
        self._back_on = False  # the loop found on as its module came back: read on, once a second
        self._stuck_note = ""  # what the health says while the loop is stuck on (LOOP_STUCK)
        # Plates of cars that arrived, read from frames taken since the loop fired. The first is
        # the car on the loop and ends its trigger; while a car in front let through by hand may
        # still be read as it pulls away (until _in_front_until), it takes two.
        self._read_since_loop: set[str] = set()
        self._in_front_until = 0.0
        self._opened_by_hand = 0.0  # monotonic time the lane was last opened by hand
        self._recent: deque[bool] = deque(maxlen=SPEED_WINDOW)  # whether each reading was in time
        self._too_slow = ""  # what the health says while most readings are dropped as stale
        self._seq = 0
        self._shaky = False  # the last stream dropped before it ran STABLE_S
        self._ran_s = 0.0  # how long the current stream has delivered frames: to its last good one
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # Source
    def start(self, emit: Emit) -> None:
        name = self.health.device
        self._threads = [
            threading.Thread(target=self._capture, name=f"camera-{name}", daemon=True),
            threading.Thread(target=self._consume, args=(emit,), name=f"frames-{name}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2)

    # Camera
    def attach(self, consumer: FrameConsumer, annotate: Callable[[Frame], Frame] | None = None) -> None:
        """Add a reader of frames; `annotate` marks what it found on the frame kept as a snapshot."""
        self._consumers.append(consumer)
        if annotate is not None:
            self._annotate = annotate
        if _checks_itself(consumer):
            consumer.only_fresh(self._read_in_time)  # type: ignore[attr-defined]

    def latest(self, max_age_s: float | None = None) -> Frame | None:
        frame = self._newest
        limit = self.max_frame_age_s if max_age_s is None else max_age_s
        if frame is None or frame.age() > limit:
            return None
        return frame

    def snapshot_frame(self) -> Frame | None:
        """The frame a plate was just read from while it is fresh, else the newest fresh one."""
        consumed = self._consumed
        if consumed is not None and consumed.age() <= self.max_frame_age_s:
            return self._annotate(consumed) if self._annotate is not None else consumed
        return self.latest()

    def request_read(self) -> None:
        """The lane's loop detector says a car has arrived: read the next fresh frames, even a
        plate seen a moment ago. Consumers that hold decided plates (`rearm()`) let them go."""
        for consumer in self._consumers:
            rearm = getattr(consumer, "rearm", None)
            if callable(rearm):
                rearm()
        with self._cond:
            now = time.monotonic()
            self._in_front_until = self._in_front_window(now)
            self._trigger_at = now
            self._on_from = now
            if not self._loop_on:
                self._loop_on_since = now
            self._loop_on = True
            self._back_on = False
            self._stuck_reading = False
            self._standing_from = math.inf
            self._read_since_loop = set()
            self._trigger_left = self._trigger_frames
            self._retry_next = self._trigger_at
            self._retry_until = self._trigger_at + TRIGGER_RETRY_FOR_S
            self._cond.notify_all()
        self.health.count("triggers")

    def loop_cleared(self) -> None:
        """The lane's loop detector no longer sees a car: a loop that was stuck on is read only when
        it fires again, and the health's note of it clears."""
        with self._cond:
            self._loop_on = False
            self._back_on = False
            self._standing_from = math.inf
            note, self._stuck_note = self._stuck_note, ""
        if note:
            log.info("camera %s: the loop detector went off: read when it fires again", self.health.device)
            if self.health.last_error == note:
                self.health.last_error = ""

    def loop_still_on(self) -> None:
        """The lane's loop, cleared as its module went offline (a poll lost to noise), is reported
        on once the module is back: the car it fired for, still there, or another that took its
        place while the module was silent (its cable loose for half a minute). The loop is on again
        since it fired, its car not rearmed (request_read let a refused car standing there be
        refused again as a new one), and the lane is read from now once a second as under a loop
        stuck on: the car it fired for is kept in the lane (on_loop_still), one that took its place
        is an arrival, read at once rather than a minute after the first one's trigger. A loop the
        blip had cleared counts as on from now: called stuck only once it stays on a minute more,
        its minutes counted from now (the car it fired for may have left long ago)."""
        with self._cond:
            now = time.monotonic()
            if not self._loop_on:  # no other loop of the lane kept it on meanwhile
                self._loop_on_since = now
                self._on_from = now
            self._loop_on = True
            self._back_on = True
            self._stuck_reading = False
            self._retry_next = now
            self._cond.notify_all()

    def _loop_stuck(self, at: float) -> bool:
        """Whether the loop that fired last was still on at `at`, past the minute a trigger looks
        again for, at a camera that reads only when it fires. Called under self._cond."""
        if self._read_mode != "trigger":
            return False  # it reads every frame: a stuck loop blinds it to nothing
        return self._loop_on and (self._back_on or self._on_longer_than_a_retry(at))

    def _car_standing(self, at: float) -> bool:
        """Whether the car the last trigger read is still on the loop at `at`, past the time its
        consumers decide a standing car again: a frame is read once a second, as under a loop
        stuck on, so that it is decided again (a trigger-mode camera reads nothing else while the
        loop stays on). Called under self._cond."""
        return self._loop_on and at >= self._standing_from

    def _repeat_after_s(self) -> float:
        """How long after it was read a car left standing is decided again by a consumer that
        decides a standing car again (PlateReader: its lane voter's repeat_after_s); inf with
        none (the camera's own filter presents a plate held in view once)."""
        times = [getattr(consumer, "repeat_after_s", None) for consumer in self._consumers]
        return min((float(t) for t in times if isinstance(t, (int, float))), default=math.inf)

    def _on_longer_than_a_retry(self, at: float) -> bool:
        """Whether the loop has been on at `at` past the minute a trigger looks again for, counted
        from its last trigger or its module's return. Called under self._cond."""
        return at - self._on_from > TRIGGER_RETRY_FOR_S

    def _note_stuck_loop(self, at: float) -> None:
        """The health's last_error says the loop is stuck on and what to do, the camera staying
        online: it still reads. A stream's own fault, or a note already shown, is shown first."""
        note = LOOP_STUCK.format(minutes=int((at - self._loop_on_since) // 60))
        if not self._stuck_note:
            log.warning("camera %s: %s", self.health.device, note)
        health = self.health
        if health.online and health.last_error in ("", self._stuck_note):
            health.last_error = note
        self._stuck_note = note

    def _read_on_from(self, at: float) -> set[str]:
        """A frame at `at` is read under a loop still on, no trigger asking (stuck, or its car
        standing): a loop on past the minute, the health says so; and as the first such read
        since the loop fired, the plates of the cars it announced, read then, are returned: they
        may be standing on it still. Called under self._cond."""
        if self._on_longer_than_a_retry(at):  # not a loop just found on after a blip
            self._note_stuck_loop(at)
        if self._stuck_reading:
            return set()
        self._stuck_reading = True
        return set(self._read_since_loop)

    def _on_loop_still(self, plates: set[str], at: float) -> None:
        """The loop that announced the cars of `plates` has stayed on since: the consumers that hold
        what they read (the plate reader's lane voter) keep them in the lane at `at`. Read nothing
        since their trigger ended, they would take a car still standing there (a driver arguing at
        the barrier) for a new arrival, a second car refused, where a continuous camera decides it
        again. A car that drove off is not read on, and is let go as it would be (gone_after_s)."""
        for consumer in self._consumers:
            on_loop = getattr(consumer, "on_loop_still", None)
            if not callable(on_loop):
                continue
            try:
                on_loop(plates, at)
            except Exception:  # a consumer's fault: the frame is still read
                self._consumer_failed(consumer)

    def _in_front_window(self, now: float) -> float:
        """Until when a car in front may still be read as it pulls away, for a loop firing now
        (0: no car is known to be in front). Called under self._cond."""
        if self._read_since_loop:
            return 0.0
        # The car the last loop announced, never read, was let through by hand: it is pulling
        # away in front of this one.
        if self._opened_by_hand > self._trigger_at:
            return now + IN_FRONT_S
        # The loop fired again before anything was read (a contact bouncing as the car rolls on:
        # edges a fraction of a second apart): the car in front it announced is still there.
        if now <= self._in_front_until:
            return self._in_front_until
        # An unread announcement was no car (a motorbike with no front plate), or this same car
        # firing the loop twice: this car ends it.
        return 0.0

    def opened_by_hand(self) -> None:
        """A guard opened this camera's lane by hand (HandLanes.open_lane): a car at the barrier
        that the camera never read pulls away now, perhaps in front of the next one."""
        with self._cond:
            self._opened_by_hand = time.monotonic()

    @property
    def continuous(self) -> bool:
        """Whether it reads every newest frame (read_mode "continuous"), not only when the loop asks."""
        return self._read_mode == "continuous"

    def watching(self, within_s: float) -> bool:
        """Whether the camera sees its lane now: online, with a live frame, or one repeating its
        picture (a still lane between key frames), that arrived within `within_s`. Offline, its
        picture frozen or its stream catching up on a stall, it does not."""
        if not self.health.online:
            return False
        return self.latest(within_s) is not None or time.monotonic() - self._still_at <= within_s

    def frame_age(self) -> float | None:
        frame = self._newest
        return None if frame is None else frame.age()

    def read_age(self) -> float | None:
        """How old the last frame read was when its reading ended: how far behind the lane the
        plates are read. Over max_frame_age_s, readings are dropped (`stale_reads`)."""
        return self._read_age

    # Capture thread
    def _capture(self) -> None:
        source, backend, is_file = capture_source(self.url)
        while not self._stop.is_set():
            cap = self._open(source, backend)
            if cap is None:
                self._stop.wait(self._backoff.next())
                continue
            opened = time.monotonic()
            self._ran_s = 0.0
            try:
                ended, frames = self._read_frames(cap, is_file, opened)
            except Exception as exc:  # OpenCV raises from a broken stream: a drop, never the thread's end
                log.warning(
                    "camera %s: reading %s failed: %s",
                    self.health.device,
                    self._where(),
                    redact_urls(str(exc)),
                )
                ended, frames = False, 0
            finally:
                cap.release()
            if ended and is_file and frames:
                continue  # a video file plays again from the start: not a fault
            if not self._stop.is_set():
                self._shaky = self._ran_s < STABLE_S
                self.health.count("drops")
                self.health.set_offline(
                    f"stream from {self._where()} dropped: it reconnects by "
                    "itself; if it stays offline check the camera's power, "
                    "network and url"
                )
                self._stop.wait(self._backoff.next())

    def _open(self, source: str | int, backend: int) -> Any:
        params: list[int] = []
        if backend == cv2.CAP_FFMPEG:
            params = [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                self._read_timeout_ms,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                self._read_timeout_ms,
            ]
        try:
            cap = cv2.VideoCapture(source, backend, params)
        except cv2.error as exc:
            self.health.set_offline(f"cannot open {self._where()}: {redact_urls(str(exc))}")
            return None
        if not cap.isOpened():
            cap.release()
            self.health.set_offline(
                f"cannot open {self._where()}: check the url, that the camera "
                "is on the network and its user name and password"
            )
            return None
        if backend == cv2.CAP_V4L2:
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's own queue would make frames old
        return cap

    def _read_frames(self, cap: Any, is_file: bool, opened: float) -> tuple[bool, int]:
        """Read until the stream ends (True) or we are stopped (False); and how many frames came.
        A live stream's failed read is one bad frame (a JPEG cut short), skipped: the next read on
        the same stream returns the next frame. Only reads failing for read_timeout_s end it (a
        stream that ended fails every read). The failed reads are counted as bad frames once a
        read after them succeeds: those of a stream that then drops belong to the drop (`drops`),
        or a camera closing its session counted a hundred bad frames it never sent. A file ends at
        its end."""
        frames = failed = 0
        fps = self._fps or cap.get(cv2.CAP_PROP_FPS) or 0.0
        gap = 1.0 / (fps or 25.0) if is_file else 0.0
        backlog = Backlog(self.max_frame_age_s, fps)
        # A file plays as it was recorded, a still scene too: only a camera's picture freezes.
        frozen = None if is_file else FrozenPicture()
        due = last_read = time.monotonic()
        while not self._stop.is_set():
            ok, image = cap.read()
            now = time.monotonic()
            if not ok or image is None or image.size == 0:  # an empty picture is a bad frame
                if is_file or now - last_read >= self._read_timeout_s:
                    return True, frames
                failed += 1
                if failed > 1:
                    self._stop.wait(FAILED_READ_PAUSE_S)
                continue
            if failed:
                self.health.count("bad_frames", failed)  # the stream went on: they were frames
            failed = 0
            last_read = now
            frames += 1
            self._ran_s = now - opened
            self._take(image, now, backlog, frozen)
            if self._ran_s >= STABLE_S:
                self._backoff.reset()
                self._shaky = False
            self.health.count("frames")
            if gap:  # a file is played at its own pace, like a camera would deliver it
                due += gap
                self._stop.wait(max(0.0, due - time.monotonic()))
        return False, frames

    def _take(self, image: Any, now: float, backlog: Backlog, frozen: FrozenPicture | None) -> None:
        """Keep a decoded frame as the newest, unless it shows the lane as it was: one of a backlog
        (taken before a stall ended, stamped with its arrival), a repeat of the picture before,
        which is the lane still (for a few seconds) or a picture that froze, or the stream's first
        picture, perhaps one that froze before the stream opened. The camera is heard from only
        while its picture moves: a picture frozen across a restart or a reconnect, or a frozen
        picture's backlog, brings it back online (its alarm cleared) no more than it is read."""
        if not backlog.live(now):
            self.health.count("stale")
        else:
            picture = Picture.NEW if frozen is None else frozen.judge(image, now)
            if picture is Picture.FROZEN:
                self.health.count("frozen")
                self.health.set_offline(FROZEN)
                return  # the camera is not heard from: what it sends says nothing new
            if picture is Picture.STILL:
                self.health.count("still_frames")
                self._still(now)
            elif picture is Picture.NEW:
                self._keep(image, now)
            # Picture.FIRST: only what the next frames are compared with, neither read nor shown
        if not self._shaky and (frozen is None or frozen.moving):
            self.health.seen()

    def _keep(self, image: Any, now: float) -> None:
        """A new picture: the newest frame, for the consumer thread to read."""
        self._seq += 1
        frame = Frame(image, self._seq, now, time.time())
        with self._cond:
            self._newest = frame
            self._cond.notify_all()

    def _still(self, now: float) -> None:
        """A frame repeating the newest one's picture: nothing new to read (read again, it would
        count as a second look at the same plate), but the lane still shows what it showed. The
        consumers that hold what they read (the plate reader's lane voter) are told so, in the
        capture thread: a plate reader only notes the time."""
        frame = self._newest
        if frame is None:
            return
        self._still_at = now
        for consumer in self._consumers:
            still = getattr(consumer, "still", None)
            if not callable(still):
                continue
            try:
                still(frame, now)
            except Exception:  # a consumer's fault is no stream's: the capture goes on
                self._consumer_failed(consumer)

    def _where(self) -> str:
        # Never show a camera password: it goes to the log and to the anonymous /api/health.
        return redact_url(self.url)

    # Consumer thread
    def _consume(self, emit: Emit) -> None:
        last_seq = 0
        while not self._stop.is_set():
            with self._cond:
                while not self._stop.is_set() and not self._ready(last_seq):
                    self._cond.wait(1.0)
                if self._stop.is_set():
                    return
                frame = self._newest
                assert frame is not None
            if frame.seq > last_seq + 1:
                self.health.count("frames_skipped", frame.seq - last_seq - 1)
            last_seq = frame.seq
            if frame.age() > self.max_frame_age_s:
                self.health.count("stale")
                continue
            self.consume_frame(frame, emit)

    def consume_frame(self, frame: Frame, emit: Emit) -> bool:
        """The consumer thread's step: hand a fresh frame to the consumers if it is to be read,
        and emit what they report. True if anything was emitted."""
        with self._cond:
            if not self._wanted(frame):
                return False
            asked = self._trigger_left > 0 and frame.captured >= self._trigger_at
            if asked:
                self._trigger_left -= 1
            self._retry_next = frame.captured + TRIGGER_RETRY_S
            read_on = not asked and (self._loop_stuck(frame.captured) or self._car_standing(frame.captured))
            standing = self._read_on_from(frame.captured) if read_on else set()
        if standing:
            self._on_loop_still(standing, frame.captured)
        # Read under a loop stuck on, or its car standing, a frame is no car's arrival: its
        # readings count as continuous mode's do (each car the lane voter decides once per
        # passage, and again while it stands there).
        triggered = asked or (self._read_mode == "trigger" and not read_on)
        emitted, arrived = self._read(frame, triggered, emit)
        if triggered:
            with self._cond:
                # A loop that fired while this frame was read announced a car this frame predates.
                if frame.captured >= self._trigger_at:
                    self._read_since_loop |= arrived
                cars = 2 if frame.captured <= self._in_front_until else 1
                if len(self._read_since_loop) >= cars:  # every car that arrived has been read
                    self._trigger_left = 0
                    self._retry_until = 0.0
                    # Should its car stay on the loop, it is read again from its repeat time.
                    self._standing_from = frame.captured + self._repeat_after_s()
        return emitted

    def _ready(self, last_seq: int) -> bool:
        frame = self._newest
        if not self._consumers or frame is None or frame.seq == last_seq:
            return False
        return self._wanted(frame)

    def _wanted(self, frame: Frame) -> bool:
        if self._read_mode == "continuous":
            return True
        # Trigger mode: only frames taken after the loop asked; an older one shows no arriving car.
        if self._trigger_left > 0 and frame.captured >= self._trigger_at:
            return True
        if frame.captured < self._retry_next:
            return False
        # Nothing read yet: again; or the loop is stuck on and will announce no car; or the car
        # read stands on it, to be decided again.
        at = frame.captured
        return at <= self._retry_until or self._loop_stuck(at) or self._car_standing(at)

    def _read(self, frame: Frame, triggered: bool, emit: Emit) -> tuple[bool, set[str]]:
        """Hand the frame to the consumers and emit what they report: whether anything was emitted,
        and the plates of cars that arrived on the loop. In a nose-to-tail queue the car in front
        is still in the picture, pulling away, when the next one rolls onto the loop; a consumer
        that knows it (the plate reader's `arrived`) keeps the trigger reading until the car on the
        loop is read."""
        emitted = False
        arrived: set[str] = set()
        for consumer in self._consumers:
            try:
                readings = list(consumer(frame) or ())
            except Exception:
                self._consumer_failed(consumer)
                continue
            self._consumer_works(consumer)
            if not _checks_itself(consumer) and not self._read_in_time(frame):
                continue
            self._consumed = frame
            # A consumer that decides once per passage itself (the plate reader's lane voter) is
            # not filtered again here: a second filter would swallow the decisions it means.
            filtered = not getattr(consumer, "decides_passages", False)
            came = getattr(consumer, "arrived", None)
            for kind, value, confidence in readings:
                if filtered and not self._fresh(value, triggered):
                    self.health.count("repeats")
                    continue
                self.health.count("reads")
                emit(kind, value, confidence)
                emitted = True
                if not callable(came) or came(value):
                    arrived.add(value)
        return emitted, arrived

    def _consumer_failed(self, consumer: object) -> None:
        """A frame consumer raised (called in its `except`): counted every time, its traceback
        logged the first time and when the fault changes. Logged on every frame, a fault each
        frame has (a camera set to 16-bit output) wrote 25 tracebacks a second to the journal."""
        self.health.count("consumer_errors")
        exc = sys.exception()
        said = f"{type(exc).__name__}: {exc}"
        if self._consumer_faults.get(id(consumer)) == said:
            return
        self._consumer_faults[id(consumer)] = said
        log.exception(
            "frame consumer failed camera=%s (logged again only when the fault changes; "
            "counted in consumer_errors)",
            self.health.device,
        )

    def _consumer_works(self, consumer: object) -> None:
        """A frame read without a fault by a consumer that had one: said once."""
        if self._consumer_faults.pop(id(consumer), None) is not None:
            log.info("frame consumer works again camera=%s", self.health.device)

    def _read_in_time(self, frame: Frame) -> bool:
        """Asked as a frame's reading ends: whether what was read may still be acted on. A frame
        that grew older than max_frame_age_s while it was read (a recognizer slower than the
        camera: a Pi with several cameras) shows a lane that has moved on: its readings are
        dropped and counted, and the health's `read_age_s` shows how far behind the reading is."""
        age = frame.age()
        self._read_age = age
        in_time = age <= self.max_frame_age_s
        self._judge_speed(in_time, age)
        if in_time:
            return True
        self.health.count("stale_reads")
        return False

    def _judge_speed(self, in_time: bool, age: float) -> None:
        """Once most of the last readings were dropped as stale, the health's last_error says the
        box reads too slowly and what to do, the camera staying online: its stream is fine. Trigger
        mode is no remedy: each frame it reads is read as slowly."""
        self._recent.append(in_time)
        stale = self._recent.count(False)
        health = self.health
        if not self._too_slow:
            if len(self._recent) < 3 or stale <= len(self._recent) / 2:
                return
            self._too_slow = _too_slow(age, self.max_frame_age_s)
            log.warning("camera %s: %s", health.device, self._too_slow)
        elif stale <= len(self._recent) / 4:  # not on the edge: the note comes and goes once
            log.info("camera %s: plates are read in time again", health.device)
            if health.last_error == self._too_slow:
                health.last_error = ""
            self._too_slow = ""
            return
        if health.online and not health.last_error:  # a stream's own fault is shown first
            health.last_error = self._too_slow

    def _fresh(self, value: str, triggered: bool) -> bool:
        now = time.monotonic()
        if triggered:
            self._debounce.note(value, now)  # the loop says a car is here: read it again, once
            return value not in self._read_since_loop
        return self._debounce.accept(value, now)


def _too_slow(age: float, max_frame_age_s: float) -> str:
    return (
        f"most plate readings are dropped as stale: a frame is read {age:.1f} s after it was taken, "
        f"past max_frame_age_s ({max_frame_age_s:g} s), so no plate is decided. Read faster "
        '(plate_backend = "onnxruntime": the fast extra, on a 64-bit OS; a lane roi; fewer cameras '
        "on this box) or raise max_frame_age_s above read_age_s"
    )


def _checks_itself(consumer: FrameConsumer) -> bool:
    """A consumer that keeps what it read across frames (the plate reader's lane voter) asks the
    camera whether a frame is still fresh before its readings count (`only_fresh`): dropped after
    it decided, a car would stay decided and never be presented."""
    return callable(getattr(consumer, "only_fresh", None))
