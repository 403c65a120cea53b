"""Time windows: daily hours (which may cross midnight), validity periods, closed-management periods."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from typing import cast

from gateway.typed import DASHES, typed

ALL_DAYS = frozenset(range(7))  # Monday = 0, as datetime.weekday() counts
_HOURS = re.compile(r"^\s*([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})\s*$")
# What Chinese keyboards give between the two times besides the hyphen (typed() makes the full-width
# －, ～ and ： ASCII): the tilde 08:00~18:00, as times are often written, the wave dash 〜, dashes,
# and 至 (to); and ∶ (U+2236), which some input methods give for the colon.
_RANGE_MARKS = str.maketrans({c: "-" for c in f"~〜{DASHES}至"} | {"∶": ":"})
# The fix for hours that end when they start (Window.parse), by what the hours are for. Hours that
# let people in (a lane's, a card's, a pass's) or hold a closed period may be left empty for any
# time; a night rate's or a patrol route's may not, so each caller says what its hours mean.
DIFFERENT_END = "give an end different from the start, e.g. 22:00-07:00"
DIFFERENT_END_OR_EMPTY = (
    "give an end different from the start, e.g. 08:00-18:00, or leave the hours empty for any time"
)


def hours_text(text: str) -> str:
    """Daily hours as typed, in the form Window.parse reads and the gateway stores: 08：00-18：00
    (typed in Chinese punctuation mode), ０８:００～１８:００ (full-width) and 08:00~18:00 are all
    08:00-18:00. Hours typed as HH:MM-HH:MM stay as they are but for spaces round them."""
    return typed(text).translate(_RANGE_MARKS)


@dataclass(frozen=True, slots=True)
class Window:
    """Daily hours. An end at or before the start crosses midnight (22:00-06:00)."""

    start: time
    end: time
    weekdays: frozenset[int] = ALL_DAYS

    @classmethod
    def parse(
        cls, text: str, weekdays: frozenset[int] = ALL_DAYS, *, stored: bool = False, fix: str = DIFFERENT_END
    ) -> Window:
        """`stored`: hours read back from the database, where a window whose end equals its start
        was taken before version 38 and meant round the clock: it keeps meaning that (the start
        says so, runtime/config_edits.py), rather than refusing everyone as storage_failed. `fix`:
        what to do instead of hours that end when they start, as the caller's hours mean."""
        m = _HOURS.match(hours_text(text))
        if not m:
            raise ValueError(f"hours {text!r} are not HH:MM-HH:MM (for example 07:00-21:00)")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h2 == 24 and m2 == 0:
            h2, m2 = 0, 0
        for h, mi in ((h1, m1), (h2, m2)):
            if h > 23 or mi > 59:
                raise ValueError(f"hours {text!r}: {h:02d}:{mi:02d} is not a time of day")
        # An end equal to the start would cross midnight into a window open round the clock, so a
        # slip (08:00-08:00 for 08:00-18:00) would open the gate at any hour. Only a window from
        # midnight to midnight (00:00-24:00, or 00:00-00:00 as str() writes it back) means all day.
        if (h1, m1) == (h2, m2) != (0, 0) and not stored:
            raise ValueError(f"hours {text!r} end when they start: {fix}")
        return cls(time(h1, m1), time(h2, m2), weekdays)

    @property
    def open_all_day(self) -> bool:
        """An end equal to the start: round the clock (00:00-24:00, or a stored slip, parse)."""
        return self.end == self.start

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
    """A card's or a pass's dates, and its daily hours within them.

    A bound on a local midnight is a whole day (valid_from a first day, valid_to the end of a last
    day, as the pages and CSVs give them). Within its hours a moment counts for the day its hours
    began on, as a closed period's do (ClosedPeriod.active): a night crew's pass from 1 to 2 Nov
    with hours 22:00-06:00 lets it in until 06:00 on 3 Nov, and not at 02:00 on 1 Nov (the night of
    31 Oct). Outside its hours, and for a bound given with a time of day, the instant decides."""

    valid_from: datetime | None = None
    valid_to: datetime | None = None
    windows: tuple[Window, ...] = ()

    def not_yet(self, at: datetime) -> bool:
        if self.valid_from is None:
            return False
        days = self._days_of(at)
        if days and (first := _whole_day(self.valid_from, at)) is not None:
            return max(days) < first
        return at < self.valid_from

    def expired(self, at: datetime) -> bool:
        if self.valid_to is None:
            return False
        days = self._days_of(at)
        if days and (after_last := _whole_day(self.valid_to, at)) is not None:
            return min(days) >= after_last
        return at >= self.valid_to

    def ends(self, tz: tzinfo | None) -> datetime | None:
        """When it is over (expired from then on), in `tz` (the site's): valid_to, or where its last
        day's hours run past midnight, the end of that last night (06:00 on 3 Nov for the night
        crew's pass above), as a guard is told it is valid until. None: it never ends."""
        if self.valid_to is None:
            return None
        end = self.valid_to.astimezone(tz)
        if end.time() != time(0):
            return end
        last_day = end.date() - timedelta(days=1)
        nights = (
            datetime.combine(end.date(), w.end, end.tzinfo)
            for w in self.windows
            if w.crosses_midnight and last_day.weekday() in w.weekdays
        )
        return max((end, *nights))

    def _days_of(self, at: datetime) -> list[date]:
        """The days whose hours `at` falls in (two where a night's tail meets a morning's hours)."""
        return [d for w in self.windows if (d := w.day_of(at)) is not None]

    def covers(self, at: datetime) -> bool:
        """Begun and not over at `at` (a night within its hours counts for the day it began on)."""
        return not self.not_yet(at) and not self.expired(at)

    def admits(self, at: datetime) -> bool:
        """Begun, not over, and within its daily hours at `at`."""
        return self.covers(at) and within(self.windows, at)


