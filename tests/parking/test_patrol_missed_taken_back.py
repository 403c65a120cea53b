"""A patrol round judged missed on fake-hwclock's stale boot clock is taken back when NTP sets the
clock (gateway/store/redate.py _undo_rounds: judged on a wrong clock, the round is taken off the
record and its alarms cleared): the round was never missed, and nothing of it is left for the guard.
Under 6b48149 an event alarm that ended unacknowledged stays on the guard's list and badge; the
taken-back patrol_missed stayed there (已于 HH:MM 结束，请确认) for a round nobody missed, where
patrol_late, taken back the same way, went. A round missed on a true clock ends only as the guard
acknowledges it: it stays, open, on his list and badge until he does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, recent_alarms, to_acknowledge
from tests.parking.conftest import T0
from tests.parking.test_clock_fix45_patrol import STALE, M
from tests.parking.test_operations import PATROL, Steady, a_new_boot, alarms, ops, tap

H = timedelta(hours=1)


def listed(gw: Gateway) -> list[tuple[object, object]]:
    return [(a["kind"], a["to_acknowledge"]) for a in recent_alarms(gw.conn, False)]


def test_a_missed_round_taken_back_after_ntp_leaves_the_list_and_badge(
    make_gw: Callable[..., Gateway],
) -> None:
    """Three hours on the stale clock of a Pi booted after a power cut: the 22:00 round runs out at
    00:00 and is judged missed; NTP then sets the clock, and the round is taken back."""
    gw = make_gw(extra=PATROL)
    steady = Steady()
    a_new_boot(gw)
    o = ops(gw, started=STALE, steady=steady)
    o.tick(STALE)
    for m in range(10, 181, 10):
        steady.s = m * 60
        o.tick(STALE + m * M)
    assert "patrol_missed" in [k for k, _ in alarms(gw)]
    assert ("patrol_missed", True) in listed(gw) and to_acknowledge(gw.conn) >= 1
    steady.s = 181 * 60
    o.tick(T0 + 181 * M)  # NTP sets the clock: the round is undone, its alarms cleared
    assert gw.conn.execute("SELECT count(*) FROM patrol_rounds").fetchone()[0] == 0
    assert gw.conn.execute("SELECT count(*) FROM alarms WHERE cleared_at IS NULL").fetchone()[0] == 0
    assert listed(gw) == [], "a round taken back (never missed) still waits on the guard's list"
    assert to_acknowledge(gw.conn) == 0


def test_a_round_missed_on_a_true_clock_stays_until_acknowledged(make_gw: Callable[..., Gateway]) -> None:
    """The 00:00 round never reaches cp-b: judged missed, it is on the list and badge (open) until
    the guard acknowledges it."""
    gw = make_gw(extra=PATROL)
    o = ops(gw)
    night = T0.replace(hour=22)
    tap(gw, night + 10 * M, "cp-a")
    tap(gw, night + 30 * M, "cp-b")
    tap(gw, night + 2 * H + 10 * M, "cp-a")
    o.patrols(night + 2 * H + 50 * M)
    assert [r.status for r in o.patrols(night + 4 * H)] == ["missed"]
    assert listed(gw) == [("patrol_missed", True)] and to_acknowledge(gw.conn) == 1
    (missed,) = gw.conn.execute("SELECT id FROM alarms WHERE kind = 'patrol_missed'").fetchone()
    acknowledge_alarm(gw.conn, missed, night + 5 * H, "guard1")
    assert listed(gw) == [] and to_acknowledge(gw.conn) == 0
