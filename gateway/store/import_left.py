"""An import `gateway import` left unfinished in the data directory, as the running service sees it.

A large import is written in steps; cut part way (a power cut, the SSH session dropped, Ctrl-C) it
leaves its staging file (csv_staging.STAGING_NAME) with some of the office's list in the store and
the rest not, until the installer runs `gateway import -c CONFIG` again (README, *Large imports*).
The service does not finish it (its writes are the installer's to start): it says so, with an
alarm, on /api/health and in the upstream health record (gateway/parking/operations_imports.py).

A staging file is also there while an import runs: that import holds IMPORT_LOCK (admin.py
_one_import_at_a_time), and its file is its work in progress, not one left unfinished.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.store import csv_steps
from gateway.store.csv_staging import STAGING_NAME
from gateway.store.database import open_read_only

IMPORT_LOCK = "import.lock"


@dataclass(frozen=True, slots=True)
class Left:
    """An unfinished import: its files and how many of its `total` rows are `done` (in the store),
    None where a release before schema 70 staged it (its steps kept no record of how far they got);
    `unreadable`, with none of them, where its staging file cannot be read (damaged, or a
    `sudo gateway import` left it root's): part of it may be in all the same."""

    staging: Path
    files: tuple[str, ...] = ()
    done: int | None = None
    total: int | None = None
    unreadable: str = ""

    def health(self) -> dict[str, Any]:
        """As /api/health and the upstream health record give it (`import_unfinished`)."""
        return {"files": list(self.files), "done": self.done, "total": self.total}


def import_running(data_dir: Path) -> bool:
    """A `gateway import` holds the import lock now. Taken for a moment here (shared, without
    waiting): the import that asks for it meanwhile waits that moment (admin.py)."""
    try:
        fd = os.open(data_dir / IMPORT_LOCK, os.O_RDONLY)
    except OSError:  # none made yet, or not ours to read: no import of this site holds it
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # lets go of the lock too
    return False


def unfinished_import(data_dir: Path, db_path: Path) -> Left | None:
    """The import left unfinished in `data_dir`, None when there is none. Call it where no import
    runs (import_running): one running has its staging file half written, or its steps under way.

    None too where the staging file holds no import (a cut before its rows were all staged: nothing
    of it is in the store), or one whose last step is in (a cut before its file was removed): the
    next `gateway import` only removes such a file."""
    staging = data_dir / STAGING_NAME
    if not staging.exists():
        return None
    try:
        with closing(open_read_only(staging, 1)) as conn:
            cursor = conn.execute("SELECT * FROM meta")  # a file staged before schema 70 has no steps_kept
            found = cursor.fetchone()
        if found is None:
            return None
        row = dict(zip([d[0] for d in cursor.description], found, strict=True))
        import_id, files, total = (
            str(row["import_id"]),
            [str(f) for f in json.loads(row["files"])],
            int(row["total"]),
        )
        steps_kept = bool(row.get("steps_kept"))
    except sqlite3.Error as exc:
        if str(exc) == "no such table: meta":  # as csv_staging.read_staged takes it
            return None
        return Left(staging, unreadable=str(exc))
    except (ValueError, TypeError, KeyError) as exc:  # a damaged page that still reads
        return Left(staging, unreadable=f"its record of the import is damaged: {exc}")
    with closing(open_read_only(db_path, 5)) as conn:
        if csv_steps.finished(conn, import_id):
            return None
        # No row before its first step is in.
        step = conn.execute("SELECT done FROM import_steps WHERE import_id = ?", (import_id,)).fetchone()
    if not steps_kept:  # staged by a release before schema 70, whose steps kept no record: not known
        return Left(staging, tuple(files), None, total)
    return Left(staging, tuple(files), min(int(step[0]), total) if step else 0, total)
