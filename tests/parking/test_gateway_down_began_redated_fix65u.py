"""The first start after the upgrade (no heartbeat yet: heartbeats begin at it) on a Pi still on
fake-hwclock's stale boot clock: when NTP sets the clock, the re-dating moves when heartbeats began
with the boot's other rows. Left on the stale clock, a day the box was off all day read as one the
gateway ran through (gateway_down {"seconds": 0}) instead of not known (Review 65U)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.parking.conftest import show
from tests.parking.test_closed_management_report import report_of
from tests.parking.test_gateway_down_fix65d3 import DAY, _first, _gateway, _run
from tests.parking.test_operations import Steady, a_new_boot

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_day_off_before_the_first_start_on_a_stale_clock_is_not_known(tmp_path: Path) -> None:
    gw, data = _first(tmp_path)  # the upgraded store: no heartbeat yet
    assert show(gw, "car-in", "皖B33333", DAY + 7 * H + 10 * M).admitted  # the old release's last record
    gw.conn.close()
    gw = _gateway(data)
    try:
        a_new_boot(gw)
        booted = Steady()
        back = _run(gw, DAY + 7 * H + 30 * M, booted)  # Monday 07:30, fake-hwclock's last save
        booted.s = 30
        true_now = DAY + 2 * 24 * H + 9 * H  # Wednesday 09:00: NTP sets the clock
        back.tick(true_now)
        back.tick(true_now + 5 * M)
        back.reports(true_now + 10 * M)
        # Tuesday the box was off all day, and kept no heartbeat before Wednesday 08:59:30.
        assert report_of(gw, "2025-03-04")["gateway_down"] is None
    finally:
        gw.conn.close()
