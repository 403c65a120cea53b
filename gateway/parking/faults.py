"""The devices section of the daily report: faults, downtime, and how repairs kept to the deadline.

A fault is a device_offline alarm. Faults still open when the period ends are listed with their age
and whether they are past `[alarms] repair_hours` (REQUIREMENTS 8: repaired within a set time).
A fault repaired after the deadline was repaired late: the centre is sent repair_overdue for it, at
the latest at the repairs step's next look (tell_late_repair). The report counts as repaired late
the faults repair_overdue was raised for: what the centre was told, judged by the repair_hours of
then and on a clock trusted then, whatever the config and the clock say when it is built again.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.alarm_texts import AlarmText, from_stored
from gateway.store.alarms import end_alarm, write_alarm
from gateway.store.database import transaction
from gateway.timefmt import from_db, to_db


def overdue_text(device: str, age: timedelta, limit: timedelta) -> AlarmText:
    hours = {"hours": age / timedelta(hours=1), "limit_hours": limit / timedelta(hours=1)}
    return AlarmText("repair_overdue", {"device": device, **hours})


def past_limit(raised: datetime, cleared: datetime, limit: timedelta) -> bool:
    return cleared - raised > limit


@dataclass(frozen=True, slots=True)
class Repair:
    device: str
    since: datetime
    repaired: datetime


Span = tuple[datetime, datetime]


def _overdue_raised(until: str) -> str:
    """SQL: a repair_overdue of fault f's device raised since f began, up to `until` (SQL); read
    through those alarms' own index (schema migration 43), not among every alarm kept."""
    return f"""EXISTS (
    SELECT 1 FROM alarms o WHERE o.kind = 'repair_overdue' AND o.source = f.source
    AND o.raised_at >= f.raised_at AND {until})"""


# A fault's repair_overdue is raised while it is open (the repairs step) or at its clearing
# (tell_late_repair): one raised between the two is the fault's, and the centre was told.
_TOLD = _overdue_raised("o.raised_at <= f.cleared_at")

# An open fault the centre was told was overdue by the end of a report's period (:e), whatever
# repair_hours says when the report is built.
_TOLD_BY = _overdue_raised("o.raised_at < :e")

# The alarms of a report's period (:s to :e): raised before its end and open at its start. Those
# still open now through the index of the open ones, a few; those closed since its start through
# the clearing time's (schema migration 43). Read by the time raised, every alarm kept raised before
# the period was read (a camera on a weak link: a hundred a day, kept half a year).
_OF_PERIOD = f"""
SELECT f.kind, f.source, f.raised_at, f.cleared_at, {_TOLD}, {_TOLD_BY} FROM (
    SELECT id, kind, source, raised_at, cleared_at FROM alarms INDEXED BY alarms_open
    WHERE cleared_at IS NULL AND raised_at < :e
    UNION ALL
    SELECT id, kind, source, raised_at, cleared_at FROM alarms INDEXED BY alarms_cleared
    WHERE cleared_at >= :s AND raised_at < :e) f
ORDER BY f.raised_at, f.id
"""

_UNTOLD = f"""
SELECT f.source, f.raised_at, f.cleared_at FROM alarms f
WHERE f.kind = 'device_offline' AND f.cleared_at >= ? AND f.cleared_at <= ? AND NOT {_TOLD}
ORDER BY f.cleared_at, f.id
"""


def repairs_from(
    conn: sqlite3.Connection, judged: datetime | None, now: datetime, oldest: datetime
) -> datetime:
    """Where the look for late repairs starts: the last look that `judged` repairs, so that one
    judged under an older repair_hours is never judged again under today's (not after now: that
    look was on a clock since set back). A gateway that never kept it (the first start after an
    upgrade) starts after the newest daily report built, whose repairs were in the reports sent,
    and, as the reports built after an outage, not before `oldest`."""
    if judged is None:
        row = conn.execute("SELECT period_end FROM daily_reports ORDER BY day DESC LIMIT 1").fetchone()
        judged = max(datetime.fromisoformat(row[0]), oldest) if row else now
    return min(judged, now)


def untold_repairs(conn: sqlite3.Connection, since: datetime, now: datetime) -> list[Repair]:
    """Faults cleared from `since` to `now` that never raised repair_overdue, on time or not. One
    cleared after `now` was cleared on a clock since set back (untrusted_spans keeps it out when
    the clock gets there)."""
    repairs = []
    for source, raised, cleared in conn.execute(_UNTOLD, (to_db(since), to_db(now))):
        began, repaired = from_db(raised), from_db(cleared)
        if began and repaired:  # in the site's zone (now's), as the repair is told upstream
            repairs.append(Repair(source, began.astimezone(now.tzinfo), repaired.astimezone(now.tzinfo)))
    return repairs


def untrusted_spans(conn: sqlite3.Connection, seen_within: timedelta) -> list[Span]:
    """When the wall clock was not trusted, by the clock_stepped alarms kept: the pause after each
    step, as read on the clock after it (the look that raised the alarm saw the step `seen_within`
    of it) and on the clock before it (a wrong time set right again). A step taken while that
    alarm is still open raises no other: only the log has it."""
    spans: list[Span] = []
    for raised, message in conn.execute("SELECT raised_at, message FROM alarms WHERE kind = 'clock_stepped'"):
        text, seen = from_stored(message), from_db(raised)
        step, pause = (text.params.get(key) if text else None for key in ("step_hours", "pause_hours"))
        if seen is None or not isinstance(step, int | float) or not isinstance(pause, int | float):
            continue  # a plain sentence, from a version before its parameters were kept
        before = seen - timedelta(hours=step)
        spans += [(at - seen_within, at + timedelta(hours=pause)) for at in (seen, before)]
    return spans


def late_repairs(
    repairs: list[Repair], limit: timedelta, untrusted: list[Span], configured: set[str]
) -> list[Repair]:
    """The repairs past the limit that the centre is to be told of. Not one whose fault began or
    ended while the clock was not trusted: across a step, its length is no repair time (three
    hours read 87,600 with an hour of a clock ten years ahead). Nor one of a device no longer in
    the site config: its fault was cleared at the start that found it taken out, not repaired."""

    def trusted(at: datetime) -> bool:
        return not any(start <= at <= end for start, end in untrusted)

    return [
        r
        for r in repairs
        if r.device in configured
        and trusted(r.since)
        and trusted(r.repaired)
        and past_limit(r.since, r.repaired, limit)
    ]


def tell_late_repair(conn: sqlite3.Connection, late: Repair, limit: timedelta) -> bool:
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
    for kind, source, raised, cleared, told, told_overdue in conn.execute(_OF_PERIOD, {"s": s, "e": e}):
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
                    # told by the end, or past the deadline then (told at the next look)
                    "overdue": bool(told_overdue) or age >= limit,
                }
            )
        elif told:  # past the limit by the repair_hours of then, dated on a clock trusted then
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
