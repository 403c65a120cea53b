"""A round takes the taps from its due time until the next round is due (docs/parking.md, Patrols),
also where the route's `every_minutes` does not divide its hours (review 53i): on a round-the-clock
route every 150 minutes, the day's last round, 22:30, closed at 01:00, after the next day's 00:00
round was due, so one walk at 00:10-00:20 counted for both, and 22:30's round, walked by nobody,
was judged late (its alarm cleared as done late), not missed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core.windows import Window
from gateway.parking.patrol import RouteSpec, Tap, due_times, evaluate, round_closes, still_open
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, TZ
from tests.parking.test_operations import PATROL, alarms, ops, tap

H = timedelta(hours=1)
M = timedelta(minutes=1)
ROUND_THE_CLOCK = RouteSpec(
    "all", "", ("cp-a", "cp-b"), Window.parse("00:00-23:59"), timedelta(minutes=150), timedelta(minutes=45)
)
LATE = T0.replace(hour=22, minute=30)  # the day's last round
MIDNIGHT = T0.replace(hour=0) + 24 * H  # the next day's first


def test_the_days_last_round_closes_when_the_next_days_first_is_due() -> None:
    dues = due_times(ROUND_THE_CLOCK, LATE - H, MIDNIGHT + H, TZ)
    assert [d.astimezone(TZ) for d in dues] == [LATE, MIDNIGHT]
    assert round_closes(ROUND_THE_CLOCK, LATE, TZ) == MIDNIGHT
    assert round_closes(ROUND_THE_CLOCK, MIDNIGHT, TZ) == MIDNIGHT + 150 * M  # a round between
    taps = [Tap(MIDNIGHT + 10 * M, "cp-a"), Tap(MIDNIGHT + 20 * M, "cp-b")]
    now = MIDNIGHT + 2 * H
    closes = round_closes(ROUND_THE_CLOCK, LATE, TZ)
    assert evaluate(ROUND_THE_CLOCK, LATE, taps, now, closes=closes).status == "missed"
    assert evaluate(ROUND_THE_CLOCK, MIDNIGHT, taps, now).status == "done"
    # The 22:30 round is no longer open once 00:00's is due (the report waits on it no longer).
    assert still_open(ROUND_THE_CLOCK, LATE - H, MIDNIGHT, MIDNIGHT + M, TZ) == []


def test_a_round_nobody_walked_is_missed_on_the_guard_page_and_upstream(
    make_gw: Callable[..., Gateway],
) -> None:
    route = PATROL.replace('"22:00-02:00"', '"00:00-23:59"').replace(
        "every_minutes = 120", "every_minutes = 150"
    )
    gw = make_gw(extra=route)
    o = ops(gw)
    assert "overdue" in [r.status for r in o.patrols(LATE + 50 * M)]
    tap(gw, MIDNIGHT + 10 * M, "cp-a")
    tap(gw, MIDNIGHT + 20 * M, "cp-b")
    judged = {r.due.astimezone(TZ): r.status for r in o.patrols(MIDNIGHT + 30 * M)}
    assert judged == {LATE: "missed", MIDNIGHT: "done"}, judged
    assert ("patrol_missed", "night@2025-03-03 22:30") in alarms(gw)
