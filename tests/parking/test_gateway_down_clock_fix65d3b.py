"""The gateway's downtime in the daily report (gateway_down) when the wall clock is stepped around a
start (Review 65 Rd3, F1 and F2).

A start within the boot of the last heartbeat counts the stretch back from itself by the monotonic
clock, which a step of the wall clock while the service was stopped does not move; a running
clock's step seen after the start moves the stretch the start kept with it; a stretch that ends
more than a day after now counts nowhere, and retention deletes it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.parking.conftest import show
from tests.parking.test_closed_management_report import report_of
from tests.parking.test_gateway_down_fix65d3 import DAY, EVE, _first, _gateway, _run
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
UP = 3 * 86400.0  # the box has been up three days: a running clock, not a stale boot clock


def test_a_five_minute_stop_to_set_a_clock_a_day_behind_is_five_minutes_down(tmp_path: Path) -> None:
    """The clock reads a day behind (a bad GPS); the installer stops the service at 12:00 (true
    time), sets the clock right (timedatectl set-time) and starts it at 12:05, in the same boot.
    Before: the stretch ran from the last heartbeat on the old clock, a day down."""
    gw, data = _first(tmp_path)
    steady = Steady()
    steady.s = UP
    wrong = -24 * H
    o = ops(gw, started=EVE + wrong, steady=steady)
    o.start(lambda: EVE + wrong)
    o.stop()
    steady.s = UP + 13 * 3600
    o.tick(DAY + 12 * H + wrong)
    last = o.last_beat(DAY + 12 * H + wrong)  # systemctl stop (Gateway.stop queues it)
    assert last is not None
    last(gw.conn)
    gw.conn.close()
    gw = _gateway(data)
    try:
        steady.s = UP + 13 * 3600 + 300
        back = ops(gw, started=DAY + 12 * H + 5 * M, steady=steady)
        back.start(lambda: DAY + 12 * H + 5 * M)
        back.stop()
        assert show(gw, "car-in", "皖B33333", DAY + 13 * H).admitted
        back.reports(DAY + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-03")
    finally:
        gw.conn.close()
    assert body["gateway_down"] == {
        "seconds": 300,
        "stretches": [
            {
                "from": "2025-03-03T12:00:00+08:00",
                "to": "2025-03-03T12:05:00+08:00",
                "seconds": 300,
                "clean": True,
                "parts": 1,
            }
        ],
    }
    assert body["closed_management"]["gateway_down_s"] == 300


def test_a_start_on_a_clock_typed_ten_years_ahead_and_set_right_is_five_minutes_down(tmp_path: Path) -> None:
    """Stopped at 12:00, started at 12:05 on a clock typed as 2035 (date -s), set right ten minutes
    on while the gateway runs. Before: the stretch it kept ran from 2025 to 2035, every day's
    report after it said the gateway was down all day, and retention never deleted it."""
    gw, data = _first(tmp_path)
    steady = Steady()
    steady.s = UP
    o = ops(gw, started=EVE, steady=steady)
    o.start(lambda: EVE)
    o.stop()
    steady.s = UP + 13 * 3600
    o.tick(DAY + 12 * H)
    last = o.last_beat(DAY + 12 * H)
    assert last is not None
    last(gw.conn)
    gw.conn.close()
    gw = _gateway(data)
    try:
        typo = (DAY + 12 * H + 5 * M).replace(year=2035)
        steady.s = UP + 13 * 3600 + 300
        back = ops(gw, started=typo, steady=steady)
        back.start(lambda: typo)
        back.stop()
        steady.s = UP + 13 * 3600 + 600
        back.tick(DAY + 12 * H + 10 * M)  # the installer sets the clock right
        assert show(gw, "car-in", "皖B33333", DAY + 13 * H).admitted
        back.reports(DAY + 48 * H + 10 * M)
        kept = gw.conn.execute("SELECT count(*) FROM gateway_down WHERE to_at > '2026'").fetchone()[0]
        monday, tuesday = report_of(gw, "2025-03-03"), report_of(gw, "2025-03-04")
    finally:
        gw.conn.close()
    assert [(s["from"], s["to"]) for s in monday["gateway_down"]["stretches"]] == [
        ("2025-03-03T12:00:00+08:00", "2025-03-03T12:05:00+08:00")
    ]
    assert tuesday["gateway_down"] == {"seconds": 0, "stretches": []}
    assert kept == 0


def test_a_stretch_left_on_a_clock_far_ahead_counts_nowhere_and_retention_deletes_it(tmp_path: Path) -> None:
    """An RTC glitch at boot: the box starts at 12:05 reading 2035, and the power goes before
    anyone sets it right; it boots again at 12:30 on the true time. The stretch the glitch's start
    kept ends in 2035: the reports do not count it (the days after would be down all day), and
    retention deletes it."""
    gw, data = _first(tmp_path)
    steady = Steady()
    o = ops(gw, started=EVE, steady=steady)
    o.start(lambda: EVE)
    o.stop()
    steady.s = 13 * 3600
    o.tick(DAY + 12 * H)  # its last heartbeat; the power goes
    gw.conn.close()
    glitch = (DAY + 12 * H + 5 * M).replace(year=2035)
    gw = _gateway(data)
    a_new_boot(gw)
    _run(gw, glitch, Steady())
    gw.conn.close()  # the power goes again before anyone sets the clock right
    gw = _gateway(data)
    a_new_boot(gw)
    back = _run(gw, DAY + 12 * H + 30 * M, Steady())  # the true time
    try:
        assert show(gw, "car-in", "皖B33333", DAY + 13 * H).admitted
        back.reports(DAY + 48 * H + 10 * M)
        monday, tuesday = report_of(gw, "2025-03-03"), report_of(gw, "2025-03-04")
        back.retention(DAY + 48 * H + 10 * M)
        kept = gw.conn.execute("SELECT count(*) FROM gateway_down WHERE to_at > '2026'").fetchone()[0]
    finally:
        gw.conn.close()
    assert monday["gateway_down"]["seconds"] <= 30 * 60
    assert tuesday["gateway_down"] == {"seconds": 0, "stretches": []}
    assert kept == 0