def _whole_day(bound: datetime, at: datetime) -> date | None:
    """The day `bound` begins, where it falls on a midnight in the zone of `at` (the site's)."""
    local = bound.astimezone(at.tzinfo)
    return local.date() if local.time() == time(0) else None


# What a period asking for the people in a visitor's vehicle (`occupants`) and for a person's ID
# number or phone asks of each of them, as a pass's registered fields name it at the lane: given
# when everyone listed in its car has that number on record (store/lookup.py). In such a period each
# person on foot needs a pass of their own with their own numbers; each in a car gives them too.
EACH_OCCUPANT = {"id_number": "occupants.id_number", "phone": "occupants.phone"}


def asked_of_each_occupant(fields: Collection[str]) -> frozenset[str]:
    """The person's numbers (id_number, phone) that a registration asking for `fields` asks of each
    person in a visitor's vehicle: those it asks of the visitor, where it asks for the vehicle's
    people at all (REQUIREMENTS 9: "for a vehicle also the driver and everyone in it")."""
    return frozenset(f for f in EACH_OCCUPANT if f in fields) if "occupants" in fields else frozenset()


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

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether some of its hours fall within [start, end) (local times), hours that run past
        midnight included: 21:00-07:00 on its last day still holds the next morning."""
        tz = start.tzinfo
        end = end.astimezone(tz)
        day = max(self.first_day, start.date() - timedelta(days=1))
        while day <= min(self.last_day, end.date()):
            if any(opens < end and start < closes for opens, closes in self._hours_of(day, tz)):
                return True
            day += timedelta(days=1)
        return False

    def _hours_of(self, day: date, tz: tzinfo | None) -> list[tuple[datetime, datetime]]:
        """Its hours that begin on `day`, each from when it opens to when it closes."""
        if not self.windows:
            return [
                (datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz))
            ]
        return [
            (
                datetime.combine(day, w.start, tz),
                datetime.combine(day + timedelta(days=1 if w.crosses_midnight else 0), w.end, tz),
            )
            for w in self.windows
            if day.weekday() in w.weekdays
        ]

    @property
    def asks_each_person(self) -> bool:
        """Its registration names a person (ID number, phone): a pass stands for its holder alone at
        a door, as the others of its party (人数) are on record with neither (decide.py _party)."""
        return bool({"id_number", "phone"} & set(self.visitor_fields))

    def keeps_out(self, holder_kind: str, registered_fields: Collection[str]) -> bool:
        """Whether the period keeps this pass holder out: a contractor unless contractors are
        admitted, a visitor registered without every field the period asks for: where it asks for
        the people in a vehicle and their numbers, each of them with those numbers."""
        if holder_kind == "contractor":
            return not self.admit_contractors
        if holder_kind == "visitor":
            each = {EACH_OCCUPANT[f] for f in asked_of_each_occupant(self.visitor_fields)}
            return not {*self.visitor_fields, *each} <= set(registered_fields)
        return False


def all_at_once(periods: Sequence[ClosedPeriod]) -> ClosedPeriod | None:
    """Periods in force together, as the gate applies them: the strictest of each. Temporary
    vehicles and contractors come in only if every period admits them, and a visitor's
    registration needs every field any period asks for. Its days and hours are the first's: once
    the periods are known to be in force, they matter no more."""
    if len(periods) < 2:
        return periods[0] if periods else None
    return replace(
        periods[0],
        admit_temporary_vehicles=all(p.admit_temporary_vehicles for p in periods),
        admit_contractors=all(p.admit_contractors for p in periods),
        visitor_fields=tuple(dict.fromkeys(f for p in periods for f in p.visitor_fields)),
    )


@dataclass(frozen=True, slots=True)
class ClosedHistory:
    """The closed-management periods the gateway ran under, from when: each change's periods are in
    force from its time to the next change's. Before the first change, the first's (the oldest the
    gateway remembers; with no change at all, none)."""

    changes: tuple[tuple[datetime, tuple[ClosedPeriod, ...]], ...] = ()

    def in_force(self, at: datetime) -> tuple[ClosedPeriod, ...]:
        current = self.changes[0][1] if self.changes else ()
        for since, periods in self.changes:
            if since > at:
                break
            current = periods
        return current

    def active(self, at: datetime) -> bool:
        return any(p.active(at) for p in self.in_force(at))

    def with_hours_in(self, start: datetime, end: datetime) -> tuple[ClosedPeriod, ...]:
        """The periods with some of their hours within [start, end) while they were in force."""
        cuts = [since.astimezone(start.tzinfo) for since, _ in self.changes[1:] if start < since < end]
        edges = [start, *cuts, end]
        found = (p for a, b in pairwise(edges) for p in self.in_force(a) if p.overlaps(a, b))
        return tuple(dict.fromkeys(found))

    def seconds_within(self, start: datetime, end: datetime) -> float:
        """How much of [start, end) fell in the closed hours of the periods in force then, in
        seconds (hours two periods share counted once): the gateway's own downtime in them."""
        cuts = [since.astimezone(start.tzinfo) for since, _ in self.changes[1:] if start < since < end]
        edges = [start, *cuts, end]
        spans = sorted(
            (opens.timestamp(), closes.timestamp())
            for a, b in pairwise(edges)
            for p in self.in_force(a)
            for opens, closes in _hours_within(p, a, b)
        )
        total, reached = 0.0, float("-inf")
        for opens, closes in spans:
            if closes > max(opens, reached):
                total += closes - max(opens, reached)
            reached = max(reached, closes)
        return total


