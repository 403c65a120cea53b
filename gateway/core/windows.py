"""Time windows: daily hours (which may cross midnight), validity periods, closed-management periods."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

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

    def contains(self, at: datetime) -> bool:
        t = at.time().replace(tzinfo=None)
        if self.start < self.end:
            return at.weekday() in self.weekdays and self.start <= t < self.end
        # Crossing midnight: the part after midnight belongs to the previous day's window.
        if t >= self.start:
            return at.weekday() in self.weekdays
        if t < self.end:
            return (at.weekday() - 1) % 7 in self.weekdays
        return False

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
        return self.first_day <= at.date() <= self.last_day and within(self.windows, at)
