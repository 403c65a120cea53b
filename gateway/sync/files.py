"""The sync link's own SQLite files (sync-inbox.db, sync-staging.db): one a power cut damaged is set
aside, and a failure to write one is logged with the fix for its cause.

Neither holds the site's records: what they held the central server sends again (a snapshot asked
for again). So a damaged one must not stop the gateway (the lanes never wait for the link): it is
set aside, not repaired, and a new one made. The copy is kept for whoever looks into the loss; only
the newest, and only `retention.visitors_days` (the hourly retention pass deletes it: set_aside_before),
since it may hold clear phone and ID numbers the gateway can no longer zero.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from gateway.store.database import DB_NAME, give_to_service, is_damaged, not_writable

log = logging.getLogger(__name__)

# A copy set aside: its name says when, in the site's local time (set_aside), as its file times
# may not (os.replace keeps the last write's). With it, SQLite's files that go by its name.
_ASIDE_TIME = "%Y%m%d-%H%M%S"
_ASIDE = re.compile(r"sync-.+\.db\.damaged-(\d{8}-\d{6})(?:-wal|-journal|-shm)?")


class Damaged(sqlite3.DatabaseError):
    """SQLite's own check (quick_check) found the file damaged."""


def damaged(exc: BaseException) -> bool:
    """What SQLite says of a file a power cut cut short or scrambled (database.is_damaged), or what
    its quick_check found (Damaged, raised here with no SQLite code)."""
    return isinstance(exc, Damaged) or is_damaged(exc)


def check_intact(conn: sqlite3.Connection) -> None:
    """Raise Damaged if SQLite's quick check finds faults: a file cut short in the middle opens
    without a word, and fails only at the first read of the pages lost."""
    found = [str(row[0]) for row in conn.execute("PRAGMA quick_check(5)")]
    if found != ["ok"]:
        raise Damaged("database disk image is malformed: " + "; ".join(found))


def say_if_not_writable(path: Path, meaning: str) -> None:
    """SQLite opens a file it may not write read-only without a word: said at the start, with
    what it means and the fix, rather than by every write that fails."""
    blocked = not_writable(path)
    if blocked:
        log.error(
            "%s cannot be written by this user: %s (fix: %s, then restart the gateway)",
            path.name,
            meaning,
            give_to_service(blocked),
        )


def open_mending(
    path: Path, connect: Callable[[Path], sqlite3.Connection], now: datetime, lost: str
) -> tuple[sqlite3.Connection, Path | None]:
    """connect(path), checked intact; a damaged file is set aside and made anew, and the log says
    what was `lost` with it. The connection, and where the damaged file went (None: it was not).
    Raises sqlite3.Error or OSError for any other fault (the caller words it)."""
    try:
        conn = connect(path)
        try:
            check_intact(conn)
        except BaseException:
            conn.close()
            raise
        return conn, None
    except sqlite3.DatabaseError as exc:
        if not damaged(exc):
            raise
        aside = set_aside(path, now)
        log.error(
            "%s was damaged (%s; a power cut while it was written?) and is set aside as %s; a new "
            "one is made. Lost with it: %s. The copy may hold clear phone and ID numbers: the "
            "hourly retention pass deletes it once retention.visitors_days have passed since %s "
            "(delete it sooner once looked at)",
            path.name,
            exc,
            aside.name,
            lost,
            f"{now:%Y-%m-%d %H:%M}",
        )
        return connect(path), aside


def set_aside(path: Path, now: datetime) -> Path:
    """Move the damaged file `path` (with its -wal, under the same new name, so that SQLite opens
    them together) to PATH.damaged-<time>; its -shm, an index SQLite rebuilds, goes. Raises OSError
    (a data directory the gateway may not write)."""
    aside = path.with_name(f"{path.name}.damaged-{now.strftime(_ASIDE_TIME)}")
    for older in path.parent.glob(f"{path.name}.damaged-*"):
        older.unlink(missing_ok=True)
    for suffix in ("-wal", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            os.replace(extra, aside.with_name(aside.name + suffix))
    path.with_name(path.name + "-shm").unlink(missing_ok=True)
    os.replace(path, aside)
    return aside


def set_aside_before(data_dir: Path, before: datetime, tz: tzinfo) -> list[Path]:
    """The damaged sync files (with their -wal, -journal and -shm: one opened to look into it)
    set aside in `data_dir` before `before`, by the time in their name, read in `tz` (the site's,
    as set_aside wrote it). The retention pass deletes them: a copy may hold clear phone and ID
    numbers, kept no longer than a visitor's pass."""
    old = []
    for path in data_dir.glob("sync-*.db.damaged-*"):
        found = _ASIDE.fullmatch(path.name)
        if found is None:  # not one set_aside named
            continue
        try:
            at = datetime.strptime(found[1], _ASIDE_TIME).replace(tzinfo=tz)
        except ValueError:  # digits, but no time (a 13th month): not set_aside's either
            continue
        if at < before:
            old.append(path)
    return old


def write_fix(exc: BaseException, *paths: Path) -> str:
    """The fix for a failure to write `paths` (the first: the file the failure is about), by its
    cause: a file the gateway's user may not write is not a full disk."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    blocked = [p for path in paths for p in not_writable(path)]
    if blocked:
        return give_to_service(blocked)
    if code == sqlite3.SQLITE_READONLY or isinstance(exc, PermissionError):
        return give_to_service([paths[0]])
    if code == sqlite3.SQLITE_FULL or getattr(exc, "errno", None) == errno.ENOSPC or _full(paths[0]):
        return f"free disk space on the disk of {paths[0].parent}"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "end whatever holds the database, such as a suspended `gateway import`"
    if damaged(exc) and paths[0].name == DB_NAME:
        return f"{paths[0]} may be damaged: stop the gateway and restore it from a backup"
    if damaged(exc):
        return "restart the gateway: it sets the damaged file aside and makes a new one"
    return (
        "free disk space if the disk is full; otherwise check that the data directory and its files "
        "are the gateway's user's"
    )


def _full(path: Path, room: int = 1 << 20) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < room
    except OSError:
        return False
