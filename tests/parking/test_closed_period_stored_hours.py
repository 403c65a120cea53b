"""Hours that end when they start, stored before version 38 (review s38_l): the daily report is
still built, the saved closed-management period meaning what it meant."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.parking.conftest import T0, show
from tests.parking.test_closed_management_report import first_started, report_of, restarted
from tests.parking.test_operations import ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)

# What a site ran under before version 38: its site.toml's slip, accepted then and kept by the
# start (remember_closed_periods) as the start saw it.
SLIP = """
[[policy.closed_management]]
first_day = 2025-03-03
last_day = 2025-03-09
hours = ["08:00-18:00"]
temporary_vehicles = "refuse"
"""
FIXED = SLIP.replace("08:00-18:00", "07:00-21:00")


def test_daily_report_built_after_a_closed_period_stored_with_hours_ending_at_start(tmp_path: Path) -> None:
    """A site ran closed management with hours 08:00-08:00 under version 37 (the start kept the
    period in config_seen). Upgraded, check-config refuses the slip, the installer fixes the hours
    and restarts. The day's report must still be built (docs: stored hours keep meaning what they
    meant)."""
    gw, data = first_started(tmp_path, SLIP)
    # as version 37 kept it: the same row, with the slip the config then said
    key, value = gw.conn.execute(
        "SELECT key, value FROM config_seen WHERE key LIKE 'closed_periods:%' ORDER BY key"
    ).fetchone()
    kept = json.loads(value)
    kept["periods"][0]["hours"] = ["08:00-08:00"]
    gw.conn.execute(
        "UPDATE config_seen SET value = ? WHERE key = ?", (json.dumps(kept, ensure_ascii=False), key)
    )
    assert show(gw, "car-in", "皖B33333", DAY + 9 * H).admitted
    gw.conn.close()
    gw = restarted(data, FIXED)
    try:
        ops(gw, started=DAY + 12 * H).reports(DAY + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-03")
    finally:
        gw.conn.close()
    assert body["vehicles"]["entries"]["total"] >= 1
