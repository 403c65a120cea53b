"""A fault repaired, or begun, while the running clock was wrong is not told as a late repair.

docs/parking.md (Repairs): 'an hour of a clock ten years ahead reads no fault as 87,600 hours'.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import ahead, look, running
from tests.parking.test_operations import Steady, offline

H = timedelta(hours=1)
D = timedelta(days=1)
S = timedelta(seconds=1)


def behind(t: datetime) -> datetime:
    return t.replace(year=t.year - 10)


def told_overdue(gw: Gateway) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in gw.conn.execute("SELECT source, raised_at FROM alarms WHERE kind = 'repair_overdue'")
    ]


def test_a_fault_repaired_in_an_hour_of_a_clock_ten_years_ahead_is_not_told_87600_hours_late(
    make_gw: Callable[..., Gateway],
) -> None:
    """A camera offline for three hours comes back while the clock reads ten years ahead; the
    clock is set right within the hour. Once the pause is over, no repair_overdue is sent for it,
    nor ten years on, when the clock reaches the date its repair was written with."""
    gw = make_gw()
    raise_alarm(gw.conn, "device_offline", "cam-x", offline("cam-x"), T0 - 3 * H)
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    for k in range(2, 125):
        look(o, steady, ahead(T0 + 30 * k * S), 30 * S)
        if k == 60:  # the camera is repaired, its clearing dated on the wrong clock
            clear_alarm(gw.conn, "device_offline", "cam-x", ahead(T0 + 30 * k * S))
    back = T0 + 125 * 30 * S
    look(o, steady, back, 30 * S)
    look(o, steady, back + 2 * D, 2 * D)  # the pause is long over
    assert told_overdue(gw) == []
    o.repairs(ahead(T0 + H))
    assert told_overdue(gw) == []


def test_a_fault_begun_in_an_hour_of_a_clock_ten_years_behind_is_not_told_87600_hours_late(
    make_gw: Callable[..., Gateway],
) -> None:
    """The clock reads ten years back for an hour (an RTC glitch); a camera drops out then, and is
    repaired an hour after the clock was set right. Its fault is dated on the wrong clock: the
    centre is not told that it took ten years to repair."""
    gw = make_gw()
    steady = Steady()
    o = running(gw, T0 - 2 * D, steady)
    look(o, steady, T0, 2 * D)
    for k in range(2, 125):
        look(o, steady, behind(T0 + 30 * k * S), 30 * S)
        if k == 60:
            raise_alarm(gw.conn, "device_offline", "cam-y", offline("cam-y"), behind(T0 + 30 * k * S))
    back = T0 + 125 * 30 * S
    look(o, steady, back, 30 * S)
    clear_alarm(gw.conn, "device_offline", "cam-y", back + H)
    look(o, steady, back + 2 * D, 2 * D)
    assert told_overdue(gw) == []
