"""Times in the database are UTC ISO-8601 text, so that text order is time order."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def to_db(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in the gateway carries its zone")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


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
