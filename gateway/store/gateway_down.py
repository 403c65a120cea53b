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

A start within the boot of the last heartbeat counts the stretch back from itself by the monotonic
clock (kept with each heartbeat, schema migration 72), which no step of the wall clock moves:
stopped five minutes to set a clock a day behind, it is five minutes, not a day (Review 65 Rd3). A
running clock's step seen after the start (an installer's typo set right, an RTC's glitch) moves
the stretch the start kept with it (start_moved), as it moves the gateway's start. A stretch that
ends more than AHEAD after now was kept on a clock far ahead and left so (a power cut before it was
set right): it counts nowhere, and retention deletes it; none counts past now.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from gateway.store.database import transaction
from gateway.timefmt import elapsed, from_db, later, to_db

HEARTBEAT = timedelta(minutes=1)
# Stretches less than this apart are given as one in the report (its `parts`, its seconds theirs
# only): a service crash-looping all day (up 25 s, RestartSec=2) kept one per start, 2,879 of them,
# and the report's record to the centre grew past mqtt.max_message_bytes (Review 65 Rd3). A crash's
# stretch begins at its last heartbeat, known to within a HEARTBEAT anyway.
JOIN_GAP = HEARTBEAT
AHEAD = timedelta(days=1)


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


@dataclass(frozen=True, slots=True)
class Kept:
    """What a start kept: its stretch (None: no heartbeat before it), whether that was counted back
    on the monotonic clock (its beginning is then on the start's clock too), and whether the start
    began the heartbeats. A running clock's step seen later moves them with the start."""

    down_id: int | None
    counted_back: bool = False
    began: bool = False


def beat(conn: sqlite3.Connection, at: datetime, boot: str, mono: float, *, clean: bool = False) -> None:
    """The gateway runs at `at`, `mono` on the monotonic clock (worker only): its one heartbeat row
    overwritten, never a new row, so that a year of them is one row's writes on the SD card."""
    with transaction(conn):
        _beat(conn, at, boot, mono, clean)


def came_up(conn: sqlite3.Connection, at: datetime, boot: str, mono: float) -> Kept:
    """The gateway started at `at`, `mono` on the monotonic clock (worker only): the stretch since
    the last heartbeat is kept, and the heartbeat written, in one transaction. In the heartbeat's
    boot the stretch is as long as the monotonic clock says, ending at `at`: a step of the wall
    clock while the service was stopped is no downtime. No heartbeat yet (a new box, or the first
    start after the upgrade that began keeping them): nothing is kept, and heartbeats begin at `at`
    (`began`, schema migration 72): a report of a period that began before then has gateway_down
    null."""
    with transaction(conn):
        last = conn.execute("SELECT at, boot, clean, mono FROM gateway_heartbeat WHERE id = 1").fetchone()
        if last is None:
            conn.execute(
                "INSERT INTO gateway_heartbeat (id, at, boot, clean, mono, began) VALUES (1, ?, ?, 0, ?, ?)",
                (to_db(at), boot, mono, to_db(at)),
            )
            return Kept(None, began=True)
        last_at, last_boot, clean, last_mono = last
        # the same boot by its id (none without /proc), and the monotonic clock not gone back since
        counted_back = bool(boot) and last_boot == boot and last_mono is not None and mono >= last_mono
        if counted_back:
            last_at = to_db(later(at, -timedelta(seconds=mono - last_mono)))
        kept = conn.execute(
            "INSERT INTO gateway_down (from_at, to_at, clean, from_boot) VALUES (?, ?, ?, ?)",
            (last_at, to_db(at), clean, last_boot),
        )
        _beat(conn, at, boot, mono, False)
        return Kept(kept.lastrowid, counted_back)


def start_moved(conn: sqlite3.Connection, kept: Kept, by: timedelta) -> None:
    """The wall clock stepped `by` on the running gateway after its start (a running clock's step:
    nothing is re-dated), which kept `kept` (worker only): the stretch's end, the start, moves with
    it, as does its beginning where that was counted back from the start, and when heartbeats
    began where the start began them. Left, a start on a clock typed ten years ahead kept a
    stretch to then, and every report after it said the gateway was down all day."""
    with transaction(conn):
        if kept.down_id is not None:
            row = conn.execute(
                "SELECT from_at, to_at FROM gateway_down WHERE id = ?", (kept.down_id,)
            ).fetchone()
            if row is not None:
                from_at = _later(row[0], by) if kept.counted_back else row[0]
                conn.execute(
                    "UPDATE gateway_down SET from_at = ?, to_at = ? WHERE id = ?",
                    (from_at, _later(row[1], by), kept.down_id),
                )
        if kept.began:
            row = conn.execute("SELECT began FROM gateway_heartbeat WHERE id = 1").fetchone()
            if row is not None and row[0] is not None:
                conn.execute("UPDATE gateway_heartbeat SET began = ? WHERE id = 1", (_later(row[0], by),))


def _later(stored: str, by: timedelta) -> str:
    at = from_db(stored)
    return stored if at is None else to_db(later(at, by))


def _beat(conn: sqlite3.Connection, at: datetime, boot: str, mono: float, clean: bool) -> None:
    conn.execute(
        "INSERT INTO gateway_heartbeat (id, at, boot, clean, mono) VALUES (1, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET at = excluded.at, boot = excluded.boot, clean = excluded.clean, "
        "mono = excluded.mono",
        (to_db(at), boot, int(clean), mono),
    )


def heartbeats_began(conn: sqlite3.Connection) -> datetime | None:
    """When the gateway began keeping heartbeats (its first start that found none; None before any
    start): when it ran before then is not known (Review 65 Rd3: a day before the upgrade, rebuilt
    after it, read as one it ran through)."""
    row = conn.execute("SELECT began FROM gateway_heartbeat WHERE id = 1").fetchone()
    return None if row is None else from_db(row[0])


def down_between(
    conn: sqlite3.Connection, start: datetime, end: datetime, tz: tzinfo, now: datetime
) -> list[Down]:
    """The stretches the gateway was down within [start, end), each cut to it and to `now`, oldest
    first, in the site's zone. One that ends before it began (kept on a stale boot clock not set
    yet) is none; so is one that ends more than AHEAD after `now` (kept on a clock far ahead)."""
    rows = conn.execute(
        "SELECT from_at, to_at, clean FROM gateway_down INDEXED BY gateway_down_to "
        "WHERE to_at > ? AND to_at <= ? AND from_at < ? ORDER BY from_at",
        (to_db(start), to_db(now + AHEAD), to_db(end)),
    )
    found = []
    for from_at, to_at, clean in rows:
        down_from, down_to = from_db(from_at), from_db(to_at)
        if down_from is None or down_to is None:
            continue
        until = min(down_to, end, now)
        cut = Down(max(down_from, start).astimezone(tz), until.astimezone(tz), bool(clean))
        if cut.end > cut.start:
            found.append(cut)
    return found


def prune_down(conn: sqlite3.Connection, before: datetime, now: datetime) -> int:
    """Forget the stretches that ended before `before` (retention: no report older is built again),
    and those that end more than AHEAD after `now`: kept on a clock far ahead, never set right."""
    with transaction(conn):
        return conn.execute(
            "DELETE FROM gateway_down WHERE to_at < ? OR to_at > ?", (to_db(before), to_db(now + AHEAD))
        ).rowcount
