"""A device that fails and comes back again and again (a loose cable) is one fault, from its first
going off (REQUIREMENTS 7-8: faults recorded, repaired within a set time): its device_offline
alarm clears only once the device has stayed back `[alarms] clear_after_s`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from gateway.runtime.device_alarms import device_alarm, settle_alarms
from gateway.runtime.gateway import Gateway
from gateway.timefmt import from_db
from tests.parking.conftest import T0
from tests.parking.test_alarm_deadlines import ops
from tests.parking.test_operations import Steady

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
WAIT = timedelta(seconds=300)  # the default [alarms] clear_after_s


def records(gw: Gateway) -> list[tuple[str, str, str]]:
    """The alarm records queued upstream: kind, state and time."""
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [(p["kind"], p["state"], p["at"]) for p in (json.loads(r) for (r,) in rows)]


def faults(gw: Gateway) -> list[tuple[datetime | None, datetime | None]]:
    rows = gw.conn.execute("SELECT raised_at, cleared_at FROM alarms WHERE kind = 'device_offline'")
    return [(from_db(raised), from_db(cleared)) for raised, cleared in rows]


def test_a_loose_cable_is_one_fault_that_reaches_its_repair_deadline(make_gw: Callable[..., Gateway]) -> None:
    """The office sees one device_offline alarm for a display down 58 minutes of every hour, back
    for 2: the centre gets one raise and no clear, and at 8 hours (repair_hours = 8) from its first
    going off repair_overdue goes upstream. It was 30 alarms, 60 records and no deadline ever met."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    assert gw.site.config.alarms.clear_after_s == WAIT.total_seconds()
    health = gw.devices.health[0]
    steady = Steady()
    o = ops(gw, started=T0, steady=steady)
    overdue = []
    for hour in range(12):
        off, on = T0 + hour * H, T0 + hour * H + 58 * M
        device_alarm(gw.conn, health, False, lambda off=off: off, WAIT)
        for at in (on - S, on, on + 30 * S, on + 90 * S):
            if at == on:
                device_alarm(gw.conn, health, True, lambda on=on: on, WAIT)
                continue
            steady.s = (at - T0).total_seconds()
            o.returns(at)
            overdue += o.repairs(at)
    assert len(faults(gw)) == 1 and faults(gw)[0] == (T0, None)
    assert [late.since for late in overdue] == [T0]
    assert overdue[0].age == 8 * H + 58 * M - S  # the first look past its deadline, the device down
    assert [(kind, state) for kind, state, _ in records(gw)] == [
        ("device_offline", "raised"),
        ("repair_overdue", "raised"),
    ]


def test_a_device_back_for_good_clears_once_as_of_its_return(make_gw: Callable[..., Gateway]) -> None:
    """The office sees the fault open until the device has stayed back 5 minutes, then closed as of
    when it came back: one raise and one clear upstream, the clear dated at its return, so that a
    device back 2 minutes before its deadline was repaired in time (no repair_overdue), though the
    look at the deadline found its alarm still open."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    health = gw.devices.health[0]
    steady = Steady()
    o = ops(gw, started=T0, steady=steady)
    back = T0 + 8 * H - 2 * M
    device_alarm(gw.conn, health, False, lambda: T0, WAIT)
    device_alarm(gw.conn, health, True, lambda: back, WAIT)
    for at in (T0 + 8 * H, back + WAIT - S):
        steady.s = (at - T0).total_seconds()
        assert o.returns(at) == [] and o.repairs(at) == []
        assert faults(gw) == [(T0, None)]
    steady.s = (back + WAIT - T0).total_seconds()
    assert o.returns(back + WAIT) == [health.device]
    assert o.repairs(back + WAIT) == []
    assert faults(gw) == [(T0, back)]
    sent = [(kind, state, datetime.fromisoformat(at)) for kind, state, at in records(gw)]
    assert sent == [("device_offline", "raised", T0), ("device_offline", "cleared", back)]


def test_a_device_back_just_past_its_deadline_is_repaired_late_once(make_gw: Callable[..., Gateway]) -> None:
    """The office hears repair_overdue at the deadline, and its end when the device has stayed back,
    both closed as of its return: the report's late repair is the one told."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    health = gw.devices.health[0]
    steady = Steady()
    o = ops(gw, started=T0, steady=steady)
    device_alarm(gw.conn, health, False, lambda: T0, WAIT)
    steady.s = (8 * H).total_seconds()
    assert [late.device for late in o.repairs(T0 + 8 * H)] == [health.device]
    back = T0 + 8 * H + 2 * M
    device_alarm(gw.conn, health, True, lambda: back, WAIT)
    for at in (back + M, back + WAIT):
        steady.s = (at - T0).total_seconds()
        o.returns(at)
        o.repairs(at)
    kinds = [(kind, state) for kind, state, _ in records(gw)]
    assert kinds == [
        ("device_offline", "raised"),
        ("repair_overdue", "raised"),
        ("device_offline", "cleared"),
        ("repair_overdue", "cleared"),
    ]
    cleared = gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'repair_overdue'").fetchone()
    assert from_db(cleared[0]) == back


def test_a_restart_keeps_the_wait_of_a_device_back(make_gw: Callable[..., Gateway]) -> None:
    """A gateway restarted while a device's fault waited to clear settles it as waiting from when it
    came back (the start finds it online): cleared once, as of that return, not at the start."""
    gw = make_gw()
    health = gw.devices.health[0]
    o = ops(gw, started=T0)
    back = T0 + H
    device_alarm(gw.conn, health, False, lambda: T0, WAIT)
    device_alarm(gw.conn, health, True, lambda: back, WAIT)
    online = [replace(health, online=True)]
    settle_alarms(gw.conn, online, lambda: back + M, mqtt_enabled=False, clear_after=WAIT)
    assert faults(gw) == [(T0, None)]
    assert o.returns(back + WAIT) == [health.device]
    assert faults(gw) == [(T0, back)]


def test_a_device_offline_at_the_restart_waits_no_more(make_gw: Callable[..., Gateway]) -> None:
    """A device that was back when the gateway stopped, found offline at the start, is still down:
    its fault stays open from its first going off, however long the gateway was off."""
    gw = make_gw()
    health = gw.devices.health[0]
    o = ops(gw, started=T0)
    device_alarm(gw.conn, health, False, lambda: T0, WAIT)
    device_alarm(gw.conn, health, True, lambda: T0 + H, WAIT)
    down = [replace(health, online=False, last_error="no answer")]
    settle_alarms(gw.conn, down, lambda: T0 + 2 * H, mqtt_enabled=False, clear_after=WAIT)
    assert o.returns(T0 + 3 * H) == []
    assert faults(gw) == [(T0, None)]
    assert [(kind, state) for kind, state, _ in records(gw)] == [("device_offline", "raised")]


def test_no_wait_clears_at_once(make_gw: Callable[..., Gateway]) -> None:
    """clear_after_s = 0: the office sees the alarm closed the moment the device is back."""
    gw = make_gw(extra="[alarms]\nclear_after_s = 0\n")
    assert gw.site.config.alarms.clear_after_s == 0
    health = gw.devices.health[0]
    device_alarm(gw.conn, health, False, lambda: T0, timedelta(0))
    device_alarm(gw.conn, health, True, lambda: T0 + M, timedelta(0))
    assert faults(gw) == [(T0, T0 + M)]
