"""Patrol rounds (电子巡更): when rounds are due, and whether each was done, late or missed.

Pure: the schedule, the taps and the current time come in as parameters. A round is due every
`every` from the start of the route's hours until their end; it takes the taps from its due time
until the next round is due. All checkpoints tapped within `allowed` of the due time: done; all
tapped later, but before the next round: late; not all tapped by then: missed. Past `allowed` and
still unfinished, it is overdue (the alarm for a late round is raised then, not at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.core.windows import Window

Status = Literal["pending", "overdue", "done", "late", "missed"]
FINAL = ("done", "late", "missed")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    id: str
    name: str
    checkpoints: tuple[str, ...]
    window: Window
    every: timedelta
    allowed: timedelta


@dataclass(frozen=True, slots=True)
class Tap:
    at: datetime
    checkpoint: str


@dataclass(frozen=True, slots=True)
class RoundResult:
    route: str
    due: datetime
    status: Status
    finished_at: datetime | None = None
    missing: tuple[str, ...] = ()


def due_times(route: RouteSpec, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every round of the route due in [start, end), in time order."""
    w = route.window
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() in w.weekdays:
            opens = datetime.combine(day, w.start.replace(tzinfo=None), tz)
            closes_day = day + timedelta(days=1) if w.end <= w.start else day
            closes = datetime.combine(closes_day, w.end.replace(tzinfo=None), tz)
            if w.end == time(0) and w.start == time(0):
                closes = opens + timedelta(days=1)
            due = opens
            while due < closes:
                if start <= due < end:
                    out.append(due)
                due = _add(due, route.every, tz)
        day += timedelta(days=1)
    return out


def still_open(
    route: RouteSpec, start: datetime, end: datetime, now: datetime, tz: ZoneInfo
) -> list[datetime]:
    """The rounds due in [start, end) that may still change at `now`: their next round is not due."""
    return [
        due for due in due_times(route, max(start, now - route.every), end, tz) if now < due + route.every
    ]


def _add(at: datetime, delta: timedelta, tz: ZoneInfo) -> datetime:
    return (at.astimezone(UTC) + delta).astimezone(tz)


def evaluate(route: RouteSpec, due: datetime, taps: list[Tap], now: datetime) -> RoundResult:
    """The state of one round at `now`, from the taps at the route's checkpoints."""
    closes = due + route.every
    deadline = due + route.allowed
    first: dict[str, datetime] = {}
    for tap in taps:
        counts = tap.checkpoint in route.checkpoints and due <= tap.at < closes and tap.at <= now
        if counts and (tap.checkpoint not in first or tap.at < first[tap.checkpoint]):
            first[tap.checkpoint] = tap.at
    missing = tuple(c for c in route.checkpoints if c not in first)
    if not missing:
        finished = max(first.values())
        return RoundResult(route.id, due, "done" if finished <= deadline else "late", finished)
    if now >= closes:
        return RoundResult(route.id, due, "missed", None, missing)
    if now >= deadline:
        return RoundResult(route.id, due, "overdue", None, missing)
    return RoundResult(route.id, due, "pending", None, missing)
