"""docs/parking.md (Daily report): 'overdue and late mean that repair_overdue was raised for the
fault (see Repairs), so the report says what the centre was told'. The rebuild (d56f4fd) keeps the
repair_hours of the report it replaces; the first build judges by the config of when it is built,
not by what the centre was told."""

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


def _told(gw: Gateway) -> list[dict[str, object]]:
    return [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'")]


def test_a_fault_the_centre_was_told_overdue_and_still_open_is_overdue_in_the_report(
    make_gw: Callable[..., Gateway],
) -> None:
    """repair_hours = 8. The car-out display dies Monday 10:00; at 18:00 the centre is sent
    repair_overdue (still open: the display is still dead). At 20:00 the company raises repair_hours
    to 48 and the gateway restarts; repair_overdue stays open (the box and the centre both show it).
    Monday's report, built at midnight, must list the fault as overdue: the centre was told so."""
    gw = make_gw(extra="[alarms]\nrepair_hours = 8\n")
    display = next(h for h in gw.devices.health if h.device == "car-out-display")
    fault = T0.replace(hour=10)
    display.set_offline("no answer")
    device_alarm(gw.conn, display, False, lambda: fault)
    o = ops(gw, started=T0.replace(hour=8), steady=Steady())
    o.repairs(fault + 8 * H + 10 * S)
    assert [r["kind"] for r in _told(gw) if r["state"] == "raised"] == ["device_offline", "repair_overdue"]
    evening = T0.replace(hour=20)
    restarted = ops(gw, started=evening, steady=Steady())
    restarted.cfg = parse_config(
        parking_toml(gw.data_dir, extra="[alarms]\nrepair_hours = 48\n"), "site.toml"
    )
    restarted.repairs(evening + 30 * S)
    still = gw.conn.execute(
        "SELECT count(*) FROM alarms WHERE kind = 'repair_overdue' AND cleared_at IS NULL"
    ).fetchone()[0]
    assert still == 1  # the box still shows the fault overdue, and the centre was told nothing else
    midnight = T0.replace(hour=0) + 24 * H
    restarted.repairs(midnight + 10 * S)
    report = restarted.build_report(T0.date(), midnight + 20 * S)["devices"]
    assert report["overdue_faults"] == 1, (
        "the centre was sent repair_overdue for the display at 18:00 and it is still open on the "
        f"box, but Monday's report lists no overdue fault: {report['open_faults']}"
    )
