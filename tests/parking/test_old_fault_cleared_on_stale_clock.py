"""docs/parking.md, *Repairs*: when NTP sets the stale clock a Pi booted on, the gateway re-dates
what the boot wrote on the old clock, "so a 40-second fault at boot is 40 seconds old ... while a
fault from before a power cut keeps its true age"; docs/mqtt.md: an alarm whose times were moved goes
up again "redated".

A camera fails at 10:00; fake-hwclock last saved 10:05; the power is cut at 10:30 and comes back at
20:00. The Pi boots saying 10:05 and the camera answers at once: its fault is cleared "at 10:06" on
the old clock, after it began, so the re-dating leaves it. The fault, ten hours long and past the
8-hour deadline, is kept (and told to the centre) as six minutes long."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.timefmt import from_db
from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, a_new_boot, offline, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_an_older_fault_cleared_on_the_stale_boot_clock_after_it_began_is_re_dated(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    ten = T0.replace(hour=10)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ten)  # then a power cut at 10:30
    a_new_boot(gw)
    steady = Steady()
    stale = ten + 5 * M  # fake-hwclock's time: the Pi boots at 20:00 saying 10:05
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    clear_alarm(gw.conn, "device_offline", "cam", stale + M)  # the camera answers as the Pi boots
    steady.s = 120
    ntp = ten.replace(hour=20) + 2 * M
    o.tick(ntp)  # NTP has set the clock
    raised, cleared = (
        from_db(t)
        for t in gw.conn.execute(
            "SELECT raised_at, cleared_at FROM alarms WHERE kind = 'device_offline'"
        ).fetchone()
    )
    records = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]
    cleared_told = [r for r in records if r["kind"] == "device_offline" and r["state"] == "cleared"]
    assert cleared is not None and cleared > ntp - 5 * M, (
        f"the camera, down from 10:00 to 20:00, is kept repaired at {cleared}: a 6-minute fault, "
        f"not a 10-hour one past the 8-hour deadline; centre told {cleared_told}"
    )
