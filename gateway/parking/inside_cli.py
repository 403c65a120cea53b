"""`gateway import-inside FILE.csv`: the cars already inside on an estate's first day, all or nothing.

Each row is recorded as an admin records one car (gateway/parking/inside.py, record_inside), in one
transaction for the whole file: a bad row anywhere (named by file and line, with what to do) and
nothing is written, exit 65. It runs beside the service as `gateway import` does: the database's
busy timeout, and exit 1 when another process holds it past that (README, Exit status).
"""

from __future__ import annotations

import argparse
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError, ImportRejected, StorageError

if TYPE_CHECKING:
    from gateway.site import Site
    from gateway.store.csv_inside import InsideRow, Problem

DEFAULT_REASON = "day one: parked before the gateway"
# The column of the file a refusal of record_inside is about, by its code.
_COLUMN = {
    "invalid_plate": "plate",
    "ticket_typed": "plate",
    "already_inside": "plate",
    "left_since": "entered_at",
    "bad_time": "entered_at",
    "unknown_class": "vehicle_class",
    "wrong_class": "vehicle_class",
    "unknown_zone": "zone",
    "zone_needed": "zone",
}


def add_arguments(sub: Any) -> None:
    helped = "record the cars already inside (an estate's first day) from a CSV file (all or nothing)"
    sp = sub.add_parser("import-inside", help=helped, description=helped)
    sp.add_argument("-c", "--config", required=True, type=Path, help="site config file (TOML)")
    sp.add_argument("file", type=Path, help="CSV: plate, and optionally entered_at, vehicle_class, zone")
    sp.add_argument(
        "--reason",
        default=DEFAULT_REASON,
        help=f"why, for the audit trail and the central server (default: {DEFAULT_REASON!r})",
    )
    from gateway.cli import add_encoding_argument

    add_encoding_argument(sp)
    sp.set_defaults(func=cmd_import_inside)


def cmd_import_inside(args: argparse.Namespace) -> int:
    from gateway.accounts.cli import cli_actor
    from gateway.config import load_config
    from gateway.site import Site
    from gateway.store.csv_inside import read_inside
    from gateway.store.database import DB_NAME, open_database

    reason = args.reason.strip()
    if not 2 <= len(reason) <= 200:
        raise GatewayError(f"--reason {args.reason!r} is too short or long", fix="give 2 to 200 characters")
    cfg = load_config(args.config)
    site = Site.from_config(cfg)
    rows, problems = read_inside(args.file, site.tz, args.encoding)
    if not rows:
        if problems:
            raise ImportRejected([p for _, p in problems], len(problems))
        print(f"no cars in {args.file}: nothing recorded")
        return 0
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    try:
        now = datetime.now(site.tz)
        _check_stream(db.conn, cfg.site.data_dir, now)
        recorded = _record_all(db.conn, site, args.file, rows, problems, reason, cli_actor(), now)
        _summary(db.conn, site, recorded)
    finally:
        db.conn.close()
    return 0


def _check_stream(conn: sqlite3.Connection, data_dir: Path, now: datetime) -> None:
    """Its `stay` records go up in the database's stream, as an import's do (store/admin.py). Its
    fix by the cause, as the service's journal words it: only a full disk is told to free space."""
    from gateway.runtime.outbox_stream import check_outbox_stream
    from gateway.store.database import storage_cause, storage_fix

    try:
        check_outbox_stream(conn, data_dir, now, bring_up=False)
    except sqlite3.Error as exc:
        raise StorageError(
            f"the cars inside could not be recorded: {exc}; nothing was recorded",
            fix=f"{storage_fix(storage_cause(exc, data_dir), data_dir)}; then run it again",
        ) from exc


def _record_all(
    conn: sqlite3.Connection,
    site: Site,
    path: Path,
    rows: list[InsideRow],
    problems: list[Problem],
    reason: str,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every row in one transaction, in the order the cars came in (the first of a shared slot's
    cars in is the one on the slot, as at the lanes); any refusal, or any of the file's `problems`,
    and none is kept. The good rows are tried all the same, so that every bad row is named at once."""
    from gateway.parking.inside import record_inside
    from gateway.store.database import transaction
    from gateway.store.parking import ParkingError

    ordered = sorted(rows, key=lambda r: ((r.car.entered_at or now).timestamp(), r.line))
    recorded: list[dict[str, Any]] = []
    problems = list(problems)
    with transaction(conn):
        for row in ordered:
            try:
                recorded.append({**record_inside(conn, site, row.car, reason, actor, now), "line": row.line})
            except ParkingError as exc:
                column = _COLUMN.get(exc.http_code, "plate")
                said = exc.message if exc.message.startswith(column) else f"{column}: {exc.message}"
                problems.append((row.line, f"{path}:{row.line}: {said}; fix: {exc.fix}"))
        if problems:  # raised inside the transaction: it is rolled back
            raise ImportRejected([p for _, p in sorted(problems)], len(problems))
    return recorded


def _summary(conn: sqlite3.Connection, site: Site, recorded: list[dict[str, Any]]) -> None:
    """What was recorded, per zone and class, and the zones whose shared spaces it overfilled: the
    lanes refuse every car without its own free slot there (车位已满) until enough have left."""
    from gateway.store.occupancy import occupancy

    names = {z.id: z.name for z in site.config.zones}
    counts = Counter((r["zone"], r["class"]) for r in recorded)
    on_slots = sum(1 for r in recorded if r["slot_id"] is not None)
    print(f"recorded {len(recorded)} car(s) inside ({on_slots} on their own slots):")
    for (zone, vclass), n in sorted(counts.items()):
        print(f"  {zone} ({names.get(zone, zone)}) {vclass}: {n}")
    # The tickets given: each car's paper ticket needs its number, which its exit takes back.
    for r in sorted((r for r in recorded if r["no_plate"]), key=lambda r: r["line"]):
        print(f"  line {r['line']}: 无牌车, ticket {r['plate']}: write it on the car's paper ticket")
    for row in occupancy(conn, site.capacity, names):
        over = row["shared_occupied"] - row["shared_capacity"]
        if over > 0:
            print(
                f"warning: zone {row['zone']!r} {row['class']}: {row['shared_occupied']} cars in its "
                f"{row['shared_capacity']} shared spaces ({over} over): the lanes refuse cars without "
                "a free slot of their own there (车位已满, zone_full) until enough have left; if the zone "
                "has more spaces, set its capacity in site.toml (docs/config.md) and restart"
            )
