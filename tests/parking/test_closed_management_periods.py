"""Closed-management periods (封闭式管理): which hours they hold, and several in force at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest

from gateway.core import ClosedPeriod, Policy, Presented, Window
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, TZ

H = timedelta(hours=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025

DAYTIME = ClosedPeriod(date(2025, 3, 3), date(2025, 3, 9), (Window.parse("07:00-21:00"),))
OVERNIGHT = ClosedPeriod(date(2025, 3, 1), date(2025, 3, 3), (Window.parse("21:00-07:00"),))
ALL_DAY = ClosedPeriod(date(2025, 3, 3), date(2025, 3, 3))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("period", "start", "end", "holds"),
    [
        (DAYTIME, at(2, 6), at(3, 6), False),  # the eve: a report from 06:00 to 06:00
        (DAYTIME, at(3, 6), at(3, 7), False),  # ends as the hours begin
        (DAYTIME, at(3, 6, 59), at(3, 7, 1), True),
        (DAYTIME, at(5, 21, 30), at(5, 23, 30), False),  # an evening visit after the hours
        (DAYTIME, at(9, 20, 59), at(10, 8), True),
        (DAYTIME, at(10, 7), at(10, 21), False),  # the day after its last
        (DAYTIME, datetime(2025, 2, 1, tzinfo=TZ), datetime(2025, 4, 1, tzinfo=TZ), True),  # a long pass
        (OVERNIGHT, at(4, 6), at(4, 6, 30), True),  # the morning after its last day
        (OVERNIGHT, at(4, 7), at(4, 20), False),
        (OVERNIGHT, at(1, 8), at(1, 20, 59), False),
        (OVERNIGHT, datetime(2025, 2, 28, 23, tzinfo=TZ), at(1, 6), False),  # the night before its first
        (ALL_DAY, at(2, 23, 59), at(3, 0), False),
        (ALL_DAY, at(2, 23, 59), at(3, 0, 1), True),
        (ALL_DAY, at(4, 0), at(4, 12), False),
    ],
)
def test_a_span_overlaps_a_period_only_within_its_hours(
    period: ClosedPeriod, start: datetime, end: datetime, holds: bool
) -> None:
    assert period.overlaps(start, end) is holds


def test_two_periods_in_force_keep_out_whom_either_keeps_out() -> None:
    """A standing order that admits contractors and asks visitors for a phone number, and an
    escalation on top that asks for the ID number too: both apply while both are in force."""
    standing = ClosedPeriod(
        date(2025, 3, 1),
        date(2025, 3, 31),
        (Window.parse("07:00-21:00"),),
        admit_temporary_vehicles=True,
        admit_contractors=True,
        visitor_fields=("phone",),
    )
    escalation = ClosedPeriod(date(2025, 3, 3), date(2025, 3, 9), visitor_fields=("id_number", "phone"))
    closed = Policy(closed_periods=(standing, escalation)).closed_period(at(3, 10))
    assert closed is not None
    assert not closed.admit_temporary_vehicles
    assert closed.keeps_out("contractor", ())
    assert closed.keeps_out("visitor", ("phone",))
    assert not closed.keeps_out("visitor", ("phone", "id_number"))
    assert closed.visitor_fields == ("phone", "id_number")


TWO_PERIODS = """
[[policy.closed_management]]
first_day = 2025-03-01
last_day = 2025-03-31
hours = ["07:00-21:00"]
temporary_vehicles = "admit"

[[policy.closed_management]]
first_day = 2025-03-03
last_day = 2025-03-09
temporary_vehicles = "refuse"
"""


def test_an_escalated_period_refuses_temporary_cars_in_the_daytime_too(
    make_gw: Callable[..., Gateway],
) -> None:
    """The estate's standing order (all March, daytime, delivery vans and other temporary cars
    admitted), and the escalation the community office ordered on top of it for 3..9 March (all
    day, no temporary vehicles): at 10:00 a stranger's car is turned away, as at 22:00."""
    gw = make_gw(extra=TWO_PERIODS)
    night = gw.handle(Presented("car-in", "plate", "苏E00001", 0.97, DAY + 22 * H, "cam"))
    assert night.reason == "closed_management"  # only the escalation is in force at 22:00
    day = gw.handle(Presented("car-in", "plate", "苏E00002", 0.97, DAY + 10 * H, "cam"))
    assert (day.admitted, day.reason) == (False, "closed_management"), (
        f"at 10:00 both periods are in force, the escalation refuses temporary cars: {day.reason}"
    )
