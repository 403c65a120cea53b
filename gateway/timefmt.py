"""Times in the database are UTC ISO-8601 text, so that text order is time order.

Lengths of time on local times are counted in UTC (`later`, `elapsed`): Python adds a timedelta to a
local time by the wall clock, and subtracts and compares two times of one zone by the wall clock too,
so across a daylight-saving change a 24-hour step would be 23 or 25 real hours, and 02:30 before the
clocks go back "0 seconds" from 02:30 after. A site's zone may have such changes (Europe/Berlin).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo


def to_db(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in the gateway carries its zone")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def local_iso(text: str | None, tz: tzinfo) -> str | None:
    """A time the store keeps (UTC text) as the API and the records give times: in the site's zone."""
    at = from_db(text)
    return None if at is None else at.astimezone(tz).isoformat()


def later(at: datetime, step: timedelta) -> datetime:
    """`at` plus `step` of real time (minus, for a negative step), in `at`'s zone."""
    return (at.astimezone(UTC) + step).astimezone(at.tzinfo)


def elapsed(since: datetime, until: datetime) -> timedelta:
    """The real time from `since` to `until`: negative when `until` is earlier."""
    return until.astimezone(UTC) - since.astimezone(UTC)


def parse_local(text: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date or date-time as people write it in a CSV, in the site's zone.

    A bare date as the end of a validity means the whole of that day is included.
    """
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time(0), tz)
        value = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DD HH:MM)") from exc
    return value if value.tzinfo else value.replace(tzinfo=tz)
