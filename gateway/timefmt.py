"""Times in the database are UTC ISO-8601 text, so that text order is time order.

Lengths of time on local times are counted in UTC (`later`, `elapsed`): Python adds a timedelta to a
local time by the wall clock, and subtracts and compares two times of one zone by the wall clock too,
so across a daylight-saving change a 24-hour step would be 23 or 25 real hours, and 02:30 before the
clocks go back "0 seconds" from 02:30 after. A site's zone may have such changes (Europe/Berlin).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

# The largest step of a running clock the gateway takes silently (NTP's corrections are seconds or
# minutes): stepped more, it raises clock_stepped (gateway/parking/operations.py), and a payment's
# grace does not reach back past it (gateway/parking/book.py fee_end).
CLOCK_ALARM = timedelta(hours=1)


def to_db(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("naive datetime: every time in the gateway carries its zone")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def local_iso(text: str | None, tz: tzinfo | None) -> str | None:
    """A time the store keeps (UTC text) as the API and the records give times: in the site's zone."""
    at = from_db(text)
    return None if at is None else at.astimezone(tz).isoformat()


def later(at: datetime, step: timedelta) -> datetime:
    """`at` plus `step` of real time (minus, for a negative step), in `at`'s zone."""
    return (at.astimezone(UTC) + step).astimezone(at.tzinfo)


def elapsed(since: datetime, until: datetime) -> timedelta:
    """The real time from `since` to `until`: negative when `until` is earlier."""
    return until.astimezone(UTC) - since.astimezone(UTC)


def last_day(end: datetime, tz: tzinfo | None) -> date:
    """The last day a period ending at `end` covers in zone `tz` (the site's), as the lookup page
    shows it: an end at midnight is the day before's end (a month "to 2025-03-31" inclusive is
    stored as 1 April 00:00)."""
    moment = end.astimezone(tz) if tz is not None else end
    return moment.date() - timedelta(days=1) if moment.time() == time(0) else moment.date()


# The years a date people give may have: the admin API's too (gateway/api/deps.py). Python's dates
# end at 9999-12-31, where the whole last day or a step to UTC overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2200
# Old parking and access systems write "no end" (永久有效) as 9999-12-31: read as no end.
NO_END_YEAR = 9999


class YearsError(ValueError):
    """A date of the right form in a year no validity needs (and Python's dates cannot step past)."""


# The forms a CSV cell or a central server's entry may give, and nothing else: fromisoformat also
# takes 20250303, 2025-062 and 2025-W10-1, and 20250303 as the end of a period lost its whole last
# day. YYYY/M/D (and YYYY/M/D H:MM) is how Excel on a Chinese Windows saves a date cell as CSV.
# ISO 8601 date-times (a T, seconds, an offset) are what the central server sends, as its language
# writes them: .NET's "o" gives 7 fraction digits, Java's Instant 9, ISO 8601 allows a comma for
# the point, and PostgreSQL writes a timestamptz's offset as +08. Python keeps microseconds: the
# digits past 6 are cut (a validity is never that fine).
_WHEN = re.compile(
    r"(?:(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"|(?P<slash_year>\d{4})/(?P<slash_month>\d{1,2})/(?P<slash_day>\d{1,2}))"
    r"(?:[ T](?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<offset>Z|(?P<sign>[+-])(?P<offset_hours>\d{2})(?::?(?P<offset_minutes>\d{2}))?)?)?",
    re.ASCII,
)
FORMS = (
    "YYYY-MM-DD (2026-01-05) or YYYY/M/D (2026/1/5), or a date and time YYYY-MM-DD HH:MM (2026-01-05 08:00)"
)


