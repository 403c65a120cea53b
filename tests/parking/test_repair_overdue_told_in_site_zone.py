"""docs/mqtt.md, Upstream schemas: outbox records carry `at` "ISO 8601 with the site's offset.
Times without a zone never appear." The repair_overdue a late repair is told with (raised and
cleared together, dated when the device came back) must be dated in the site's zone (+08:00) like
every other alarm record, or a centre that shows `at` as written shows the wrong hour."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.device_alarms import device_alarm
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_operations import Steady, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_a_late_repair_is_told_in_the_sites_zone(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra="[alarms]\nrepair_hours = 24\n")
    display = next(h for h in gw.devices.health if h.device == "car-out-display")
    fault = T0.replace(hour=10)
    display.set_offline("no answer")
    device_alarm(gw.conn, display, False, lambda: fault)
    o = ops(gw, started=T0.replace(hour=8), steady=Steady())
    assert o.repairs(fault + 24 * H - 20 * S) == []
    display.set_online()
    device_alarm(gw.conn, display, True, lambda: fault + 24 * H + 10 * S)
    o.repairs(fault + 24 * H + 10 * S)
    records = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    ]
    overdue = [r for r in records if r["kind"] == "repair_overdue"]
    assert [r["state"] for r in overdue] == ["raised", "cleared"], records
    for r in records:
        assert r["at"].endswith("+08:00"), f"{r['kind']} {r['state']} at {r['at']}: not the site's offset"
