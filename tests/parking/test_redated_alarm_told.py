"""An alarm re-dated on the box is re-dated at the centre too (docs/mqtt.md, `alarm`: a record with
`"change": "redated"` moves the record of the same `alarm_id` and `state` to its true time).

A Pi boots on fake-hwclock's stale time (three days behind, the box was off over a holiday) with
no network yet; a camera is still starting, so device_offline is raised, dated on the stale clock.
NTP sets the clock; the gateway re-dates the boot's alarms (docs/parking.md, *Repairs*). The centre,
which knows the fault only from its `alarm` records, must see the same minutes-long fault, not one
raised three days ago and lasting three days. So too a fault raised in an hour the clock read 2035:
once the clock is set back, its deadline counts from then, and the centre is told when."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.timefmt import from_db
from tests.parking.conftest import T0
from tests.parking.test_clock_jumps import ahead, look, running
from tests.parking.test_operations import Steady, a_new_boot, offline, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)


def alarm_records(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [json.loads(p) for (p,) in rows]


def raised_at_centre(gw: Gateway) -> datetime:
    """When the centre takes the fault to have been raised: its newest record of the raise holds."""
    raised = [r for r in alarm_records(gw) if r["kind"] == "device_offline" and r["state"] == "raised"]
    return datetime.fromisoformat(raised[-1]["at"])


def raised_on_box(gw: Gateway) -> datetime:
    at = from_db(gw.conn.execute("SELECT raised_at FROM alarms WHERE kind = 'device_offline'").fetchone()[0])
    assert at is not None
    return at


def test_the_centre_learns_the_true_time_of_a_fault_raised_on_the_stale_boot_clock(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    stale = T0 - 72 * H  # the clock at boot; the box really boots at T0 - 2 min
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), stale + 30 * S)
    steady.s = 120
    o.tick(T0)  # NTP has set the clock
    clear_alarm(gw.conn, "device_offline", "cam", T0 + M)  # the camera is back
    assert raised_on_box(gw) > T0 - 5 * M  # the box: a fault of about 3 minutes
    assert abs((raised_at_centre(gw) - raised_on_box(gw)).total_seconds()) < 60, (
        f"the box dates the fault {raised_on_box(gw).isoformat()}, the centre has it raised three "
        f"days before; records {alarm_records(gw)}"
    )
    first, redated = (
        r for r in alarm_records(gw) if r["kind"] == "device_offline" and r["state"] == "raised"
    )
    assert redated["change"] == "redated" and redated["alarm_id"] == first["alarm_id"]
    assert redated["previous_at"] == first["at"] == (stale + 30 * S).isoformat()
    assert redated["at"].endswith("+08:00") and redated["message"] == first["message"]


def test_the_centre_learns_when_a_fault_raised_on_a_clock_ten_years_ahead_counts_from(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw()
    steady = Steady()
    o = running(gw, T0 - 48 * H, steady)
    look(o, steady, T0, 48 * H)
    look(o, steady, ahead(T0 + M), M)  # an installer types 2035
    raise_alarm(gw.conn, "device_offline", "cam", offline("cam"), ahead(T0 + 2 * M))
    look(o, steady, T0 + 3 * M, M)  # set right
    for hours in range(1, 26):  # deadlines are judged again a day after the step
        look(o, steady, T0 + 3 * M + hours * H, H)
    assert raised_on_box(gw) < T0 + 26 * H  # counted from the first look that judged it
    assert raised_at_centre(gw) == raised_on_box(gw), alarm_records(gw)
    (redated,) = (r for r in alarm_records(gw) if r.get("change") == "redated")
    assert redated["previous_at"] == ahead(T0 + 2 * M).isoformat()
