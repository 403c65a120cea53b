"""An event alarm that ended on its own unseen (a barrier forced and let down again) stays on the
guard's list and badge until he acknowledges it (6b48149). The hourly retention (store/retention.py
prune_alarms: closed before access_records_days) deleted it as any closed alarm, never acknowledged:
gone from his list and badge after 180 days. It is kept until he acknowledges it; the next pass after
that deletes it."""

from __future__ import annotations

from datetime import timedelta

from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, clear_alarm, raise_alarm, to_acknowledge
from gateway.store.retention import prune_alarms
from tests.parking.conftest import T0

FORCED_IN = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})
FORCED_OUT = AlarmText("forced_open", {"lane": "car-out", "device": "car-out-io"})
OFFLINE = AlarmText(
    "device_offline", {"device_kind": "camera", "device": "cam", "lane": "car-in", "error": "x"}
)


def ids(gw: Gateway) -> list[int]:
    return [i for (i,) in gw.conn.execute("SELECT id FROM alarms ORDER BY id")]


def test_retention_keeps_an_alarm_still_to_acknowledge(gw: Gateway) -> None:
    raise_alarm(gw.conn, "forced_open", "car-in", FORCED_IN, T0)
    clear_alarm(gw.conn, "forced_open", "car-in", T0 + timedelta(seconds=40))  # let down, unseen
    raise_alarm(gw.conn, "device_offline", "cam", OFFLINE, T0)
    clear_alarm(gw.conn, "device_offline", "cam", T0 + timedelta(minutes=2))  # a condition that ended
    # a later alarm: the table's newest row is never deleted (retention's module docstring)
    raise_alarm(gw.conn, "forced_open", "car-out", FORCED_OUT, T0 + timedelta(days=200))
    forced, offline, newest = ids(gw)
    assert to_acknowledge(gw.conn) == 2
    assert prune_alarms(gw.conn, T0 + timedelta(days=181)) == 1  # access_records_days (180) later
    assert ids(gw) == [forced, newest], "the forced barrier nobody acknowledged was deleted by retention"
    assert to_acknowledge(gw.conn) == 2
    acknowledge_alarm(gw.conn, forced, T0 + timedelta(days=201), "guard1")
    assert prune_alarms(gw.conn, T0 + timedelta(days=181)) == 1  # acknowledged: it goes
    assert ids(gw) == [newest]
