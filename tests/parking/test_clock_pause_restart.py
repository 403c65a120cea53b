"""A restart of the service hours into the pause after a running clock's jump.

docs/parking.md, "When the clock jumps": the first look after the pause judges every round from when
the pause began, kept in boot-alarms.json across a restart of the service. An update six hours after
the clock was set right (a minute down) must not lose the rounds from before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_clock_jump_after import HOURLY, NINE, rounds
from tests.parking.test_clock_jumps import ahead, look, off_for_an_hour, running
from tests.parking.test_operations import Steady, ops, tap

H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def a_day_with_an_update(gw: Gateway, jump: bool) -> None:
    """The 09:00 round is half walked; with `jump`, the clock is ten years ahead for an hour, then
    set right; six hours later the service restarts for an update (a minute down); the gateway
    looks on for 30 hours."""
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0 - 30 * S, 2 * D - 30 * S)
    tap(gw, T0 + 30 * S, "cp-a")
    look(o, steady, T0 + 30 * S, 60 * S)
    back = off_for_an_hour(o, steady, ahead if jump else lambda t: t)
    for k in range(1, 13):
        look(o, steady, back + k * 30 * M, 30 * M)
    steady.s += 60
    restarted = back + 6 * H + M
    again = ops(gw, started=restarted, steady=steady)
    again.start(lambda: restarted)
    again.stop()
    for k in range(1, 60):
        look(again, steady, restarted + k * 30 * M, 30 * M)


def test_a_restart_hours_into_the_pause_still_judges_the_rounds_since_the_jump(
    make_gw: Callable[..., Gateway],
) -> None:
    """The centre gets the 09:00 round (open at the jump) as missed with its patrol_missed alarm,
    and the rounds due between the jump and the update in the report, as on a day without the jump:
    not seven rounds gone because the service restarted before the pause ended."""
    control = make_gw(extra=HOURLY)
    a_day_with_an_update(control, jump=False)
    gw = make_gw(extra=HOURLY)
    a_day_with_an_update(gw, jump=True)
    assert (NINE, "missed") in rounds(gw), rounds(gw)[:12]
    assert rounds(gw) == rounds(control)
    missed = "SELECT source FROM alarms WHERE kind = 'patrol_missed' ORDER BY source"
    assert gw.conn.execute(missed).fetchall() == control.conn.execute(missed).fetchall()


def test_a_restart_after_the_pause_ended_still_spares_the_rounds_of_a_long_stop(
    make_gw: Callable[..., Gateway],
) -> None:
    """Once the pause is over and its rounds judged, a service stopped for six hours is an outage
    again: the rounds whose time ran out while it was stopped are not all sent as missed at once."""
    gw = make_gw(extra=HOURLY)
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0 - 30 * S, 2 * D - 30 * S)
    back = off_for_an_hour(o, steady, ahead)
    for k in range(1, 60):
        look(o, steady, back + k * 30 * M, 30 * M)
    stopped = back + 59 * 30 * M
    judged = len(rounds(gw))
    steady.s += (6 * H).total_seconds()
    restarted = stopped + 6 * H
    again = ops(gw, started=restarted, steady=steady)
    again.start(lambda: restarted)
    again.stop()
    look(again, steady, restarted + 30 * S, 30 * S)
    assert len(rounds(gw)) == judged  # the six rounds of the stop (and the one open at the restart)
