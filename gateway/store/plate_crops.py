"""Training crops from a site's own plates: what `gateway export-plates` writes.

A plate event whose reading matched a registered vehicle, exactly or (where the lane allows it)
one look-alike away, carries a label worth training on: the registered plate. Its unmarked plate
crop is kept beside the event's snapshot; this copies those crops into a folder with a
`labels.csv` that `plates train --real` and `plates eval` read (`file,plate,kind`, then what the
lane read, how sure it was, the lane and the time). Look-alike matches are the useful ones: they
are the site's plates that the model misreads, labelled by the plate they turned out to be.
"""

from __future__ import annotations

import csv
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drivers.cameras.snapshots import plate_crop_path
from gateway.errors import Refused, StorageError
from gateway.store.audit import audit, transaction
from gateway.timefmt import to_db

COLUMNS = ("file", "plate", "kind", "read", "confidence", "lane", "at")

# Plate events matched to a vehicle that is still registered under the plate they matched (the
# log keeps the matched plate as the value, and a look-alike's own reading as a `read:` flag).
_MATCHED = """
SELECT a.event_id, a.at, a.lane, a.value, a.flags, a.confidence, a.snapshot
FROM access_log a JOIN vehicles v ON v.id = a.vehicle_id AND v.plate = a.value
WHERE a.kind = 'plate' AND a.snapshot IS NOT NULL AND a.at >= ?
ORDER BY a.id
"""


@dataclass(frozen=True, slots=True)
class CropExport:
    exported: int  # crops copied, with a row in labels.csv
    corrected: int  # of them, read one look-alike away from the plate they are labelled with
    missing: int  # matched events whose crop is gone (pruned, a full disk, or older than crops)


def export_plate_crops(
    conn: sqlite3.Connection, data_dir: Path, out: Path, since: datetime | None, actor: str, now: datetime
) -> CropExport:
    """Copy the crops of matched plate events (since `since`, else all) into `out`, new or empty."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise Refused(f"{out} is not an empty folder", fix="give a new folder, so that no crop is mixed up")
    try:
        return _export(conn, data_dir, out, since, actor, now)
    except OSError as exc:
        raise StorageError(
            f"cannot write the crops to {out}: {exc.strerror or exc}",
            fix="free disk space there or give a folder on another disk; labels.csv lists what was copied",
        ) from exc


def _export(
    conn: sqlite3.Connection, data_dir: Path, out: Path, since: datetime | None, actor: str, now: datetime
) -> CropExport:
    out.mkdir(parents=True, exist_ok=True)
    exported = corrected = missing = 0
    with (out / "labels.csv").open("w", encoding="utf-8", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(COLUMNS)
        matched = conn.execute(_MATCHED, (to_db(since) if since else "",))
        for event_id, at, lane, plate, flags, confidence, snapshot in matched:
            read = _as_read(plate, flags)
            crop = plate_crop_path(data_dir / snapshot)
            name = f"{event_id}.png"
            try:
                shutil.copyfile(crop, out / name)
            except FileNotFoundError:
                missing += 1
                continue
            rows.writerow((name, plate, "crop", read, f"{confidence:.3f}", lane, at))
            exported += 1
            corrected += read != plate
    with transaction(conn):
        detail = f"{exported} crops ({corrected} read as a look-alike) since {since or 'the first kept'}"
        audit(conn, now, actor, "plates.export", str(out), detail)
    return CropExport(exported, corrected, missing)


def _as_read(plate: str, flags: str) -> str:
    """What the lane read: the matched plate, unless a look-alike match noted its own reading."""
    return next((f[len("read:") :] for f in flags.split(",") if f.startswith("read:")), plate)
