"""docs/parking.md, "When the clock jumps": a running clock's step (an installer types 2035 for an
hour) leaves every row as it was written. An alarm raised in that hour and cleared once the clock
was set back is kept with its clearing "before" its raise. docs/parking.md, *Repairs*: when NTP sets
the stale clock a later boot started on, the gateway re-dates what *that boot* wrote on the old
clock, and "a fault from before a power cut keeps its true age"; docs/mqtt.md: only an alarm whose
times the gateway moved goes up again "redated".

The re-dating takes every alarm whose clearing or acknowledgement is before its raise for one
written on the stale boot clock: the true clearing of that old alarm is moved by the step at each
later boot that NTP sets, and since 0fef2fb the centre is told each time that it moved."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import ahead, look, running
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def test_an_old_alarm_cleared_after_a_running_clock_step_is_not_redated_at_a_later_boot(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    steady = Steady()
    o = running(gw, T0 - 48 * H, steady)
    look(o, steady, T0, 48 * H)
    look(o, steady, ahead(T0 + M), M)  # an installer types 2035
    forced = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-barrier"})
    raise_alarm(gw.conn, "forced_open", "car-in", forced, ahead(T0 + 2 * M))
    look(o, steady, T0 + 3 * M, M)  # set right
    clear_alarm(gw.conn, "forced_open", "car-in", T0 + 4 * M)  # the barrier closed: a true time
    (cleared_before,) = gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'forced_open'").fetchone()
    records_before = gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'alarm'").fetchone()[0]

    # Ten days later a power cut: the Pi boots on fake-hwclock's time, three days back; NTP sets it.
    later = T0 + 10 * D
    stale = later - 72 * H
    a_new_boot(gw)
    steady2 = Steady()
    o2 = ops(gw, started=stale, steady=steady2)
    o2.tick(stale)
    steady2.s = 120
    o2.tick(later)

    (cleared_after,) = gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'forced_open'").fetchone()
    redated = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' AND seq > 0")
    ][records_before:]
    assert cleared_after == cleared_before, (
        f"the barrier closed at {cleared_before} (a true time, 10 days ago); the later boot's NTP "
        f"step moved it to {cleared_after}; sent upstream: {redated}"
    )
    assert not [r for r in redated if r.get("change") == "redated"], redated
