"""A car whose exit is read on a clock behind its entry (a Pi rebooted on fake-hwclock's stale time)
is held for a day's fee from its entry (docs/parking.md, *A clock behind the entry*): the daily cap
where the rate has one, as a stranger with no entry record is charged under exit_without_entry =
"charge", not what 24 hours cost by the hour, which is less where the cap is above that."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.parking.book import Rules, StayFacts, quote
from gateway.parking.fees import Rate, Tariff
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import TZ, parking_toml, seed, show

H = timedelta(hours=1)
# 每24小时最高40元, as many estates publish it, with a night price: 24 hours from 09:00 by the hour
# are 5元 (09:00-10:00) + 24元 (to 22:00) + 5元 (the night's cap) + 4元 (07:00-09:00) = 38元.
NIGHT = 'night = { hours = "22:00-07:00", period_fen = 100, cap_fen = 500 }'
CAP_40 = TARIFF_TOML.replace("daily_cap_fen = 3000", f"daily_cap_fen = 4000\n{NIGHT}")
# 30 minutes free, the first hour 5元, then 2元 an hour: 24 hours are 5 + 23 x 2 = 51元.
HOURLY = Rate(free_minutes=30, first_period_minutes=60, first_period_fen=500, period_fen=200)


@pytest.fixture
def gw40(tmp_path: Path) -> Iterator[Gateway]:
    text = parking_toml(tmp_path / "data", exit_without_entry="charge")
    assert TARIFF_TOML in text
    cfg = parse_config(text.replace(TARIFF_TOML, CAP_40), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    yield gw
    gw.conn.close()


def test_a_car_leaving_on_a_clock_behind_its_entry_is_held_for_the_daily_cap(gw40: Gateway) -> None:
    """In at 09:00, its exit read at 07:00 the same day: held for 40元, the day's fee a stranger
    with no entry record is asked at the same lane, not 38元 (24 hours by the hour)."""
    entered = datetime(2025, 5, 1, 9, tzinfo=TZ)
    assert show(gw40, "car-in", "苏E12345", entered).admitted
    stranger = show(gw40, "car-out", "苏E99999", entered - 2 * H)
    assert (stranger.reason, stranger.fee_fen) == ("payment_due", 4000)
    behind = show(gw40, "car-out", "苏E12345", entered - 2 * H)
    assert (behind.reason, behind.fee_fen) == ("payment_due", 4000)


@pytest.mark.parametrize(
    ("rate", "day_fen"),
    [
        (replace(HOURLY, daily_cap_fen=6000), 6000),  # the cap above 24 hours by the hour (51元)
        (replace(HOURLY, daily_cap_fen=3000), 3000),  # the cap reached within the day
        (HOURLY, 5100),  # no cap: what 24 hours cost by the hour
        (replace(HOURLY, daily_cap_fen=6000, max_per_stay_fen=2500), 2500),  # 单次最高25元: no more
    ],
    ids=["cap-above-hours", "cap-reached", "no-cap", "max-per-stay"],
)
def test_a_stay_that_cannot_be_timed_owes_the_day_a_car_without_entry_does(rate: Rate, day_fen: int) -> None:
    """The two charges 按一天收费 are the same day's fee, whatever the rate."""
    rules = Rules((Tariff("t1", date(2025, 1, 1), {"car": rate}),), H / 4, TZ, exit_without_entry="charge")
    entered = datetime(2025, 5, 1, 9, tzinfo=TZ)
    stay = StayFacts(1, "vehicle:苏E12345", "苏E12345", "car", "temporary", entered)
    behind = quote(stay, [], 0, rules, entered - 2 * H)
    stranger = quote(None, [], 0, rules, entered - 2 * H, vehicle_class="car", unregistered=True)
    assert (behind.due_fen, stranger.due_fen) == (day_fen, day_fen)
