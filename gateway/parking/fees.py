"""The fee engine (临时车收费): a stay's fee in integer fen, from its tariff, entry and end.

Pure: no clock, no store. A stay is cut into 24-hour cycles from its start; each cycle is charged
from scratch (first period, then per period, day or night price) and capped at the daily cap; the
stay as a whole is capped at the maximum per stay. The night cap is per night, however the 24-hour
cycles cut it (a car in at 23:00 pays one night's cap for 22:00-07:00 of its first night, not one
in each cycle). A period begun is a period charged (不足一个计费
周期按一个周期计).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from gateway.core.windows import Window

DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class NightRate:
    """A price per period for periods that begin inside the night hours, capped per night."""

    window: Window
    period_fen: int
    cap_fen: int | None = None  # at most this per night, e.g. 夜间每晚最高5元


@dataclass(frozen=True, slots=True)
class Rate:
    """The price of one vehicle class under one tariff version."""

    free_minutes: int = 0
    free_deducted: bool = False  # True: a longer stay pays only for the time past the free minutes
    first_period_minutes: int = 0
    first_period_fen: int = 0
    period_minutes: int = 60
    period_fen: int = 0
    daily_cap_fen: int | None = None  # per 24 hours from the start of the stay
    night: NightRate | None = None
    max_per_stay_fen: int | None = None
    visitor_free_minutes: int = 0  # a visitor's stay validated by the host unit is free this long


@dataclass(frozen=True, slots=True)
class Tariff:
    """One published version of the prices (明码标价); a stay pays the version in force at entry
    (tariff_of_stay)."""

    version: str
    effective_from: date
    rates: Mapping[str, Rate] = field(default_factory=dict)  # vehicle class -> rate; absent: free
    # When the gateway first saw this version in its config (tariffs.known_since): a car in before
    # then never read these prices. None: known for as long as the gateway has kept count.
    known_from: datetime | None = None
    # The stretches (from, to) it was out of the config, put back since: a car in meanwhile never
    # read these prices either, it was shown another version's.
    out: tuple[tuple[datetime, datetime], ...] = ()

    def rate(self, vehicle_class: str) -> Rate | None:
        return self.rates.get(vehicle_class)

    def published_at(self, at: datetime) -> bool:
        if self.known_from is not None and at < self.known_from:
            return False
        return not any(start <= at < end for start, end in self.out)


@dataclass(frozen=True, slots=True)
class Published:
    """When a version's prices could be read (明码标价): from when the gateway first saw it in its
    config (None: for as long as it has kept count), less the stretches it was out of the config,
    put back since (Tariff.known_from, Tariff.out)."""

    since: datetime | None = None
    out: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class Fee:
    amount_fen: int
    tariff_version: str
    seconds: int  # the stay's length, up to the end it was charged to
    free_minutes: int


def tariff_at(tariffs: tuple[Tariff, ...], at: datetime) -> Tariff | None:
    """The version in force at a (local) time: of those published by then, the latest whose first
    day is on or before it. A version added to the config "from today" at noon is not in force for
    the morning: nobody could read it then (明码标价)."""
    day = at.date()
    current = None
    for tariff in tariffs:  # sorted by effective_from, as the config checks
        if tariff.effective_from <= day and tariff.published_at(at):
            current = tariff
    return current


def tariff_of_stay(tariffs: tuple[Tariff, ...], start: datetime) -> tuple[Tariff, datetime] | None:
    """The version a stay that began at `start` (local) pays, and when it starts paying: the version
    in force then (tariff_at), from `start`. A stay that began before the oldest version published
    by then (the estate's first prices, or an older version taken out of the config while it was
    parked) pays that oldest one from the start of its first day: the time before any published
    price is free (明码标价), the time after is not; with none published by then that is still in
    the config, the oldest in it. None only for a site with no tariff at all."""
    current = tariff_at(tariffs, start)
    if current is not None:
        return current, start
    published = tuple(t for t in tariffs if t.published_at(start)) or tariffs
    if not published:
        return None
    oldest = published[0]
    return oldest, max(start, datetime.combine(oldest.effective_from, time(0), start.tzinfo))


def stay_fee(rate: Rate, entered: datetime, ended: datetime, free_minutes: int | None = None) -> int:
    """The fee in fen for a stay from `entered` to `ended` (both aware; night hours are in entered's zone).

    `free_minutes` overrides the rate's own, for a visitor's stay validated by the host unit.
    """
    if entered.tzinfo is None or ended.tzinfo is None:
        raise ValueError("naive datetime: fees need times with their zone")
    free = rate.free_minutes if free_minutes is None else free_minutes
    start, end = entered.astimezone(UTC), ended.astimezone(UTC)
    if end - start <= timedelta(minutes=free):
        return 0
    if rate.free_deducted:
        start += timedelta(minutes=free)
    tz = entered.tzinfo
    total = 0
    per_night: dict[date, int] = {}  # what each night has cost so far, across cycles
    cycle = start
    while cycle < end:
        total += _cycle_fee(rate, cycle, min(end - cycle, DAY), tz, per_night)
        cycle += DAY
        if rate.max_per_stay_fen is not None and total >= rate.max_per_stay_fen:
            break
    return total if rate.max_per_stay_fen is None else min(total, rate.max_per_stay_fen)


def _cycle_fee(rate: Rate, start: datetime, length: timedelta, tz: object, per_night: dict[date, int]) -> int:
    fee = 0
    elapsed = timedelta(0)
    if rate.first_period_minutes > 0:
        fee += rate.first_period_fen
        elapsed = timedelta(minutes=rate.first_period_minutes)
    period = timedelta(minutes=rate.period_minutes)
    night = rate.night
    while elapsed < length:
        begins = (start + elapsed).astimezone(tz)  # type: ignore[arg-type]
        if night is not None and night.window.contains(begins):
            price = night.period_fen
            if night.cap_fen is not None:
                key = _night_of(night.window, begins)
                price = max(0, min(price, night.cap_fen - per_night.get(key, 0)))
                per_night[key] = per_night.get(key, 0) + price
        else:
            price = rate.period_fen
        fee += price
        elapsed += period
        if rate.daily_cap_fen is not None and fee >= rate.daily_cap_fen:
            break
    return fee if rate.daily_cap_fen is None else min(fee, rate.daily_cap_fen)


def _night_of(window: Window, local: datetime) -> date:
    """Which night a moment belongs to: the date on which that night's hours began."""
    if window.start > window.end and local.time().replace(tzinfo=None) < window.end:
        return local.date() - timedelta(days=1)
    return local.date()


def yuan(fen: int) -> str:
    """1000 -> '10', 1050 -> '10.5', 1005 -> '10.05': how prices are written on signs and displays."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")
