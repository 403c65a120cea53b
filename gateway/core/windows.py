"""Time windows: daily hours (which may cross midnight), validity periods, closed-management periods."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

ALL_DAYS = frozenset(range(7))  # Monday = 0, as datetime.weekday() counts
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Window:
    """Daily hours. An end at or before the start crosses midnight (22:00-06:00)."""

    start: time
    end: time
    weekdays: frozenset[int] = ALL_DAYS

    @classmethod
    def parse(cls, text: str, weekdays: frozenset[int] = ALL_DAYS) -> Window:
        m = _HOURS.match(text)
        if not m:
            raise ValueError(f"hours {text!r} are not HH:MM-HH:MM (for example 07:00-21:00)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h2 == 24 and m2 == 0:
            h2, m2 = 0, 0
        for h, mi in ((h1, m1), (h2, m2)):
            if h > 23 or mi > 59:
                raise ValueError(f"hours {text!r}: {h:02d}:{mi:02d} is not a time of day")
        return cls(time(h1, m1), time(h2, m2), weekdays)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def contains(self, at: datetime) -> bool:
        return self.day_of(at) is not None

    def day_of(self, at: datetime) -> date | None:
        """The day whose hours `at` falls in, or None. The part of a window after midnight
        belongs to the day it began on (02:00 in 22:00-06:00 belongs to yesterday)."""
        t = at.time().replace(tzinfo=None)
        day = at.date()
        if not self.crosses_midnight:
            inside = self.start <= t < self.end
        elif t >= self.start:
            inside = True
        elif t < self.end:
            inside, day = True, day - timedelta(days=1)
        else:
            inside = False
        return day if inside and day.weekday() in self.weekdays else None

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def within(windows: tuple[Window, ...], at: datetime) -> bool:
    """No windows means no restriction."""
    return not windows or any(w.contains(at) for w in windows)


@dataclass(frozen=True, slots=True)
class Validity:
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    windows: tuple[Window, ...] = ()

    def not_yet(self, at: datetime) -> bool:
        return self.valid_from is not None and at < self.valid_from

    def expired(self, at: datetime) -> bool:
        return self.valid_to is not None and at >= self.valid_to

    def covers(self, at: datetime) -> bool:
        """Begun and not over at `at` (its daily hours aside)."""
        return not self.not_yet(at) and not self.expired(at)

    def admits(self, at: datetime) -> bool:
        """Begun, not over, and within its daily hours at `at`."""
        return self.covers(at) and within(self.windows, at)


@dataclass(frozen=True, slots=True)
class ClosedPeriod:
    """A closed-management period (封闭式管理): dates, and the daily hours within them."""

    first_day: date
    last_day: date
    windows: tuple[Window, ...] = ()
    admit_temporary_vehicles: bool = False
    admit_contractors: bool = False
    visitor_fields: tuple[str, ...] = field(default=())

    def active(self, at: datetime) -> bool:
        """Within the period's hours on one of its days. Overnight hours count for the day they
        began: 21:00-07:00 from 1 to 30 Nov runs from 21:00 on 1 Nov to 07:00 on 1 Dec."""
        if not self.windows:
            return self.first_day <= at.date() <= self.last_day
        days = (w.day_of(at) for w in self.windows)
        return any(d is not None and self.first_day <= d <= self.last_day for d in days)

    def touches(self, first: date, last: date) -> bool:
        """Whether it can be active on some day from `first` to `last` (the morning after its
        last day too, when its hours run past midnight)."""
        runs_to = self.last_day + timedelta(days=1 if any(w.crosses_midnight for w in self.windows) else 0)
        return self.first_day <= last and first <= runs_to

    def keeps_out(self, holder_kind: str, registered_fields: Collection[str]) -> bool:
        """Whether the period keeps this pass holder out: a contractor unless contractors are
        admitted, a visitor registered without every field the period asks for."""
        if holder_kind == "contractor":
            return not self.admit_contractors
        if holder_kind == "visitor":
            return not set(self.visitor_fields) <= set(registered_fields)
        return False
