"""明码标价: what the published price table says of the engine's 24-hour cycles, against what the
engine charges (docs/parking.md, *Price table*)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.parking.fees import Rate, stay_fee
from gateway.parking.tariffs import price_lines

TZ = ZoneInfo("Asia/Shanghai")
ENTERED = datetime(2025, 3, 3, 9, tzinfo=TZ)


def test_a_rate_whose_24_hour_restart_changes_the_fee_says_so_on_the_price_table() -> None:
    """A rate with no first period, no cap and no night price: 2元 per 100 minutes begun. The
    table read only 每100分钟 2元（不足100分钟按100分钟计）, so a driver parked 25 hours (1,500
    minutes, 15 periods) read 30元 off the sign. The engine cuts the stay at 24 hours (14.4
    periods, charged 15) and starts afresh (one more period): 32元. The table says so, in both
    languages, without a first period the rate does not have."""
    rate = Rate(free_minutes=0, first_period_minutes=0, period_minutes=100, period_fen=200)
    assert stay_fee(rate, ENTERED, ENTERED + timedelta(hours=25)) == 16 * 200
    zh, en = price_lines(rate), price_lines(rate, "en")
    assert "入场起每满24小时，重新起算计费周期" in zh, zh
    assert not any("首段" in line for line in zh), zh
    assert any("24 hours from entry" in line and "afresh" in line for line in en), en


def test_a_rate_whose_periods_fill_24_hours_needs_no_restart_line() -> None:
    """2元 an hour, nothing else: the 24-hour cut falls on a period's end, so the restart changes
    nothing a driver pays (25 hours: 50元 either way) and the table does not crowd the sign with it."""
    rate = Rate(period_minutes=60, period_fen=200)
    assert stay_fee(rate, ENTERED, ENTERED + timedelta(hours=25)) == 25 * 200
    assert not any("24" in line for line in price_lines(rate) + price_lines(rate, "en"))


def test_the_24_hour_restart_line_is_true_of_a_rate_whose_free_time_is_deducted() -> None:
    """The example estate's car rate with its 30 free minutes deducted (free_deducted = true): the
    table said 入场起每满24小时，重新从首段起计费 - each 24 hours *from entry* starts afresh. A car in
    at 09:00 and out at 09:10 the next day had begun a second 24 hours from entry: by the sign 30元
    (the cap) and a new first hour 5元, 35元. The engine counts its cycles from the end of the free
    time (09:30), so it charges 30元: the table now says the cycles run from the end of the free
    time, and a car out at 09:40 has begun the second (35元)."""
    rate = Rate(
        free_minutes=30,
        free_deducted=True,
        first_period_minutes=60,
        first_period_fen=500,
        period_minutes=60,
        period_fen=200,
        daily_cap_fen=3000,
    )
    zh, en = price_lines(rate), price_lines(rate, "en")
    assert "免费时段后每满24小时，重新从首段起计费" in zh, zh
    assert not any("入场起每满24小时" in line for line in zh), zh
    assert any("24 hours after the free time" in line for line in en), en
    assert stay_fee(rate, ENTERED, ENTERED + timedelta(hours=24, minutes=10)) == 3000
    assert stay_fee(rate, ENTERED, ENTERED + timedelta(hours=24, minutes=40)) == 3000 + 500
