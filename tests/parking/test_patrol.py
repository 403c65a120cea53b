"""Patrol schedules: rounds due, done, late and missed, from taps (pure), and their alarms (store)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.core.windows import Window
from gateway.parking.patrol import RouteSpec, Tap, due_times, evaluate

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = RouteSpec(
    id="night",
    name="夜间巡更",
    checkpoints=("cp-a", "cp-b", "cp-c"),
    window=Window.parse("22:00-06:00"),
    every=timedelta(hours=2),
    allowed=timedelta(minutes=45),
)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=TZ)


def taps(*items: tuple[datetime, str]) -> list[Tap]:
    return [Tap(t, c) for t, c in items]


def test_rounds_every_two_hours_from_22_to_06() -> None:
    due = due_times(NIGHT, at(3, 12), at(4, 12), TZ)
    assert [d.astimezone(TZ).strftime("%d %H:%M") for d in due] == [
        "03 22:00",
        "04 00:00",
        "04 02:00",
        "04 04:00",
    ]


def test_rounds_for_a_window_inside_one_day_and_weekdays() -> None:
    day = RouteSpec(
        "day",
        "",
        ("cp-a",),
        Window.parse("08:00-12:00", frozenset({0})),
        timedelta(hours=2),
        timedelta(minutes=30),
    )
    due = due_times(day, at(3, 0), at(5, 0), TZ)  # 3 March 2025 is a Monday
    assert [d.astimezone(TZ).strftime("%d %H:%M") for d in due] == ["03 08:00", "03 10:00"]


def test_all_checkpoints_in_time_is_done() -> None:
    t = taps((at(3, 22, 5), "cp-a"), (at(3, 22, 20), "cp-b"), (at(3, 22, 40), "cp-c"))
    result = evaluate(NIGHT, at(3, 22), t, at(4, 0))
    assert (result.status, result.finished_at) == ("done", at(3, 22, 40))


def test_finished_after_the_allowed_time_is_late() -> None:
    t = taps((at(3, 22, 5), "cp-a"), (at(3, 22, 20), "cp-b"), (at(3, 23, 10), "cp-c"))
    assert evaluate(NIGHT, at(3, 22), t, at(4, 0)).status == "late"


def test_unfinished_is_pending_then_overdue_then_missed() -> None:
    t = taps((at(3, 22, 5), "cp-a"), (at(3, 23, 59), "cp-c"))
    assert evaluate(NIGHT, at(3, 22), t, at(3, 22, 30)).status == "pending"
    overdue = evaluate(NIGHT, at(3, 22), t, at(3, 22, 50))
    assert (overdue.status, overdue.missing) == ("overdue", ("cp-b", "cp-c"))
    missed = evaluate(NIGHT, at(3, 22), t, at(4, 0))
    assert (missed.status, missed.missing) == ("missed", ("cp-b",))


def test_taps_belong_to_the_round_whose_time_they_fall_in() -> None:
    # Taps for the 22:00 round made after midnight count for the 00:00 round, not for it.
    t = taps((at(4, 0, 5), "cp-a"), (at(4, 0, 10), "cp-b"), (at(4, 0, 15), "cp-c"))
    assert evaluate(NIGHT, at(3, 22), t, at(4, 1)).status == "missed"
    assert evaluate(NIGHT, at(4, 0), t, at(4, 1)).status == "done"
    # A tap not yet made by `now` does not count (evaluation at a past moment).
    assert evaluate(NIGHT, at(4, 0), t, at(4, 0, 12)).status == "pending"
