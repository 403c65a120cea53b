"""After a running clock's jump is set right: the 24 h pause ends and what waited is judged.

docs/parking.md, "When the clock jumps": a clock set right within the day has judged nothing on
the wrong time, and the rounds of the day are judged after it. The correction is a step too, so the
pause lasts a day from it: what was open when the clock jumped, or happened while it was wrong,
must still be judged when the pause ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import raise_alarm
from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import ahead, look, off_for_an_hour, running
from tests.parking.test_operations import PATROL, Steady, offline, ops, tap

H = timedelta(hours=1)
D = timedelta(days=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)

HOURLY = PATROL.replace('"22:00-02:00"', '"00:00-24:00"').replace("every_minutes = 120", "every_minutes = 60")
NINE = "2025-03-03T01:00:00.000000+00:00"  # T0, 09:00 at the site: the round open at the jump


def rounds(gw: Gateway) -> list[tuple[str, str]]:
    return gw.conn.execute("SELECT due_at, status FROM patrol_rounds ORDER BY due_at").fetchall()


def a_day_of_hourly_rounds(gw: Gateway, jump: bool) -> None:
    """A guard taps one checkpoint of two of the 09:00 round; with `jump`, a minute later the clock
    is ten years ahead for an hour, then set right; the gateway looks on for 30 hours."""
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0 - 30 * S, 2 * D - 30 * S)
    tap(gw, T0 + 30 * S, "cp-a")
    look(o, steady, T0 + 30 * S, 60 * S)
    back = off_for_an_hour(o, steady, ahead if jump else lambda t: t)
    for k in range(1, 60):
        look(o, steady, back + k * 30 * M, 30 * M)


def test_a_round_open_when_the_clock_jumped_is_judged_missed_after_the_pause(
    make_gw: Callable[..., Gateway],
) -> None:
    """The 09:00 round, half walked when the clock jumped to 2035 for an hour, is recorded missed
    (with its patrol_missed alarm) once the pause after the correction ends, and every round of the
    day is judged as it is without the jump."""
    control = make_gw(extra=HOURLY)
    a_day_of_hourly_rounds(control, jump=False)
    assert (NINE, "missed") in rounds(control)
    gw = make_gw(extra=HOURLY)
    a_day_of_hourly_rounds(gw, jump=True)
    assert rounds(gw) == rounds(control)
    missed = gw.conn.execute("SELECT count(*) FROM alarms WHERE kind = 'patrol_missed'").fetchone()[0]
    assert missed >= 1


def test_a_restart_of_the_service_while_the_clock_is_wrong_still_judges_the_round_open_at_the_jump(
    make_gw: Callable[..., Gateway],
) -> None:
    """The watchdog restarts the service a minute after the clock jumped, with the 09:00 round still
    open: the new run keeps when the pause began (boot-alarms.json), and once the clock is set right
    and the pause ends, that round is recorded missed."""
    gw = make_gw(extra=HOURLY)
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0 - 30 * S, 2 * D - 30 * S)
    tap(gw, T0 + 30 * S, "cp-a")
    look(o, steady, ahead(T0 + 60 * S), 90 * S)
    steady.s += 60
    again = ops(gw, started=ahead(T0 + 2 * M), steady=steady)
    again.start(lambda: ahead(T0 + 2 * M))
    again.stop()
    back = off_for_an_hour(again, steady, ahead)
    for k in range(1, 60):
        look(again, steady, back + k * 30 * M, 30 * M)
    assert (NINE, "missed") in rounds(gw)


def test_a_camera_that_died_while_the_clock_was_wrong_still_gets_its_repair_deadline(
    make_gw: Callable[..., Gateway],
) -> None:
    """A camera's cable is cut during the hour the clock reads 2035 (its device_offline alarm is
    dated then); the clock is set right and the camera stays dead for three days: repair_overdue
    is raised once, its 24 hours counted from the end of the pause, not from 2035."""
    gw = make_gw()
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    for k in range(2, 125):  # ten years ahead for an hour, the gateway looking every 30 s
        if k == 60:
            raise_alarm(gw.conn, "device_offline", "cam-x", offline("cam-x"), ahead(T0 + 30 * k * S))
        look(o, steady, ahead(T0 + 30 * k * S), 30 * S)
    back = T0 + 125 * 30 * S
    look(o, steady, back, 30 * S)  # set right
    for hours in range(1, 73):
        look(o, steady, back + hours * H, H)
        overdue = gw.conn.execute("SELECT count(*) FROM alarms WHERE kind = 'repair_overdue'").fetchone()[0]
        assert overdue == (1 if hours >= 48 else 0), f"{hours} hours after the clock was set right"
