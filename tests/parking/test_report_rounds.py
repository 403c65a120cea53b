"""Patrol rounds in the daily report: each round is counted in the report of the period it was due
in, as it was judged (done, late, missed), even when it ends after the period does."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show
from tests.parking.test_operations import PATROL, Steady, ops, tap

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
D = timedelta(days=1)


def day_patrols(start: str) -> str:
    """The night route of the other tests, walked every hour of the day from `start`."""
    return PATROL.replace('hours = "22:00-02:00"', f'hours = "{start}-19:30"').replace(
        "every_minutes = 120", "every_minutes = 60"
    )


def reports(gw: Gateway) -> dict[str, dict[str, Any]]:
    return {d: json.loads(b) for d, b in gw.conn.execute("SELECT day, body FROM daily_reports")}


def test_a_round_still_being_walked_when_the_report_period_ends_is_in_a_daily_report(
    make_gw: Callable[..., Gateway],
) -> None:
    """Day patrols every hour from 07:30 (round_minutes 45), the daily report at 08:00. The 07:30 round
    is walked and finished at 08:05, in time. At 08:00 it is on no record yet (still being walked):
    the report of the day before must not leave it out, as the next report counts only rounds due
    from 08:00 on. Otherwise the 'rounds' and 'done' the office gets are one short every day."""
    gw = make_gw(extra="[reports]\nhour = 8\n" + day_patrols("07:30"))
    show(gw, "car-in", "苏E00001", T0)
    day = T0.replace(hour=0)
    dues = [day.replace(hour=h, minute=30) for h in range(8, 19)] + [day + D + timedelta(hours=7, minutes=30)]
    for due in dues[:-1]:
        for cp in ("cp-a", "cp-b"):
            tap(gw, due + 5 * M, cp)
    for cp in ("cp-a", "cp-b"):
        tap(gw, dues[-1] + 35 * M, cp)  # 08:05: finished within its 45 minutes
    o = ops(gw, started=T0)
    t = T0 + 7 * S
    while t < T0 + D - 10 * M:  # until 08:50 the next morning
        o.reports(t)
        o.patrols(t)
        t += 5 * M
    rounds = dict(gw.conn.execute("SELECT due_at, status FROM patrol_rounds"))
    assert sorted(rounds.values()) == ["done"] * 12, rounds
    built = reports(gw)
    assert list(built) == ["2025-03-03"]
    patrol = built["2025-03-03"]["patrol"]
    assert patrol["rounds"] == patrol["done"] == 12, (
        f"report of 2025-03-03 (08:00 to 08:00 the next day): {patrol}; "
        "12 rounds were due in it (08:30 ... 18:30, and 07:30 the next morning), all done"
    )


def test_a_round_finished_late_just_before_the_report_hour_is_reported_late_not_missed(
    make_gw: Callable[..., Gateway],
) -> None:
    """Rounds every hour from 07:00, 45 minutes each, the report at 08:00. The guard finishes the
    07:00 round at 07:59:45: late, not missed (the next round is due at 08:00). The operations
    thread's next look, at 08:00:07, both judges the round and builds the report: the report must
    say what the round was judged, not the 'overdue' on record from 07:45. A round walked late was
    walked: it counts among the rounds done, for the day and for its route, so that done + missed
    is the rounds due (the reviewer of round 58d found nothing checked this)."""
    gw = make_gw(extra="[reports]\nhour = 8\n" + day_patrols("07:00"))
    show(gw, "car-in", "苏E00001", T0)
    steady = Steady()
    o = ops(gw, started=T0, steady=steady)
    due = T0.replace(hour=7) + D
    tap(gw, due + 10 * M, "cp-a")
    tap(gw, due + 59 * M + 45 * S, "cp-b")

    def tick(at: datetime) -> None:
        steady.s = (at - T0).total_seconds()
        o.tick(at)

    tick(due + 45 * M + 7 * S)  # overdue: the late alarm is raised
    tick(due + H + 7 * S)
    (status,) = gw.conn.execute("SELECT status FROM patrol_rounds WHERE due_at = ?", (to_db(due),)).fetchone()
    assert status == "late"
    patrol = reports(gw)["2025-03-03"]["patrol"]
    assert (patrol["done"], patrol["late"], patrol["missed"]) == (1, 1, 11), patrol
    assert patrol["rounds"] == patrol["done"] + patrol["missed"], patrol
    (route,) = patrol["by_route"].values()
    assert (route["done"], route["late"], route["missed"]) == (1, 1, 11), patrol
