"""A car refused at a lane that stays at the barrier is decided again by the lane's camera every
repeat_after_s (15 s, Presented.again): in the daily report it is one car turned away, and its
flags are counted once, not once per look (REQUIREMENTS 9: the closed-management summary)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
DAY = T0.replace(hour=0)


def _stands_a_minute(gw: Gateway, lane: str, plate: str, at: Any) -> list[str]:
    """The car is decided, then decided again four times while the driver argues with the guard."""
    first = Presented(lane, "plate", plate, 0.97, at, "cam")
    looks = [first] + [replace(first, at=at + i * S, again=True) for i in (15, 30, 45, 60)]
    return [gw.handle(p).reason for p in looks]


def _report(gw: Gateway) -> dict[str, Any]:
    ops(gw, started=DAY).reports(DAY + 24 * H)
    return dict(json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0]))


def test_a_car_turned_away_and_left_standing_is_one_car_in_the_closed_management_summary(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=CLOSED)
    assert _stands_a_minute(gw, "car-in", "苏E00002", DAY + 10 * H) == ["closed_management"] * 5
    body = _report(gw)
    assert body["closed_management"]["vehicles_turned_away"] == 1, body["closed_management"]
    assert body["refusals"] == {"total": 1, "by_reason": {"closed_management": 1}}, body["refusals"]


def test_a_car_refused_on_an_ordinary_day_and_left_standing_is_one_refusal(
    make_gw: Callable[..., Gateway],
) -> None:
    """R1's second car (slot B001 taken by its first car), at a site that refuses a slot's second car,
    waits a minute at the barrier for the guard."""
    gw = make_gw(shared="refuse")
    gw.handle(Presented("car-in", "plate", "皖A11111", 0.97, DAY + 9 * H, "cam"))
    assert _stands_a_minute(gw, "car-in", "皖A22222", DAY + 10 * H) == ["slot_occupied"] * 5
    assert _report(gw)["refusals"] == {"total": 1, "by_reason": {"slot_occupied": 1}}


def test_a_car_held_to_pay_without_an_entry_record_is_flagged_once(make_gw: Callable[..., Gateway]) -> None:
    """An unregistered car at the exit with no entry (a missed read) pays the day's cap first: it is
    one hold, and one exit without an entry record, however often the camera looks at it."""
    gw = make_gw(exit_without_entry="charge")
    assert _stands_a_minute(gw, "car-out", "苏E00003", DAY + 10 * H) == ["payment_due"] * 5
    body = _report(gw)
    assert body["held_for_payment"] == 1
    assert body["flags"]["no_entry_record"] == 1, body["flags"]


def test_a_car_refused_for_another_reason_the_second_time_is_counted_again(
    make_gw: Callable[..., Gateway],
) -> None:
    """Held to pay, then the guard closes the lane while the car stands there: a new refusal."""
    gw = make_gw(exit_without_entry="charge")
    first = Presented("car-out", "plate", "苏E00003", 0.97, DAY + 10 * H, "cam")
    assert gw.handle(first).reason == "payment_due"
    gw.lane_modes["car-out"] = "closed"
    assert gw.handle(replace(first, at=first.at + 15 * S, again=True)).reason == "lane_closed"
    assert _report(gw)["refusals"] == {"total": 1, "by_reason": {"lane_closed": 1}}


def test_a_car_left_standing_at_a_lane_the_guard_closed_is_one_refusal(
    make_gw: Callable[..., Gateway],
) -> None:
    """The guard closed the entrance (a lane mode, decided before the core's rules): a resident's car
    waiting there a minute is still one car turned away."""
    gw = make_gw()
    gw.lane_modes["car-in"] = "closed"  # as set_lane_mode leaves it (no worker thread here)
    assert _stands_a_minute(gw, "car-in", "皖A11111", DAY + 10 * H) == ["lane_closed"] * 5
    assert _report(gw)["refusals"] == {"total": 1, "by_reason": {"lane_closed": 1}}
