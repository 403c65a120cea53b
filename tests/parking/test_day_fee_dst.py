"""A day's fee (按一天收费) is 24 hours of real time, also on the days the clocks change: an estate
abroad runs on Europe/Berlin, where the night the clocks go back has 25 hours and the night they go
forward 23."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.parking.book import Rules, StayFacts, quote
from gateway.parking.fees import Rate, Tariff

BERLIN = ZoneInfo("Europe/Berlin")
GRACE = timedelta(minutes=15)
# 30 minutes free, the first hour 5元, then 2元 an hour: 24 hours are 5 + 23 x 2 = 51元.
NO_CAP = Rate(
    free_minutes=30, first_period_minutes=60, first_period_fen=500, period_minutes=60, period_fen=200
)
CAPPED = Rate(
    free_minutes=30,
    first_period_minutes=60,
    first_period_fen=500,
    period_minutes=60,
    period_fen=200,
    daily_cap_fen=3000,
)
DAYS = pytest.mark.parametrize(
    "at",
    [
        datetime(2025, 10, 26, 12, 0, tzinfo=BERLIN),  # the day after the 25-hour night
        datetime(2025, 3, 30, 12, 0, tzinfo=BERLIN),  # the day after the 23-hour night
        datetime(2025, 6, 15, 12, 0, tzinfo=BERLIN),  # an ordinary day
    ],
    ids=["autumn", "spring", "june"],
)


def rules(rate: Rate) -> Rules:
    return Rules((Tariff("t1", date(2025, 1, 1), {"car": rate}),), GRACE, BERLIN, exit_without_entry="charge")


@DAYS
def test_car_without_entry_record_pays_what_a_24_hour_stay_costs(at: datetime) -> None:
    """docs/parking.md, Missed reads: an unregistered car with no entry record, on a rate without a
    daily cap, is asked what a 24-hour stay costs (51元), not 56元 the day after the clocks go back
    nor 49元 the day after they go forward."""
    owed = quote(None, [], 0, rules(NO_CAP), at, vehicle_class="car", unregistered=True)
    assert owed.due_fen == 5100, f"leaving at {at.isoformat()}: asked {owed.due_fen} fen for a day"


@DAYS
def test_car_leaving_on_a_clock_behind_its_entry_pays_the_daily_cap(at: datetime) -> None:
    """A temporary car that entered the day before the clocks changed leaves while the gateway's
    clock is behind its entry (a Pi rebooted on a stale time): it is held for a day, the daily cap
    of 30元, not 35元 because that "day" ran 25 hours."""
    entered = at - timedelta(days=1)  # noon the day before, by the wall clock
    stay = StayFacts(1, "vehicle:苏E12345", "苏E12345", "car", "temporary", entered)
    owed = quote(stay, [], 0, rules(CAPPED), entered - timedelta(hours=3))
    assert owed.due_fen == 3000, f"entered at {entered.isoformat()}: asked {owed.due_fen} fen for a day"


def test_car_parked_across_the_hour_the_clocks_go_back_pays_for_its_stay() -> None:
    """A car comes in at 02:50 summer time and leaves at 02:40 winter time, 50 minutes later: the
    gateway's clock is not behind its entry, and it pays for 50 minutes (5元), not a day (30元)."""
    entered = datetime(2025, 10, 26, 2, 50, tzinfo=BERLIN)
    leaves = datetime(2025, 10, 26, 2, 40, fold=1, tzinfo=BERLIN)
    stay = StayFacts(1, "vehicle:苏E12345", "苏E12345", "car", "temporary", entered)
    owed = quote(stay, [], 0, rules(CAPPED), leaves)
    assert owed.due_fen == 500, (
        f"in at {entered.isoformat()}, out at {leaves.isoformat()}: asked {owed.due_fen}"
    )
