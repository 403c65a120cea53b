"""A report of a day before the gateway kept heartbeats says its downtime is not known (Review 65
Rd3, F4): rebuilt after the upgrade, the day before it read `gateway_down {"seconds": 0,
"stretches": []}` and `gateway_down_s 0`, which the docs define as a day it ran through, though
nothing kept when it ran then. The first start that finds no heartbeat keeps when heartbeats began;
a report whose period starts before then has `gateway_down` null, and so has its closed summary
`gateway_down_s`."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from tests.parking.conftest import show
from tests.parking.test_closed_management_report import report_of
from tests.parking.test_gateway_down_fix65d3 import DAY, _first
from tests.parking.test_operations import Steady, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_day_before_the_upgrade_rebuilt_after_it_is_not_a_day_it_ran_through(tmp_path: Path) -> None:
    """The reviewer's day: 3 March on the old version (no heartbeats), a car in at 07:30, the box
    off 08:00-20:00, the car out at 20:30. The upgrade's first start is on 5 March at 10:00; the
    office has 3 March built again."""
    gw, _ = _first(tmp_path)
    try:
        assert show(gw, "car-in", "皖B33333", DAY + 7 * H + 30 * M).admitted
        assert show(gw, "car-out", "皖B33333", DAY + 20 * H + 30 * M).admitted
        started = DAY + 2 * 24 * H + 10 * H
        o = ops(gw, started=started, steady=Steady())
        o.start(lambda: started)
        o.stop()
        o.build_report(date(2025, 3, 3), started + M)
        body = report_of(gw, "2025-03-03")
    finally:
        gw.conn.close()
    assert body["gateway_down"] is None
    assert body["closed_management"]["gateway_down_s"] is None
    assert (body["vehicles"]["entries"]["total"], body["vehicles"]["exits"]["total"]) == (1, 1)


def test_the_day_heartbeats_began_is_not_known_and_the_next_day_is(tmp_path: Path) -> None:
    """Upgraded on 3 March at 10:00 and running since: 3 March's report (from 00:00) began before
    the first heartbeat, so its downtime is not known; 4 March's is, none."""
    gw, _ = _first(tmp_path)
    steady = Steady()
    started = DAY + 10 * H
    o = ops(gw, started=started, steady=steady)
    o.start(lambda: started)
    o.stop()
    try:
        for minutes in range(0, 38 * 60 + 10, 30):  # its heartbeats, to 5 March 00:10
            steady.s = minutes * 60
            o.tick(started + minutes * M)
            if minutes == 60:
                assert show(gw, "car-in", "皖B33333", started + minutes * M).admitted
        monday, tuesday = report_of(gw, "2025-03-03"), report_of(gw, "2025-03-04")
    finally:
        gw.conn.close()
    assert monday["gateway_down"] is None and monday["closed_management"]["gateway_down_s"] is None
    assert tuesday["gateway_down"] == {"seconds": 0, "stretches": []}
    assert tuesday["closed_management"]["gateway_down_s"] == 0
