"""Snapshots: JPEGs of the lane stored with the access events they belong to.

Where a plate reader decided from the frame, the plate's unmarked region is written beside the
JPEG as `<name>.plate.png` (see plate_crop_path); retention prunes both alike. Each is written
under a hidden name and renamed into place (_encode): a file a full disk cut short is never there
to be served as a broken picture.

The file name is chosen when the event is presented and written to the access log with it; the
JPEG is encoded and written on this writer's thread, so a decision never waits for it. When the
writer falls behind, a snapshot is skipped (and counted) rather than queued without bound. Skipped
and failed snapshots are counted on the camera's health too, and one that could not be saved is
its last_error until the next is: footage not kept (REQUIREMENTS 7) shows where an installer looks,
with the fix for its cause (a folder left to root is not a full disk).

A snapshot is filed by the site's day and clock (snapshots/YYYY-MM-DD/HHMMSS-...jpg), not the box's:
a Raspberry Pi left on UTC or Europe/London would file a car seen at 07:30 in Shanghai under the
previous day, where the installer and retention (which judges day folders by the site's date) do
not look for it.

So the event reaches the guard's page before its JPEG is on the disk: the writer says which names
it still has to write (pending), and the page's request for one waits for it rather than 404.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import shutil
import threading
from collections.abc import Callable
from datetime import datetime, tzinfo
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.cameras.frame import Frame
from drivers.health import DeviceHealth

if TYPE_CHECKING:
    import numpy as np

# OpenCV is imported when the first snapshot is written, not with this module: the gateway
# imports the writer at start-up, and a site without cameras should not carry OpenCV's ~25 MB.

log = logging.getLogger(__name__)

HealthOf = Callable[[str], DeviceHealth | None]  # a camera's health, by its device id
# What this writer puts in a camera's last_error begins so: it replaces and clears only its own.
_NOT_SAVED = "snapshots not saved"


class SnapshotWriter:
    def __init__(
        self,
        data_dir: Path,
        max_pending: int = 8,
        health_of: HealthOf | None = None,
        tz: tzinfo | None = None,
    ):
        """`tz`: the site's zone, which names the day folders and files (None: the box's own,
        for tools and tests that have no site)."""
        self.data_dir = data_dir
        self.tz = tz
        self._health_of = health_of
        self.written = 0
        self.skipped = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[Frame, str, int, str] | None] = queue.Queue(max_pending)
        # Names submitted and not yet written (or failed): asked from the HTTP server's threads.
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._ids = count(1)
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._thread.start()

    def submit(self, frame: Frame, device: str, quality: int = 85) -> str | None:
        """The path (relative to the data directory) the JPEG will have, or None if skipped."""
        taken = datetime.fromtimestamp(frame.wall, self.tz)
        relative = (
            Path("snapshots") / f"{taken:%Y-%m-%d}" / f"{taken:%H%M%S-%f}-{device}-{next(self._ids)}.jpg"
        )
        name = relative.as_posix()
        with self._lock:  # pending before queued: the writer may take it at once
            self._pending.add(name)
        try:
            self._queue.put_nowait((frame, name, quality, device))
        except queue.Full:
            with self._lock:
                self._pending.discard(name)
            self.skipped += 1
            if (health := self._health(device)) is not None:
                health.count("snapshots_skipped")
            return None
        return name

    def pending(self, name: str) -> bool:
        """Whether `name` (as submit returned it) is still to be written: on the disk soon, or
        never if the write fails. Until then its file may be missing or half written."""
        with self._lock:
            return name in self._pending

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def flush(self) -> None:
        """Wait until every submitted snapshot is on disk (tests, shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            frame, name, quality, device = item
            try:
                self._write(frame, self.data_dir / name, quality, self._health(device))
            finally:
                with self._lock:
                    self._pending.discard(name)
                self._queue.task_done()
        self._queue.task_done()

    def _health(self, device: str) -> DeviceHealth | None:
        return self._health_of(device) if self._health_of is not None else None

    def _write(self, frame: Frame, path: Path, quality: int, health: DeviceHealth | None) -> None:
        import cv2

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _encode(path, ".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if frame.plate is not None:  # lossless: it may become training data
                _encode(plate_crop_path(path), ".png", frame.plate, [])
            self.written += 1
            if health is not None and health.last_error.startswith(_NOT_SAVED):
                health.last_error = ""  # saved again (disk space freed, folder given back)
        except (OSError, cv2.error) as exc:
            self.failed += 1
            fix = fix_for_unsaved(exc, path, self.data_dir)
            if health is not None:
                health.count("snapshots_failed")
                # A stream's own fault (offline) is shown first, as the camera's reading is.
                if not health.last_error or health.last_error.startswith(_NOT_SAVED):
                    failed = health.counters["snapshots_failed"]
                    health.last_error = f"{_NOT_SAVED} ({failed} since start): {exc}; fix: {fix}"
            if not self._warned:  # once at WARNING, then quietly: a full disk says it every time
                log.warning("cannot write snapshot %s: %s; fix: %s", path, exc, fix)
                self._warned = True


def fix_for_unsaved(exc: Exception, path: Path, data_dir: Path) -> str:
    """The fix for a snapshot `path` (or an event clip) not saved, by its cause. A folder left to
    root (the installer ran `sudo gateway run` once) fails every snapshot of its day as a full disk
    never would: told to free disk space, the installer frees it and the footage is still lost."""
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        # Worded as the gateway's database files left to root are (or a disk mounted read-only);
        # imported here, so that the drivers load nothing of the gateway's store.
        from gateway.store.database import give_to_service

        return give_to_service(_not_writable(path, data_dir))
    if code == errno.ENOSPC or _full(data_dir):
        return f"free disk space in {data_dir}"
    return f"check the data directory {data_dir} (the config's site.data_dir) and what is in it"


def _not_writable(path: Path, data_dir: Path) -> list[Path]:
    """The folders, from the data directory down to the snapshot's, that exist and this process
    may not write (the sudo run made snapshots/ or only the day's), or the snapshot's own folder
    where none is found."""
    folders = [data_dir, *reversed([p for p in path.parents if data_dir in p.parents])]
    blocked = [f for f in folders if f.is_dir() and not _may_write(f)]
    return blocked or [path.parent]


def _may_write(folder: Path) -> bool:
    # The effective user's rights (os.access asks the real user's by default): those the writes get.
    return os.access(folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids)


def _full(folder: Path, room: int = 1 << 20) -> bool:
    """Less than `room` bytes left: a full disk that failed the write without saying ENOSPC."""
    try:
        return shutil.disk_usage(folder).free < room
    except OSError:
        return False


def plate_crop_path(snapshot: Path) -> Path:
    """Where the unmarked plate crop of a snapshot is kept: beside it, pruned with it."""
    return snapshot.with_suffix(".plate.png")


def partial_path(path: Path) -> Path:
    """Where `path` is written before it is moved into place: beside it (one filesystem, so the
    move is a rename), hidden, and ending as it does, so that retention prunes one a power cut
    left behind as it prunes snapshots (gateway/parking/retention.py: by age, oldest first)."""
    return path.with_name(f".{path.name}")


def _encode(path: Path, ext: str, image: np.ndarray, params: list[int]) -> None:
    """Write the image whole or not at all: a full disk fails the write part way, and a file
    left behind (zero bytes, or a JPEG cut short) would be served as a broken picture where the
    guard's pages say the snapshot was not saved (they look for the file)."""
    import cv2

    ok, data = cv2.imencode(ext, image, params)
    if not ok:
        raise OSError(f"{ext[1:].upper()} encoding failed")
    partial = partial_path(path)
    try:
        partial.write_bytes(data.tobytes())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):  # left, it goes with retention
            partial.unlink(missing_ok=True)
        raise
