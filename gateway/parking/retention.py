"""What retention deletes: snapshots past their age, and the oldest ones first when the disk fills;
and the times of snapshots written on a stale boot clock, moved so that they are kept for their
true age.

Planners over file listings and disk figures, and `make_room`, which acts on one; the store's
retention (gateway/store/retention.py) deletes records and gateway/parking/operations_retention.py
runs both. The gateway also makes room once as it starts: a database on a full disk cannot open.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

SNAPSHOT_SUFFIXES = (".jpg", ".jpeg", ".png", ".webm")  # .webm: event clips (drivers/cameras/clips.py)


@dataclass(frozen=True, slots=True)
class FileInfo:
    path: Path
    mtime: float  # seconds since the epoch
    size: int


@dataclass(frozen=True, slots=True)
class DiskPlan:
    delete: tuple[Path, ...]
    free_after: int
    total: int
    alarm: bool  # still below the alarm threshold after deleting

    @property
    def free_percent_after(self) -> float:
        return 100.0 * self.free_after / self.total if self.total else 100.0


def expired(files: Iterable[FileInfo], now: float, keep_days: int) -> list[Path]:
    cutoff = now - keep_days * 86400
    return [f.path for f in files if f.mtime < cutoff]


def redate_files(files: Iterable[FileInfo], wrote: Callable[[datetime], bool], by: timedelta) -> int:
    """Move by `by` the time of the files written on a clock since set right (`wrote`: a Pi's
    stale boot clock, until NTP), so that they are kept for their true age. Returns how many moved."""
    moved = 0
    for f in files:
        if wrote(datetime.fromtimestamp(f.mtime, UTC)):
            try:
                os.utime(f.path, (f.mtime + by.total_seconds(),) * 2)
                moved += 1
            except OSError:
                continue  # gone since it was listed, or unwritable: judged by the time it has
    return moved


def days_kept(files: Iterable[FileInfo], deleted: Iterable[Path], now: float) -> float:
    """How many days of snapshots are left once `deleted` are gone: back to the newest one deleted."""
    gone = set(deleted)
    newest = max((f.mtime for f in files if f.path in gone), default=None)
    return float("inf") if newest is None else max(now - newest, 0.0) / 86400


def week_kept(files: Iterable[FileInfo], now: float, keep_days: int) -> bool:
    """True once a snapshot `keep_days` old is still on the disk: the retention asked is met."""
    cutoff = now - keep_days * 86400
    return any(f.mtime <= cutoff for f in files)


def snapshot_files(root: Path) -> list[FileInfo]:
    """Every snapshot image under root (sub-directories included); unreadable entries are skipped."""
    found: list[FileInfo] = []
    if not root.is_dir():
        return found
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(SNAPSHOT_SUFFIXES):
                    st = entry.stat(follow_symlinks=False)
                    found.append(FileInfo(Path(entry.path), st.st_mtime, st.st_size))
            except OSError:
                continue
    return found


def delete_each(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, OSError]]]:
    """Delete files: those gone (a file already gone among them) and those that stay, each with why."""
    gone: list[Path] = []
    stayed: list[tuple[Path, OSError]] = []
    for path in paths:
        try:
            path.unlink(missing_ok=True)
            gone.append(path)
        except OSError as exc:
            stayed.append((path, exc))
    return gone, stayed


def remove(paths: Iterable[Path]) -> tuple[int, int]:
    """Delete files; (deleted, failed). A file already gone counts as deleted."""
    gone, stayed = delete_each(paths)
    return len(gone), len(stayed)


def remove_empty_day_folders(root: Path, before: date) -> None:
    """Remove the snapshots' day folders (YYYY-MM-DD) dated before `before` that retention has
    emptied, or a year of service leaves 365 empty folders behind. A folder still written to (today
    or yesterday's) is never a candidate: `before` lies days back."""
    for folder in root.glob("????-??-??") if root.is_dir() else ():
        try:
            if date.fromisoformat(folder.name) < before:
                folder.rmdir()  # fails, and is left, unless it is empty
        except (ValueError, OSError):
            continue


@dataclass(frozen=True, slots=True)
class Room:
    plan: DiskPlan  # what was done: the snapshots deleted and the room free after them
    files: list[FileInfo]  # the snapshots looked at (none when the disk had room)
    free_before: int
    deleted: int
    failed: int
    undeleted: tuple[tuple[Path, OSError], ...] = ()  # the snapshots that could not be deleted, and why


def make_room(
    data_dir: Path,
    snapshots_dir: Path,
    prune_percent: float,
    alarm_percent: float,
    usage: Callable[[Path], Any] | None = None,
) -> Room:
    """Below prune_percent free, delete the oldest snapshots until it is back above it.

    The room is judged by what was deleted: a snapshot that stays (its folder left to root by a
    `sudo gateway run`, docs/hardware.md) frees nothing, and the next oldest goes in its place.
    Listed and sorted once, each snapshot tried at most once: the guard looks every 30 s on the
    operations thread, and a root-owned folder may hold thousands that stay.
    """
    du = (usage or shutil.disk_usage)(data_dir)
    target = du.total * prune_percent / 100
    files = snapshot_files(snapshots_dir) if du.free < target else []
    free = du.free
    gone: list[Path] = []
    stayed: list[tuple[Path, OSError]] = []
    for f in sorted(files, key=lambda f: (f.mtime, str(f.path))):  # the oldest first
        if free >= target:
            break
        deleted, failed = delete_each((f.path,))
        gone += deleted
        stayed += failed
        free += f.size if deleted else 0
    done = DiskPlan(tuple(gone), free, du.total, free < du.total * alarm_percent / 100)
    return Room(done, files, du.free, len(gone), len(stayed), tuple(stayed))