def _hours_within(period: ClosedPeriod, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The period's hours cut to [start, end) (local times), as ClosedPeriod.overlaps finds them."""
    tz = start.tzinfo
    end = end.astimezone(tz)
    found = []
    day = max(period.first_day, start.date() - timedelta(days=1))
    while day <= min(period.last_day, end.date()):
        for opens, closes in period._hours_of(day, tz):
            if opens < end and start < closes:
                found.append((max(opens, start), min(closes, end)))
        day += timedelta(days=1)
    return found


def first_open(
    validity: Validity,
    periods: Sequence[ClosedPeriod],
    holder_kind: str,
    tz: tzinfo | None,
    now: datetime,
) -> datetime | None:
    """The first moment from `now` on that a pass with `validity` (both bounds given) is within its
    window and hours and outside the hours of every period of `periods` that keeps `holder_kind` out
    (those apply together, as at the gate); None where there is none: the pass could never open a
    door again (a crew's 08:00-18:00 to 30 April, under a period closed to contractors 07:00-21:00
    to 31 May; a pass for today 06:00-18:00 issued at 10:00, its one open hour over: Review K).
    Its last night's tail counts (Validity.ends); a night whose tail runs into its first day is
    taken as open, so a pass that could open is never said not to."""
    assert validity.valid_from is not None and validity.valid_to is not None
    start = max(validity.valid_from, now).astimezone(tz)
    end = cast(datetime, validity.ends(tz))
    keeping_out = [p for p in periods if p.keeps_out(holder_kind, ())]
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        spans = (
            [(start, end)]
            if not validity.windows
            else [
                (
                    datetime.combine(day, w.start, tz),
                    datetime.combine(day + timedelta(days=1 if w.crosses_midnight else 0), w.end, tz),
                )
                for w in validity.windows
                if day.weekday() in w.weekdays
            ]
        )
        for opens, closes in sorted(spans):
            opens, closes = max(opens, start), min(closes, end)
            if opens >= closes:
                continue
            shut = sorted(c for p in keeping_out for c in _hours_within(p, opens, closes))
            reached = opens
            for shut_from, shut_to in shut:
                if shut_from > reached:
                    break
                reached = max(reached, shut_to)
            if reached < closes:
                return reached
        if not validity.windows:
            return None
        day += timedelta(days=1)
    return None


def stored_windows(hours: str) -> tuple[Window, ...]:
    """A card's or a pass's hours as the store keeps them: comma-joined windows, empty for any time."""
    return tuple(Window.parse(h, stored=True) for h in hours.split(",") if h.strip())