def parse_local(text: str, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """A date or date-time as people write it in a CSV, in the site's zone (or at its own offset).

    A bare date as the end of a validity means the whole of that day is included. ValueError says
    what is wrong: not one of FORMS, or outside the years FIRST_YEAR to LAST_YEAR.
    """
    return _local(_matched(text), tz, end_of_day=end_of_day)


def parse_end(text: str, tz: ZoneInfo) -> datetime | None:
    """The end of a validity (valid_to): as parse_local with the whole last day, or None (no end,
    as an empty cell) for an end in the year 9999."""
    found = _matched(text)
    if int(found["year"] or found["slash_year"]) == NO_END_YEAR:
        return None
    try:
        return _local(found, tz, end_of_day=True)
    except YearsError as exc:
        raise YearsError(f"{exc}; for no end leave it empty") from None


def typed_day(text: str) -> str | None:
    """The day of `text` where it is how Excel saves a date typed in a cell it shows with a time
    (`2026/12/31 0:00`: Excel's own YYYY/M/D form at midnight, seconds 0 if given), else None.

    A clerk renewing a car in such a column (an export's time, `2026-12-31 23:59:59`) types the
    last day, and Excel can only save it at 0:00: as the end of a validity, that cell means the
    day typed, as the date alone does. The ISO form (`2026-12-01 00:00`, what export wrote for a
    whole-day end before Review 66 J) is the moment it gives; Excel never writes it."""
    found = _WHEN.fullmatch(text.strip())
    if found is None or found["slash_year"] is None or found["hour"] is None:
        return None
    if int(found["hour"]) or int(found["minute"]) or int(found["second"] or 0) or found["fraction"]:
        return None
    if found["offset"] is not None:
        return None
    return f"{found['slash_year']}/{found['slash_month']}/{found['slash_day']}"


def _matched(text: str) -> re.Match[str]:
    found = _WHEN.fullmatch(text.strip())
    if found is None:
        given = text.strip()
        hint = (
            f" (did you mean {given[:4]}-{given[4:6]}-{given[6:]}?)" if re.fullmatch(r"\d{8}", given) else ""
        )
        raise ValueError(f"{given!r} is not a date: write {FORMS}{hint}")
    return found


def _local(found: re.Match[str], tz: ZoneInfo, *, end_of_day: bool) -> datetime:
    text = found[0]
    year, month, day = (int(found[part] or found[f"slash_{part}"]) for part in ("year", "month", "day"))
    if not FIRST_YEAR <= year <= LAST_YEAR:  # before any step: 9999-12-31 plus a day overflows
        raise YearsError(_out_of_years(text))
    try:
        when = date(year, month, day)
        if found["hour"] is None:
            at = datetime.combine(when + timedelta(days=1 if end_of_day else 0), time(0), tz)
        else:
            fraction = int((found["fraction"] or "0")[:6].ljust(6, "0"))
            clock = time(int(found["hour"]), int(found["minute"]), int(found["second"] or 0), fraction)
            at = datetime.combine(when, clock, _zone(found, tz))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date: {exc}") from None
    # The store keeps what it may give back: `export` writes local times, and the whole last day
    # of 2200-12-31 (2201-01-01 00:00) is one no import or admin form takes.
    if not FIRST_YEAR <= (local_year := at.astimezone(tz).year) <= LAST_YEAR:
        raise YearsError(
            f"{text!r} runs into {local_year} here: give a time in the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return at


# The offsets clocks have: UTC-12:00 (Baker Island) to UTC+14:00 (Kiribati's Line Islands). Two
# digits past the time are not always one: "08:00-18" in a cell is a day's working hours, and read
# as UTC-18:00 moved a validity by a day; +08:75 was read as +09:15.
OFFSETS = (timedelta(hours=-12), timedelta(hours=14))


def _zone(found: re.Match[str], tz: ZoneInfo) -> tzinfo:
    if found["offset"] is None:
        return tz
    if found["offset"] == "Z":
        return UTC
    hours, minutes = int(found["offset_hours"]), int(found["offset_minutes"] or 0)
    step = (-1 if found["sign"] == "-" else 1) * timedelta(hours=hours, minutes=minutes)
    if minutes > 59 or not OFFSETS[0] <= step <= OFFSETS[1]:
        raise ValueError(
            f"{found['offset']} is no offset a clock has: offsets run from -12:00 to +14:00, "
            "minutes 00 to 59 (Z, +08:00, +0800 or +08; none for the site's time)"
        )
    return timezone(step)


def gives_offset(text: str) -> bool:
    """Whether `text`, a date of the forms parse_local takes, gives its own offset (Z, +08:00, -18):
    a CSV cell is the site's time and gives none (gateway/store/csv_rows.py)."""
    found = _WHEN.fullmatch(text.strip())
    return found is not None and found["offset"] is not None


def _out_of_years(text: str) -> str:
    return f"{text!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}: give the real date"
