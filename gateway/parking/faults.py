"""The devices section of the daily report: faults, downtime, and how repairs kept to the deadline.

A fault is a device_offline alarm. Faults still open when the period ends are listed with their age
and whether they are past `[alarms] repair_hours` (REQUIREMENTS 8: repaired within a set time).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from gateway.timefmt import from_db


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
        elif cleared_at - raised_at > limit:
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
