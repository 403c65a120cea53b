"""Repair deadlines (REQUIREMENTS 8: faults are repaired within a set time).

A device fault is an open device_offline alarm; past `[alarms] repair_hours` it is overdue and
raises repair_overdue, which clears when the device is back (or when the fault is gone otherwise).

A fault raised while this gateway runs is no older than the time it has run (monotonic): a Pi
without a real-time clock boots with fake-hwclock's stale time, so a camera still starting up is
recorded offline days back until NTP sets the clock; its wall-clock age would make 40 seconds a
repair days overdue. A fault from before the start is aged by the wall clock (the gateway was off).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.timefmt import from_db


@dataclass(frozen=True, slots=True)
class Overdue:
    device: str
    since: datetime
    age: timedelta


def overdue_repairs(
    conn: sqlite3.Connection,
    now: datetime,
    limit: timedelta,
    running_since: datetime | None = None,
    running: timedelta | None = None,
) -> tuple[list[Overdue], list[str]]:
    """Faults now past the limit with no repair_overdue alarm yet, and repair_overdue alarms whose
    fault is no longer open (to clear). A fault raised at or after `running_since` (the start, on the
    clock of the time) is at most `running` old (the monotonic time since)."""
    faults = {
        source: from_db(raised)
        for source, raised in conn.execute(
            "SELECT source, raised_at FROM alarms WHERE kind = 'device_offline' AND cleared_at IS NULL"
        )
    }
    raised = {
        source
        for (source,) in conn.execute(
            "SELECT source FROM alarms WHERE kind = 'repair_overdue' AND cleared_at IS NULL"
        )
    }

    def age(since: datetime) -> timedelta:
        if running is not None and running_since is not None and since >= running_since:
            return min(now - since, running)
        return now - since

    ages = [(device, since, age(since)) for device, since in sorted(faults.items()) if since is not None]
    overdue = [Overdue(d, since, a) for d, since, a in ages if a >= limit and d not in raised]
    return overdue, sorted(raised - faults.keys())
