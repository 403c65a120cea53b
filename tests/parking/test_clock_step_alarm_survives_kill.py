"""A running clock's step seen at a start (it happened while the service was down, or the run was
killed before its tick saw it) is alarmed before start() returns (review 56c). The new clock and the
pause are written to boot-alarms.json at once (BootClock.resume, Operations._mistrust); the
`clock_stepped` alarm was kept in memory for the first tick, TICK_S = 30 s later, and a power cut
within those 30 s lost it for good: the next start sees no step any more."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import ahead, look, run_for_weeks
from tests.parking.test_operations import Steady, ops
from tests.rush_helpers import parking_gw

S = timedelta(seconds=1)
H = timedelta(hours=1)


def _clock_alarms(gw) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [tuple(r) for r in gw.conn.execute("SELECT kind, source FROM alarms WHERE kind = 'clock_stepped'")]


def test_clock_stepped_alarm_survives_a_kill_before_the_first_tick(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    steady = Steady()
    run_for_weeks(gw, steady)
    # The service is down a minute; an installer types 2035 for 2025 meanwhile. It starts again:
    steady.s += 60
    first = ops(gw, started=ahead(T0) + 60 * S, steady=steady)
    first.start(lambda: ahead(T0) + 60 * S)
    first.stop()  # power cut 10 s later: its first tick (30 s) never came
    # Power back, same boot (the service restarts): the clock still says 2035.
    steady.s += 10
    second = ops(gw, started=ahead(T0) + 70 * S, steady=steady)
    second.start(lambda: ahead(T0) + 70 * S)
    second.stop()
    look(second, steady, ahead(T0) + 2 * 60 * S, 50 * S)
    assert _clock_alarms(gw) == [("clock_stepped", "clock")], "the ten-year clock step was never alarmed"


def test_control_without_the_kill_the_alarm_is_raised(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    steady = Steady()
    run_for_weeks(gw, steady)
    steady.s += 60
    first = ops(gw, started=ahead(T0) + 60 * S, steady=steady)
    first.start(lambda: ahead(T0) + 60 * S)
    first.stop()
    look(first, steady, ahead(T0) + 2 * 60 * S, 60 * S)
    assert _clock_alarms(gw) == [("clock_stepped", "clock")]
