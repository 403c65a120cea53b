"""Repair deadlines (REQUIREMENTS 8: faults are repaired within a set time).

A device fault is an open device_offline alarm; past `[alarms] repair_hours` it is overdue and
raises repair_overdue, which clears when the device is back (or when the fault is gone otherwise).

A fault's age is by the wall clock. One raised while the clock was stale (a Pi without a real-time
clock boots with fake-hwclock's time, days back, until NTP sets it) is re-dated when the clock is
set (BootClock.follow, gateway/store/redate.py _alarms), so 40 seconds never read as days. A
running clock's step is not re-dated: deadlines are not judged for a day after one (the operations
thread's CLOCK_CONFIRM), so an hour of a clock ten years ahead reads no fault as 87,600 hours.
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
    conn: sqlite3.Connection, now: datetime, limit: timedelta
) -> tuple[list[Overdue], list[str]]:
    """Faults now past the limit with no repair_overdue alarm yet, and repair_overdue alarms whose
    fault is no longer open (to clear)."""
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

    ages = [(device, since, now - since) for device, since in sorted(faults.items()) if since is not None]
    overdue = [Overdue(d, since, a) for d, since, a in ages if a >= limit and d not in raised]
    return overdue, sorted(raised - faults.keys())
