"""Training crops from a site's own plates: what `gateway export-plates` writes.

Two kinds of plate event carry a label worth training on. One whose reading matched a registered
vehicle, exactly or (where the lane allows it) one look-alike away, is labelled with the registered
plate. One a guard corrected on the live page is labelled with the plate the guard typed, whatever
the lane made of it: refused and temporary cars too, and a guard's word outranks a match. Each
event's unmarked plate crop is kept beside its snapshot; this copies those crops into a folder with
a `labels.csv` that `plates train --real` and `plates eval` read (`file,plate,kind`, then what the
lane read, how sure it was, the lane, the time, and where the label came from). Look-alike matches
and corrections are the useful ones: they are the site's plates that the model misreads, labelled
by the plate they turned out to be.
"""

from __future__ import annotations

import csv
import errno
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drivers.cameras.snapshots import plate_crop_path
from gateway.core.tickets import NO_PLATE
from gateway.errors import GatewayError, Refused, StorageError
from gateway.store.admin import signals_end_it
from gateway.store.audit import audit, transaction
from gateway.store.corrections import lane_reading
from gateway.store.database import storage_cause, storage_fix
from gateway.store.flags_sql import lacks_flag_sql
from gateway.timefmt import to_db

COLUMNS = ("file", "plate", "kind", "read", "confidence", "lane", "at", "label")

# Plate events a guard corrected (the newest correction is the label), or matched to a vehicle
# still registered under the plate they matched (the log keeps the matched plate as the value,
# and a look-alike's own reading as a `read:` flag). Never a car with no plate (flag no_plate): the
# crop of a car without one, labelled with the plate learned later, teaches the model to see
# plates where there are none.
_LABELLED = f"""
SELECT a.event_id, a.at, a.lane, a.value, a.flags, a.confidence, a.snapshot, c.plate, v.plate
FROM access_log a
LEFT JOIN latest_plate_corrections c ON c.event_id = a.event_id
LEFT JOIN vehicles v ON v.id = a.vehicle_id AND v.plate = a.value
WHERE a.kind = 'plate' AND a.snapshot IS NOT NULL AND a.at >= :since AND (:until IS NULL OR a.at < :until)
  AND (c.plate IS NOT NULL OR v.plate IS NOT NULL)
  AND {lacks_flag_sql("a.flags", NO_PLATE)}
ORDER BY a.id
"""


@dataclass(frozen=True, slots=True)
class CropExport:
    exported: int  # crops copied, with a row in labels.csv
    corrected: int  # of them, read as another plate than the one they are labelled with
    by_guard: int  # of them, labelled by a guard's correction
    missing: int  # matched events whose crop is gone (pruned, a full disk, or older than crops)
    # Exporting none since `since`: whether a labelled event before it has its crop kept, so that
    # an earlier --since would find one (False: no crop of any date, the cameras keep no snapshots).
    older_kept: bool = False


def export_plate_crops(
    conn: sqlite3.Connection, data_dir: Path, out: Path, since: datetime | None, actor: str, now: datetime
) -> CropExport:
    """Copy the crops of matched plate events (since `since`, else all) into `out`, new or empty,
    and audit it as plates.export; what was copied is removed again if the audit row is not
    written, whatever stopped it. Raises Refused, GatewayError (`out` cannot be written, or a
    hangup or terminate stopped it), StorageError (the audit row); a KeyboardInterrupt goes on."""
    try:
        made = not out.exists()
        taken = not made and (not out.is_dir() or any(out.iterdir()))
    except (
        OSError
    ) as exc:  # inside a folder this user may not enter (a home of mode 700), as `export` says it
        raise GatewayError(
            f"cannot write the crops to {out}: {exc.strerror or exc}", fix=_out_fix(exc)
        ) from exc
    if taken:
        raise Refused(f"{out} is not an empty folder", fix="give a new folder, so that no crop is mixed up")
    written: list[Path] = []
    # Whatever ends it before its audit row commits (a full disk, Ctrl-C, the office's SSH session
    # dropped: SIGHUP, as `gateway export` takes it) takes out what it wrote: a crop is a resident's
    # plate and car, never to leave the box with no record of who took it.
    try:
        with signals_end_it():
            done = _export(conn, data_dir, out, since, written)
            _audit(conn, out, since, actor, now, done)
    except BaseException as exc:
        _remove(written, out if made else None)
        if isinstance(exc, OSError):
            raise GatewayError(  # exit 1: the folder given is full or wrong, not the gateway's storage
                f"cannot write the crops to {out}: {exc.strerror or exc}; nothing was left there",
                fix=_out_fix(exc),
            ) from exc
        if isinstance(exc, sqlite3.Error):  # its fix by the cause: a failed card has room
            raise StorageError(
                f"the export's audit row (plates.export) cannot be written: {exc}; no crop was left in {out}",
                fix=f"{storage_fix(storage_cause(exc, data_dir), data_dir)}; then run the export again",
            ) from exc
        raise
    return done


def _out_fix(exc: OSError) -> str:
    """By the cause: only a full disk is told to free space; a folder under a file, or one this user
    may not write, is told what `gateway export` tells it (freeing space there did nothing)."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free disk space there or give a folder on another disk"
    return "give a folder (new, or one of yours) that the user running gateway may write"


def _audit(
    conn: sqlite3.Connection, out: Path, since: datetime | None, actor: str, now: datetime, done: CropExport
) -> None:
    """The plates.export row, written once the crops are: under the write lock, copying thousands
    of them held every lane's decision, past its busy timeout."""
    with transaction(conn):
        detail = (
            f"{done.exported} crops ({done.corrected} misread, {done.by_guard} labelled by a guard) "
            f"since {since or 'the first kept'}"
        )
        audit(conn, now, actor, "plates.export", str(out), detail)


def _remove(written: list[Path], made: Path | None) -> None:
    """Take out what the export wrote (and the folder it made)."""
    for path in written:
        path.unlink(missing_ok=True)
    if made is not None and made.is_dir() and not any(made.iterdir()):
        made.rmdir()


def _export(
    conn: sqlite3.Connection, data_dir: Path, out: Path, since: datetime | None, written: list[Path]
) -> CropExport:
    """Each file is added to `written` before it is written, so that a partly written one is
    taken out too."""
    out.mkdir(parents=True, exist_ok=True)
    exported = corrected = by_guard = missing = 0
    written.append(out / "labels.csv")
    with (out / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(COLUMNS)
        labelled = conn.execute(_LABELLED, {"since": to_db(since) if since else "", "until": None})
        for event_id, at, lane, value, flags, confidence, snapshot, guard_plate, registered in labelled:
            read = lane_reading(value, flags)
            plate = guard_plate or registered
            crop = plate_crop_path(data_dir / snapshot)
            name = f"{event_id}.png"
            written.append(out / name)
            try:
                shutil.copyfile(crop, out / name)
            except FileNotFoundError:
                written.pop()
                missing += 1
                continue
            label = "guard" if guard_plate else "registered"
            rows.writerow((name, plate, "crop", read, f"{confidence:.3f}", lane, at, label))
            exported += 1
            corrected += read != plate
            by_guard += label == "guard"
    older = since is not None and not exported and _crop_before(conn, data_dir, since)
    return CropExport(exported, corrected, by_guard, missing, older)


def _crop_before(conn: sqlite3.Connection, data_dir: Path, since: datetime) -> bool:
    labelled = conn.execute(_LABELLED, {"since": "", "until": to_db(since)})
    return any(plate_crop_path(data_dir / row[6]).is_file() for row in labelled)
