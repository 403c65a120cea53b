"""docs/parking.md (Daily report): 'overdue and late mean that repair_overdue was raised for the
fault (see Repairs), so the report says what the centre was told (built again after repair_hours
was changed, it counts the same late repairs)'."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.config import parse_config
from gateway.runtime.device_alarms import device_alarm
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml
from tests.parking.test_operations import Steady, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_a_report_rebuilt_after_repair_hours_was_lowered_calls_no_fault_overdue_the_centre_was_not_told_of(
    make_gw: Callable[..., Gateway],
) -> None:
    """repair_hours = 24. The car-out display dies Monday 14:00; at the end of Monday's report
    period (midnight) it has been down 10 hours, not overdue, and Monday's report says so; it is
    repaired Tuesday 02:00, on time, and no repair_overdue is ever sent. On Wednesday the company
    lowers repair_hours to 8 and rebuilds Monday's report by hand: it must say what was sent, no
    overdue fault (the centre was never told one)."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 24\n")
    display = next(h for h in gw.devices.health if h.device == "car-out-display")
    fault = T0.replace(hour=14)
    display.set_offline("no answer")
    device_alarm(gw.conn, display, False, lambda: fault)
    o = ops(gw, started=T0.replace(hour=8), steady=Steady())
    midnight = T0.replace(hour=0) + 24 * H
    o.repairs(midnight + 10 * S)
    sent = o.build_report(T0.date(), midnight + 20 * S)["devices"]
    assert sent["overdue_faults"] == 0
    display.set_online()
    device_alarm(gw.conn, display, True, lambda: midnight + 2 * H)
    o.repairs(midnight + 2 * H + 10 * S)
    wed = midnight + 24 * H + 9 * H
    restarted = ops(gw, started=wed, steady=Steady())
    restarted.cfg = parse_config(parking_toml(gw.data_dir, extra="[alarms]\nrepair_hours = 8\n"), "site.toml")
    restarted.repairs(wed + 30 * S)
    told = [
        json.loads(p)["kind"] for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")
    ]
    assert "repair_overdue" not in told  # the centre never heard of it as overdue
    rebuilt = restarted.build_report(T0.date(), wed + 60 * S)["devices"]
    assert rebuilt["open_faults"] == sent["open_faults"], (sent["open_faults"], rebuilt["open_faults"])
    assert rebuilt["overdue_faults"] == sent["overdue_faults"] == 0


def test_a_report_rebuilt_after_repair_hours_was_raised_still_calls_the_fault_overdue_as_told(
    make_gw: Callable[..., Gateway],
) -> None:
    """repair_hours = 8. The display dies Monday 10:00; at 18:00 the centre is sent repair_overdue,
    and Monday's report (built at midnight) lists it open and overdue. The company later raises
    repair_hours to 48 and rebuilds Monday's report: the centre was told it was overdue, so the
    rebuilt report must still say so."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    display = next(h for h in gw.devices.health if h.device == "car-out-display")
    fault = T0.replace(hour=10)
    display.set_offline("no answer")
    device_alarm(gw.conn, display, False, lambda: fault)
    o = ops(gw, started=T0.replace(hour=8), steady=Steady())
    o.repairs(fault + 8 * H + 10 * S)
    told = [
        json.loads(p)["kind"] for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")
    ]
    assert "repair_overdue" in told
    midnight = T0.replace(hour=0) + 24 * H
    sent = o.build_report(T0.date(), midnight + 20 * S)["devices"]
    assert sent["overdue_faults"] == 1
    later = midnight + 30 * H
    restarted = ops(gw, started=later, steady=Steady())
    restarted.cfg = parse_config(
        parking_toml(gw.data_dir, extra="[alarms]\nrepair_hours = 48\n"), "site.toml"
    )
    rebuilt = restarted.build_report(T0.date(), later + 60 * S)["devices"]
    assert rebuilt["overdue_faults"] == sent["overdue_faults"] == 1, rebuilt["open_faults"]
