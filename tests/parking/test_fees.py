"""The fee engine: properties for every stay hypothesis finds, and cases worked by hand from the examples."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import load_config
from gateway.core.windows import Window
from gateway.parking.fees import NightRate, Rate, Tariff, stay_fee, tariff_at, yuan
from gateway.parking.tariffs import price_lines, tariffs_from_config

TZ = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example-estate.toml"


def example_rate(vehicle_class: str = "car") -> Rate:
    tariffs = tariffs_from_config(load_config(EXAMPLE).parking)
    rate = tariffs[0].rate(vehicle_class)
    assert rate is not None
    return rate


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("entered", "left", "fen"),
    [
        (at(1, 10), at(1, 10, 20), 0),  # inside the 30 free minutes
        (at(1, 10), at(1, 10, 30), 0),  # exactly the free minutes
        (at(1, 10), at(1, 10, 31), 500),  # past them: the first hour, from entry
        (at(1, 10), at(1, 11), 500),
        (at(1, 10), at(1, 11, 1), 700),  # a second hour begun
        (at(1, 10), at(1, 13, 30), 1100),  # 5 + 3 x 2
        # 20:00-08:00: first hour 5, 21:00 day hour 2, nine night hours (22:00-06:00) at 1 capped at 5,
        # 07:00 day hour 2
        (at(1, 20), at(2, 8), 1400),
        # two full days at the 30元 cap each, then a first hour
        (at(1, 9), at(3, 10), 3000 + 3000 + 500),
    ],
)
def test_hand_computed_cases_from_the_example_estate(entered: datetime, left: datetime, fen: int) -> None:
    assert stay_fee(example_rate(), entered, left) == fen


def test_visitor_validated_by_the_host_parks_two_hours_free() -> None:
    rate = example_rate()
    assert stay_fee(rate, at(1, 10), at(1, 12), free_minutes=rate.visitor_free_minutes) == 0
    assert stay_fee(rate, at(1, 10), at(1, 12, 1), free_minutes=rate.visitor_free_minutes) == 900


def test_motorcycles_pay_per_day_begun_and_bicycles_are_free() -> None:
    rate = example_rate("motorcycle")
    assert stay_fee(rate, at(1, 10), at(1, 10, 30)) == 0
    assert stay_fee(rate, at(1, 10), at(1, 22)) == 100
    assert stay_fee(rate, at(1, 10), at(2, 10, 1)) == 200
    assert tariffs_from_config(load_config(EXAMPLE).parking)[0].rate("bicycle") is None


def test_night_cap_is_per_night_even_where_a_24_hour_cycle_cuts_the_night() -> None:
    # No daily cap, so only the night cap holds the night down. In at 02:00 on the 1st: the cycle
    # restarts at 02:00 on the 2nd, inside the night that began at 22:00 on the 1st.
    rate = Rate(period_fen=200, night=NightRate(Window.parse("22:00-07:00"), 100, 500))
    fen = stay_fee(rate, at(1, 2), at(2, 8))
    # night of the 28th (02:00-07:00): 5 x 1元 = 5元; 07:00-22:00: 15 x 2元 = 30元;
    # night of the 1st (22:00-07:00, 9 hours across two cycles): capped at 5元 once; 07:00: 2元
    assert fen == 500 + 3000 + 500 + 200


def test_free_time_deducted_charges_only_what_is_past_it() -> None:
    rate = Rate(
        free_minutes=30, free_deducted=True, first_period_minutes=60, first_period_fen=500, period_fen=200
    )
    assert stay_fee(rate, at(1, 10), at(1, 11, 30)) == 500
    assert stay_fee(rate, at(1, 10), at(1, 11, 31)) == 700


def test_maximum_per_stay_caps_a_long_stay() -> None:
    rate = Rate(
        first_period_minutes=60,
        first_period_fen=500,
        period_fen=200,
        daily_cap_fen=3000,
        max_per_stay_fen=5000,
    )
    assert stay_fee(rate, at(1, 9), at(10, 9)) == 5000


def test_the_version_in_force_on_the_day_of_entry_applies() -> None:
    old = Tariff("v1", date(2025, 1, 1))
    new = Tariff("v2", date(2025, 3, 2))
    assert tariff_at((old, new), at(1, 23, 59)) is old
    assert tariff_at((old, new), at(2, 0, 0)) is new
    assert tariff_at((old, new), datetime(2024, 12, 31, 12, tzinfo=TZ)) is None


def test_prices_are_written_as_people_write_them() -> None:
    assert [yuan(f) for f in (0, 500, 1050, 1005, 1)] == ["0", "5", "10.5", "10.05", "0.01"]
    lines = price_lines(example_rate())
    assert "首60分钟 5元" in lines and "每24小时最高 30元" in lines
    assert any("夜间 22:00-07:00" in line and "每晚最高5元" in line for line in lines)


def test_the_price_table_says_what_a_stay_over_24_hours_pays() -> None:
    """A driver reading the published table (明码标价) for a 25-hour stay must find the 24-hour
    restart there: the table reads 30元 for the first 24 hours, and the 25th hour is charged as a
    new first hour (5元), not as one more 2元 hour."""
    rate = example_rate()
    entered = datetime(2025, 3, 2, 9, tzinfo=TZ)
    fee = stay_fee(rate, entered, entered + timedelta(hours=25))
    assert fee == rate.daily_cap_fen + rate.first_period_fen, fee
    assert "入场起每满24小时，重新从首段起计费" in price_lines(rate)
    assert any("afresh" in line for line in price_lines(rate, "en"))


# ---- properties -------------------------------------------------------------------------------

fen = st.integers(0, 2000)
minutes = st.integers(1, 240)
times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def rates(draw: st.DrawFn) -> Rate:
    night = None
    if draw(st.booleans()):
        start, end = draw(times), draw(times)
        if start != end:
            night = NightRate(Window(start, end), draw(fen), draw(st.none() | fen))
    return Rate(
        free_minutes=draw(st.integers(0, 120)),
        free_deducted=draw(st.booleans()),
        first_period_minutes=draw(st.integers(0, 180)),
        first_period_fen=draw(fen),
        period_minutes=draw(minutes),
        period_fen=draw(fen),
        daily_cap_fen=draw(st.none() | st.integers(0, 10_000)),
        night=night,
        max_per_stay_fen=draw(st.none() | st.integers(0, 50_000)),
    )


entries = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)).map(
    lambda d: d.replace(tzinfo=TZ)
)
stays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=6))


@given(rates(), entries, stays, stays)
def test_a_longer_stay_never_pays_less(
    rate: Rate, entered: datetime, stay: timedelta, more: timedelta
) -> None:
    assert stay_fee(rate, entered, entered + stay + more) >= stay_fee(rate, entered, entered + stay)


@given(rates(), entries, stays)
def test_never_above_the_daily_cap_times_days(rate: Rate, entered: datetime, stay: timedelta) -> None:
    fee = stay_fee(rate, entered, entered + stay)
    if rate.daily_cap_fen is not None:
        days = max(1, math.ceil(stay / timedelta(days=1)))
        assert fee <= rate.daily_cap_fen * days
    if rate.max_per_stay_fen is not None:
        assert fee <= rate.max_per_stay_fen
    assert isinstance(fee, int) and fee >= 0


@given(rates(), entries, st.data())
def test_free_within_the_free_minutes(rate: Rate, entered: datetime, data: st.DataObject) -> None:
    stay = data.draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(minutes=rate.free_minutes)))
    assert stay_fee(rate, entered, entered + stay) == 0


@given(entries, stays)
def test_a_priced_stay_past_the_free_time_pays_something(entered: datetime, stay: timedelta) -> None:
    rate = example_rate()
    fee = stay_fee(rate, entered, entered + stay)
    assert (fee > 0) == (stay > timedelta(minutes=rate.free_minutes))


def test_a_rate_with_no_first_period_is_not_published_as_what_comes_after_one() -> None:
    """A motorcycle rate of 1元 a day has no first period: its line reads 每1440分钟 1元, not
    之后每1440分钟 ("then each"), which leaves the driver asking after what."""
    rate = Rate(period_minutes=1440, period_fen=100)
    assert price_lines(rate)[0].startswith("每1440分钟 1元"), price_lines(rate)
    assert price_lines(rate, "en")[0].startswith("Each 1440 minutes begun"), price_lines(rate, "en")

