"""When the gateway itself was not running (schema migration 69: gateway_heartbeat, gateway_down).

A box off from 08:00 to 20:00 (a power cut, the SD card swapped) counted nobody then, and its daily
report, made up when it started again, read as a quiet day (Review 65 D3). The operations thread
writes a heartbeat about once a minute (HEARTBEAT): one row, overwritten, with the kernel's boot id;
a clean stop writes a last one as it stops, marked clean. Each start keeps the stretch from the last
heartbeat to itself as one the gateway was down (`from` the last heartbeat, `to` the start): after
a power cut or a crash the stop came within a minute after `from`; after a clean stop (a restart, an
upgrade) `from` is the stop, and a restart is its seconds. The daily report gives the stretches
within its period (gateway/parking/report.py _gateway_down), and the closed-management summary
their seconds in the closed hours.

A Pi without a real-time clock starts on fake-hwclock's stale time, so the stretch it keeps may end
before it began: it counts nothing until NTP sets the clock, when the re-dating moves its end (and
its start, kept by a restart within that boot) to the true time (gateway/store/redate.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from gateway.store.database import transaction
from gateway.timefmt import elapsed, from_db, to_db

HEARTBEAT = timedelta(minutes=1)
# Stretches less than this apart are given as one in the report (its `parts`, its seconds theirs
# only): a service crash-looping all day (up 25 s, RestartSec=2) kept one per start, 2,879 of them,
# and the report's record to the centre grew past mqtt.max_message_bytes (Review 65 Rd3). A crash's
# stretch begins at its last heartbeat, known to within a HEARTBEAT anyway.
JOIN_GAP = HEARTBEAT


@dataclass(frozen=True, slots=True)
class Down:
    """A stretch the gateway was down, cut to a report's period: from when, to when, and whether the
    stop before it was a clean one (`from` is then the stop itself)."""

    start: datetime
    end: datetime
    clean: bool

    @property
    def seconds(self) -> int:
        return round(elapsed(self.start, self.end).total_seconds())


def beat(conn: sqlite3.Connection, at: datetime, boot: str, *, clean: bool = False) -> None:
    """The gateway runs at `at` (worker only): its one heartbeat row overwritten, never a new row,
    so that a year of them is one row's writes on the SD card."""
    with transaction(conn):
        _beat(conn, at, boot, clean)


def came_up(conn: sqlite3.Connection, at: datetime, boot: str) -> None:
    """The gateway started at `at` (worker only): the stretch since the last heartbeat is kept, and
    the heartbeat written, in one transaction. No heartbeat yet (a new box, or the first start after
    the upgrade that began keeping them): nothing is kept, and heartbeats begin at `at` (`began`,
    schema migration 72): a report of a period that began before then has gateway_down null."""
    with transaction(conn):
        last = conn.execute("SELECT at, boot, clean FROM gateway_heartbeat WHERE id = 1").fetchone()
        if last is None:
            conn.execute(
                "INSERT INTO gateway_heartbeat (id, at, boot, clean, began) VALUES (1, ?, ?, 0, ?)",
                (to_db(at), boot, to_db(at)),
            )
            return
        conn.execute(
            "INSERT INTO gateway_down (from_at, to_at, clean, from_boot) VALUES (?, ?, ?, ?)",
            (last[0], to_db(at), last[2], last[1]),
        )
        _beat(conn, at, boot, False)


def _beat(conn: sqlite3.Connection, at: datetime, boot: str, clean: bool) -> None:
    conn.execute(
        "INSERT INTO gateway_heartbeat (id, at, boot, clean) VALUES (1, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET at = excluded.at, boot = excluded.boot, clean = excluded.clean",
        (to_db(at), boot, int(clean)),
    )


def heartbeats_began(conn: sqlite3.Connection) -> datetime | None:
    """When the gateway began keeping heartbeats (its first start that found none; None before any
    start): when it ran before then is not known (Review 65 Rd3: a day before the upgrade, rebuilt
    after it, read as one it ran through)."""
    row = conn.execute("SELECT began FROM gateway_heartbeat WHERE id = 1").fetchone()
    return None if row is None else from_db(row[0])


def down_between(conn: sqlite3.Connection, start: datetime, end: datetime, tz: tzinfo) -> list[Down]:
    """The stretches the gateway was down within [start, end), each cut to it, oldest first, in the
    site's zone. One that ends before it began (kept on a stale boot clock not set yet) is none."""
    rows = conn.execute(
        "SELECT from_at, to_at, clean FROM gateway_down INDEXED BY gateway_down_to "
        "WHERE to_at > ? AND from_at < ? ORDER BY from_at",
        (to_db(start), to_db(end)),
    )
    found = []
    for from_at, to_at, clean in rows:
        down_from, down_to = from_db(from_at), from_db(to_at)
        if down_from is None or down_to is None:
            continue
        cut = Down(max(down_from, start).astimezone(tz), min(down_to, end).astimezone(tz), bool(clean))
        if cut.end > cut.start:
            found.append(cut)
    return found


def prune_down(conn: sqlite3.Connection, before: datetime) -> int:
    """Forget the stretches that ended before `before` (retention: no report older is built again)."""
    with transaction(conn):
        return conn.execute("DELETE FROM gateway_down WHERE to_at < ?", (to_db(before),)).rowcount
