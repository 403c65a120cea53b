"""Repair deadlines (REQUIREMENTS 8: faults are repaired within a set time).

A device fault is an open device_offline alarm; past `[alarms] repair_hours` it is overdue and
raises repair_overdue, which clears when the device has been back `[alarms] clear_after_s`, as of
its return (or when the fault is gone otherwise).

A fault's age is by the wall clock. One raised while the clock was stale (a Pi without a real-time
clock boots with fake-hwclock's time, days back, until NTP sets it) is re-dated when the clock is
set (BootClock.follow, gateway/store/redate.py _alarms), so 40 seconds never read as days. A
running clock's step is not re-dated: deadlines are not judged for a day after one (the operations
thread's CLOCK_CONFIRM), so an hour of a clock ten years ahead reads no fault as 87,600 hours. A
fault raised during that hour is dated in 2035: the first look that judges deadlines after the clock
is set back dates it from then (date_faults_ahead), so that it still reaches its deadline.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.store.alarms import tell_redated
from gateway.store.database import transaction
from gateway.store.device_returns import waiting_returns
from gateway.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class Overdue:
    device: str
    since: datetime
    age: timedelta


def overdue_repairs(
    conn: sqlite3.Connection, now: datetime, limit: timedelta
) -> tuple[list[Overdue], list[str], list[str]]:
    """Faults now past the limit with no repair_overdue alarm yet, repair_overdue alarms whose
    fault is no longer open (to clear), and the devices whose fault is dated after `now` (to date
    from now: date_faults_ahead). A fault whose device is back, waiting to clear
    (store/device_returns.py), is not overdue: it clears as of its return if the device stays, and
    goes on counting from its first going off if it does not."""
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

    back = waiting_returns(conn)
    ages = [(device, since, now - since) for device, since in sorted(faults.items()) if since is not None]
    overdue = [Overdue(d, since, a) for d, since, a in ages if a >= limit and d not in raised | back.keys()]
    ahead = [d for d, _, age in ages if age < timedelta(0)]
    return overdue, sorted(raised - faults.keys()), ahead


def date_faults_ahead(conn: sqlite3.Connection, now: datetime) -> int:
    """Date the open faults raised after `now` from `now`: they were raised on a clock that ran
    ahead and was set back since, at a true time nobody knows (after the last look on the right
    clock), and aged from the future they would reach no deadline until the clock catches up. Not
    while the clock may be the stale one the box booted on (the caller's: BootClock.may_be_stale):
    a fault ahead of it is from before the power cut, a true time.

    The alarm row is not append-only (its clearing and acknowledgement are written into it, and
    the boot clock being set re-dates it): raised_at is when the fault counts from, the operations
    log names the devices whose fault was moved, and the centre, which got the fault dated ahead,
    gets its raise again, redated (tell_redated)."""
    with transaction(conn):
        ahead = conn.execute(
            "SELECT id, raised_at FROM alarms "
            "WHERE kind = 'device_offline' AND cleared_at IS NULL AND raised_at > ?",
            (to_db(now),),
        ).fetchall()
        for alarm_id, raised in ahead:
            conn.execute("UPDATE alarms SET raised_at = ? WHERE id = ?", (to_db(now), alarm_id))
            tell_redated(conn, alarm_id, {"raised_at": raised}, now)
    return len(ahead)
