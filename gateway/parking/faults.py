"""The devices section of the daily report: faults, downtime, and how repairs kept to the deadline.

A fault is a device_offline alarm. Faults still open when the period ends are listed with their age
and whether they are past `[alarms] repair_hours` (REQUIREMENTS 8: repaired within a set time).
A fault repaired after the deadline was repaired late: the centre is sent repair_overdue for it, at
the latest at the repairs step's next look (tell_late_repair), so the report counts what it was told.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.alarm_texts import AlarmText
from gateway.store.alarms import end_alarm, write_alarm
from gateway.store.database import transaction
from gateway.timefmt import from_db, to_db


def overdue_text(device: str, age: timedelta, limit: timedelta) -> AlarmText:
    hours = {"hours": age / timedelta(hours=1), "limit_hours": limit / timedelta(hours=1)}
    return AlarmText("repair_overdue", {"device": device, **hours})


def past_limit(raised: datetime, cleared: datetime, limit: timedelta) -> bool:
    return cleared - raised > limit


@dataclass(frozen=True, slots=True)
class LateRepair:
    device: str
    since: datetime
    repaired: datetime


# A fault's repair_overdue is raised while it is open (the repairs step) or at its clearing
# (tell_late_repair): one raised between the two is the fault's.
_UNTOLD = """
SELECT f.source, f.raised_at, f.cleared_at FROM alarms f
WHERE f.kind = 'device_offline' AND f.cleared_at >= ? AND NOT EXISTS (
    SELECT 1 FROM alarms o WHERE o.kind = 'repair_overdue' AND o.source = f.source
    AND o.raised_at >= f.raised_at AND o.raised_at <= f.cleared_at)
ORDER BY f.cleared_at, f.id
"""


def untold_late_repairs(conn: sqlite3.Connection, limit: timedelta, since: datetime) -> list[LateRepair]:
    """Faults repaired since `since`, past the limit, that never raised repair_overdue: repaired
    while the gateway was off (cleared at its start), between two looks of the repairs step, or in
    its pause after a clock step."""
    late = []
    for source, raised, cleared in conn.execute(_UNTOLD, (to_db(since),)):
        began, repaired = from_db(raised), from_db(cleared)
        if began and repaired and past_limit(began, repaired, limit):
            late.append(LateRepair(source, began, repaired))
    return late


def tell_late_repair(conn: sqlite3.Connection, late: LateRepair, limit: timedelta) -> bool:
    """Raise and clear repair_overdue as of the repair, in one transaction: the centre hears that
    the fault was overdue, and that it is over. False while one is open for the device's next
    fault (the alarm is one per device): this one is told at a later look, once that one is over."""
    text = overdue_text(late.device, late.repaired - late.since, limit)
    with transaction(conn):
        told = write_alarm(conn, "repair_overdue", late.device, text, late.repaired)
        if told:
            end_alarm(conn, "repair_overdue", late.device, late.repaired)
    return told


def device_faults(
    conn: sqlite3.Connection, s: str, e: str, start: datetime, end: datetime, repair_hours: float
) -> dict[str, Any]:
    limit = timedelta(hours=repair_hours)
    faults: Counter[str] = Counter()
    down: defaultdict[str, float] = defaultdict(float)
    by_kind: Counter[str] = Counter()
    still_open: list[dict[str, Any]] = []
    repaired_late = 0
    for kind, source, raised, cleared in conn.execute(
        "SELECT kind, source, raised_at, cleared_at FROM alarms "
        "WHERE raised_at < ? AND (cleared_at IS NULL OR cleared_at >= ?) ORDER BY raised_at, id",
        (e, s),
    ):
        if raised >= s:
            by_kind[kind] += 1
        if kind != "device_offline":
            continue
        if raised >= s:
            faults[source] += 1
        raised_at: datetime = from_db(raised)  # type: ignore[assignment]
        cleared_at = from_db(cleared)
        began = max(raised_at, start)
        ended = min(cleared_at, end) if cleared_at else end
        down[source] += max((ended - began).total_seconds(), 0)
        if cleared_at is None or cleared_at >= end:
            age = end - raised_at
            still_open.append(
                {
                    "device": source,
                    "since": raised_at.astimezone(start.tzinfo).isoformat(),
                    "age_hours": round(age / timedelta(hours=1), 1),
                    "overdue": age >= limit,
                }
            )
        elif past_limit(raised_at, cleared_at, limit):
            repaired_late += 1
    devices = sorted(set(faults) | set(down))
    return {
        "faults": sum(faults.values()),
        "downtime_s": round(sum(down.values())),
        "by_device": [
            {"device": d, "faults": faults.get(d, 0), "downtime_s": round(down.get(d, 0))} for d in devices
        ],
        "alarms_raised": dict(sorted(by_kind.items())),
        "repair_hours": repair_hours,
        "open_faults": still_open,
        "overdue_faults": sum(1 for f in still_open if f["overdue"]),
        "repaired_late": repaired_late,
    }
