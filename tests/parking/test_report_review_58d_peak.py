"""The daily report's peak occupancy (docs/parking.md): the most cars the car park held, with exits
counted first at the same instant, and the time that total was first reached. A car leaving as
another comes in at the same second must not make the peak one car more than was ever inside, and
a car park as full again later keeps the first time (found by the reviewer of round 58d: no test had
either)."""

from __future__ import annotations

from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show

H = timedelta(hours=1)


def test_a_car_leaving_as_another_arrives_is_not_counted_twice_in_the_peak(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖B33333", T0).admitted
    swap = T0 + 2 * H
    assert show(gw, "car-out", "皖B33333", swap).admitted
    assert show(gw, "car-in", "皖A11111", swap).admitted  # another resident's car, the same second
    peak = report_of_t0_day(gw, T0 + 24 * H)["peak_occupancy"]
    assert (peak["total"], peak["at"]) == (1, T0.isoformat()), peak


def test_the_peak_is_dated_when_it_was_first_reached(gw: Gateway) -> None:
    assert show(gw, "car-in", "皖B33333", T0).admitted
    assert show(gw, "car-out", "皖B33333", T0 + H).admitted
    assert show(gw, "car-in", "皖A11111", T0 + 2 * H).admitted
    peak = report_of_t0_day(gw, T0 + 24 * H)["peak_occupancy"]
    assert (peak["total"], peak["at"]) == (1, T0.isoformat()), peak
