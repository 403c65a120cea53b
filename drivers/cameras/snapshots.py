"""Snapshots: JPEGs of the lane stored with the access events they belong to.

Where a plate reader decided from the frame, the plate's unmarked region is written beside the
JPEG as `<name>.plate.png` (see plate_crop_path); retention prunes both alike.

The file name is chosen when the event is presented and written to the access log with it; the
JPEG is encoded and written on this writer's thread, so a decision never waits for it. When the
writer falls behind, a snapshot is skipped (and counted) rather than queued without bound.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.cameras.frame import Frame

if TYPE_CHECKING:
    import numpy as np

# OpenCV is imported when the first snapshot is written, not with this module: the gateway
# imports the writer at start-up, and a site without cameras should not carry OpenCV's ~25 MB.

log = logging.getLogger(__name__)


class SnapshotWriter:
    def __init__(self, data_dir: Path, max_pending: int = 8):
        self.data_dir = data_dir
        self.written = 0
        self.skipped = 0
        self.failed = 0
        self._queue: queue.Queue[tuple[Frame, Path, int] | None] = queue.Queue(max_pending)
        self._ids = count(1)
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        self._thread.start()

    def submit(self, frame: Frame, device: str, quality: int = 85) -> str | None:
        """The path (relative to the data directory) the JPEG will have, or None if skipped."""
        taken = datetime.fromtimestamp(frame.wall)
        relative = (
            Path("snapshots") / f"{taken:%Y-%m-%d}" / f"{taken:%H%M%S-%f}-{device}-{next(self._ids)}.jpg"
        )
        try:
            self._queue.put_nowait((frame, self.data_dir / relative, quality))
        except queue.Full:
            self.skipped += 1
            return None
        return relative.as_posix()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def flush(self) -> None:
        """Wait until every submitted snapshot is on disk (tests, shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._write(*item)
            finally:
                self._queue.task_done()

    def _write(self, frame: Frame, path: Path, quality: int) -> None:
        import cv2

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _encode(path, ".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if frame.plate is not None:  # lossless: it may become training data
                _encode(plate_crop_path(path), ".png", frame.plate, [])
            self.written += 1
        except (OSError, cv2.error) as exc:
            self.failed += 1
            if not self._warned:  # once at WARNING, then quietly: a full disk says it every time
                log.warning(
                    "cannot write snapshot %s: %s; fix: free disk space in %s", path, exc, self.data_dir
                )
                self._warned = True


def plate_crop_path(snapshot: Path) -> Path:
    """Where the unmarked plate crop of a snapshot is kept: beside it, pruned with it."""
    return snapshot.with_suffix(".plate.png")


def _encode(path: Path, ext: str, image: np.ndarray, params: list[int]) -> None:
    import cv2

    ok, data = cv2.imencode(ext, image, params)
    if not ok:
        raise OSError(f"{ext[1:].upper()} encoding failed")
    path.write_bytes(data.tobytes())
