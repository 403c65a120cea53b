"""exit_without_entry = "charge" (按一天收费): an unregistered vehicle leaving with no entry record
pays a day of its own class's rate, and never leaves free where its class has a price."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from gateway.parking.book import Rules, quote
from gateway.parking.fees import Rate, Tariff
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, TZ, show
from tests.parking.test_vehicle_class import MOTORCYCLE_LANES


def test_motorcycle_without_entry_record_pays_a_day_of_its_rate(make_gw: Callable[..., Gateway]) -> None:
    """A motorcycle the camera missed coming in leaves by the motorcycle exit: its tariff (1元 a day
    begun) has no daily cap, yet it is held for a day's fee, not let out free as under "open"."""
    gw = make_gw(extra=MOTORCYCLE_LANES, exit_without_entry="charge")
    car = show(gw, "car-out", "苏E77777", T0)
    assert (car.reason, car.fee_fen) == ("payment_due", 3000)  # the car tariff's daily cap
    moto = show(gw, "moto-out", "苏E88888", T0)
    assert (moto.reason, moto.fee_fen) == ("payment_due", 100)


def test_car_tariff_without_daily_cap_charges_a_24_hour_stay() -> None:
    """A car tariff of 2元 an hour with no daily cap: a car with no entry record pays for 24 hours
    (48元), not nothing."""
    hourly = Rate(period_minutes=60, period_fen=200)
    tariffs = (Tariff("t1", date(2025, 1, 1), {"car": hourly}),)
    rules = Rules(tariffs, timedelta(minutes=15), TZ, exit_without_entry="charge")
    owed = quote(None, [], 0, rules, T0, vehicle_class="car", unregistered=True)
    assert owed.due_fen == 4800
    # A class the tariff does not price parks free, as documented.
    assert quote(None, [], 0, rules, T0, vehicle_class="bicycle", unregistered=True).due_fen == 0
