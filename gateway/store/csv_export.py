"""`gateway export`: the store's residents, vehicles, cards and slots as CSV files `import` reads back.

Phone numbers leave only masked: the clear number is never stored, so it cannot be exported. The
office opens the files in Excel or WPS: they are UTF-8 with a byte-order mark, and text that would
run there as a formula, or be read as a number or a date (card 0012345678, slot 2-15), is written
as text (gateway/store/spreadsheet.py; import takes it back). The date columns are left for Excel to
read as the dates they are: import takes them back in Excel's form too. An end of validity on the
site's midnight is written as its last day (2026-11-30), as the lookup page shows it.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gateway.errors import GatewayError
from gateway.store.spreadsheet import BOM, as_cell
from gateway.timefmt import last_day, parse_local
from plates.grammar import as_written

if TYPE_CHECKING:
    import sqlite_utils

    from gateway.store.database import Database

QUERIES = {
    "residents": """SELECT ref, building, unit, room, name, phone_masked, valid_from, valid_to,
                           blocked FROM residents ORDER BY id""",
    "vehicles": """SELECT v.plate, r.ref AS resident_ref, v.class, v.monthly_until, c.valid_from,
                          c.valid_to, coalesce(c.blocked, 0) AS blocked
                   FROM vehicles v JOIN residents r ON r.id = v.resident_id
                   LEFT JOIN credentials c ON c.kind = 'plate' AND c.value = v.plate
                   ORDER BY v.id""",
    "cards": """SELECT c.value AS card, r.ref AS resident_ref, v.plate, c.valid_from, c.valid_to,
                       replace(c.hours, ',', ';') AS hours, c.blocked
                FROM credentials c JOIN residents r ON r.id = c.resident_id
                LEFT JOIN vehicles v ON v.id = c.vehicle_id
                WHERE c.kind = 'card' ORDER BY c.id""",
    "slots": """SELECT s.zone, s.number, r.ref AS resident_ref,
                       coalesce((SELECT group_concat(v.plate, ';') FROM slot_vehicles sv
                                 JOIN vehicles v ON v.id = sv.vehicle_id
                                 WHERE sv.slot_id = s.id), '') AS plates
                FROM slots s LEFT JOIN residents r ON r.id = s.resident_id ORDER BY s.id""",
}
# The date columns: written in the site's time, as import reads them (gateway/timefmt.py).
_TIMES = {"valid_from", "valid_to", "monthly_until"}
# Those that end a validity: one on the site's midnight is written as its last day (_end).
_ENDS = {"valid_to", "monthly_until"}


def export_all(store: Database, out_dir: Path, tz: ZoneInfo) -> dict[str, int]:
    import sqlite_utils  # here, not at start: the running gateway never exports

    db = sqlite_utils.Database(store.conn)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # One read transaction for the four files: one snapshot of the register (WAL), so a
        # resident added with her car while the export runs is in both files or in neither, and
        # the copy imports back. It holds no lock: the gateway's writes go on meanwhile.
        store.conn.execute("BEGIN")
        try:
            return {kind: _export(db, sql, out_dir / f"{kind}.csv", tz) for kind, sql in QUERIES.items()}
        finally:
            store.conn.execute("COMMIT")
    except OSError as exc:
        raise GatewayError(  # exit 1: the folder given is wrong, not the gateway's own storage
            f"cannot write the export to {out_dir}: {exc.strerror or exc}",
            fix="give a folder (new, or one of yours) that the user running gateway may write, "
            "on a disk with free space",
        ) from exc


def _export(db: sqlite_utils.Database, sql: str, path: Path, tz: ZoneInfo) -> int:
    tmp = path.with_suffix(".csv.tmp")
    n = 0
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(BOM)
            writer: csv.DictWriter[str] | None = None
            for row in db.query(sql):
                if writer is None:
                    writer = csv.DictWriter(f, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({k: _cell(k, v, tz) for k, v in row.items()})
                n += 1
            if writer is None:
                f.write(",".join(_columns(db, sql)) + "\n")
        tmp.replace(path)  # a half-written export never sits under the real name
    finally:
        tmp.unlink(missing_ok=True)
    return n


def _cell(column: str, value: object, tz: ZoneInfo) -> object:
    if value is None:
        return ""
    # An army plate stored as ED12345 is written ED-12345: import takes ED12345 for a green plate
    # typed without its province (grammar.province_left_out) and would refuse the export.
    if column in ("plate", "plates") and isinstance(value, str):
        return as_cell(";".join(as_written(plate) for plate in value.split(";")))
    if column in _ENDS and isinstance(value, str) and value:
        return _end(value, tz)
    if column in _TIMES and isinstance(value, str) and value:
        return _local(value, tz)
    return as_cell(value)


def _end(stored: str, tz: ZoneInfo) -> str:
    """The end of a validity as the lookup page shows it: one on the site's midnight is its last
    day (a month "to 2026-11-30" is stored as 1 December 00:00, and written 2026-11-30), which
    import reads back as the whole of that day, the same moment, and which Excel keeps as a date.
    Before Review 66 J it was written `2026-12-01 00:00`, another last day than the page's, and
    Excel saved a last day typed over it as `2026/12/31 0:00`. Any other end keeps its time."""
    at = datetime.fromisoformat(stored).astimezone(tz)
    day = last_day(at, tz).isoformat()
    try:
        if parse_local(day, tz, end_of_day=True) == at:  # exactly what import will read
            return day
    except ValueError:  # a last day in 1999 (an end at 2000-01-01 00:00): no year import takes
        pass
    return _local(stored, tz)


def _local(stored: str, tz: ZoneInfo) -> str:
    """A stored time as import reads it back exactly: the central server's validities carry seconds
    (23:59:59) and may carry a fraction of one; the store keeps microseconds, and so does the file."""
    at = datetime.fromisoformat(stored).astimezone(tz)
    if at.microsecond:
        return at.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0")
    return at.strftime("%Y-%m-%d %H:%M:%S" if at.second else "%Y-%m-%d %H:%M")


def _columns(db: sqlite_utils.Database, sql: str) -> list[str]:
    cursor = db.execute(sql + " LIMIT 0")
    return [d[0] for d in cursor.description]
