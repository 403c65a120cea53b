"""The daily report and its closed-management summary say when the gateway itself was not running
(Review 65 D3): a box off from 08:00 to 20:00 on a closed-management day counted nobody then, and
its report, made up when it started again, read "1 vehicle in, 1 out, 0 people" as a quiet day.

Each start keeps the stretch from the gateway's last heartbeat (written about once a minute by the
operations thread, and once more at a clean stop) to itself; the report gives the stretches within
its period and their seconds, the summary the seconds of them in the closed hours."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.config import parse_config
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed, show
from tests.parking.test_closed_management_report import report_of
from tests.parking.test_operations import CLOSED, Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, closed 07:00-21:00 (CLOSED)
NONE = {"seconds": 0, "stretches": []}
# Each box here has run since the evening before: a report of a period that began before its first
# heartbeat says its downtime is not known (null: test_gateway_down_unknown_fix65d3b.py).
EVE = DAY - H


def _stretch(start: str, end: str, seconds: int, clean: bool = False) -> dict[str, Any]:
    """A stretch as the report gives it, its times on 3 and 4 March 2025 in the site's zone."""
    return {
        "from": f"2025-03-0{start}+08:00",
        "to": f"2025-03-0{end}+08:00",
        "seconds": seconds,
        "clean": clean,
        "parts": 1,  # stretches less than a minute apart are given as one (test_crash_loop_report_fix65d3b)
    }


def _gateway(data: Path) -> Gateway:
    return Gateway(parse_config(parking_toml(data, extra=CLOSED), "site.toml"))


def _first(tmp_path: Path) -> tuple[Gateway, Path]:
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, extra=CLOSED), "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg), data


def _run(gw: Gateway, started: datetime, steady: Steady) -> Operations:
    """The service's operations thread started at `started` (its ticks are the test's own)."""
    o = ops(gw, started=started, steady=steady)
    o.start(lambda: started)
    o.stop()
    return o


def _tick(o: Operations, steady: Steady, at: datetime, since: datetime) -> None:
    steady.s = (at - since).total_seconds()
    o.tick(at)


def _sent(gw: Gateway, day: str) -> dict[str, Any]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq").fetchall()
    reports = [json.loads(p)["report"] for (p,) in rows]
    return next(r for r in reversed(reports) if r["day"] == day)


def test_a_summary_made_up_after_a_power_cut_says_how_long_the_gateway_was_off(tmp_path: Path) -> None:
    """The reviewer's case: up since the evening before, a car in at 07:30, the power cut just
    after 08:00 (its last heartbeat), back at 20:00, the car out at 20:30. The report says the
    gateway was down 08:00-20:00, 12 of the 14 closed hours, not cleanly stopped; so does the
    record the centre gets."""
    gw, data = _first(tmp_path)
    steady = Steady()
    o = _run(gw, EVE, steady)
    assert show(gw, "car-in", "皖B33333", DAY + 7 * H + 30 * M).admitted
    _tick(o, steady, DAY + 8 * H, EVE)  # its last heartbeat; the power goes
    gw.conn.close()
    gw = _gateway(data)
    try:
        back = _run(gw, DAY + 20 * H, Steady())
        assert show(gw, "car-out", "皖B33333", DAY + 20 * H + 30 * M).admitted
        back.reports(DAY + 24 * H + 5 * M)
        body, sent = report_of(gw, "2025-03-03"), _sent(gw, "2025-03-03")
    finally:
        gw.conn.close()
    down = {
        "seconds": 12 * 3600,
        "stretches": [_stretch("3T08:00:00", "3T20:00:00", 12 * 3600)],
    }
    assert body["gateway_down"] == down, body["gateway_down"]
    assert body["closed_management"]["gateway_down_s"] == 12 * 3600
    assert (body["vehicles"]["entries"]["total"], body["vehicles"]["exits"]["total"]) == (1, 1)
    assert sent["gateway_down"] == {**down, "stretches_more": 0}
    assert sent["closed_management"]["gateway_down_s"] == 12 * 3600


def test_a_day_the_gateway_ran_through_says_no_downtime(tmp_path: Path) -> None:
    gw, _ = _first(tmp_path)
    steady = Steady()
    started = DAY - 2 * H
    o = _run(gw, started, steady)
    try:
        for minutes in range(0, 26 * 60 + 5, 30):  # its heartbeats, each tick a minute apart or more
            _tick(o, steady, started + minutes * M, started)
        assert show(gw, "car-in", "皖B33333", DAY + 9 * H).admitted
        o.reports(DAY + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-03")
        beats = gw.conn.execute("SELECT count(*) FROM gateway_heartbeat").fetchone()[0]
    finally:
        gw.conn.close()
    assert body["gateway_down"] == NONE
    assert body["closed_management"]["gateway_down_s"] == 0
    assert beats == 1  # one row, overwritten


def test_a_restart_of_seconds_is_its_seconds(tmp_path: Path) -> None:
    """The installer restarts the service at 12:00:00 (a clean stop: its last heartbeat then); it is
    up again at 12:00:07."""
    gw, data = _first(tmp_path)
    steady = Steady()
    o = _run(gw, EVE, steady)
    _tick(o, steady, DAY + 11 * H + 59 * M + 40 * S, EVE)
    last = o.last_beat(DAY + 12 * H)  # what Gateway.stop queues on the worker before stopping it
    assert last is not None
    last(gw.conn)
    gw.conn.close()
    gw = _gateway(data)
    try:
        back = _run(gw, DAY + 12 * H + 7 * S, Steady())
        assert show(gw, "car-in", "皖B33333", DAY + 13 * H).admitted
        back.reports(DAY + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-03")
    finally:
        gw.conn.close()
    assert body["gateway_down"] == {
        "seconds": 7,
        "stretches": [_stretch("3T12:00:00", "3T12:00:07", 7, clean=True)],
    }
    assert body["closed_management"]["gateway_down_s"] == 7


def test_a_stretch_over_midnight_is_split_between_the_two_days_reports(tmp_path: Path) -> None:
    """Off from 22:00 on Monday (outside the closed hours) to 08:00 on Tuesday: Monday's report has
    its two hours, Tuesday's its eight, one of them (07:00-08:00) in Tuesday's closed hours."""
    gw, data = _first(tmp_path)
    steady = Steady()
    o = _run(gw, EVE, steady)
    assert show(gw, "car-in", "皖B33333", DAY + 21 * H + 30 * M).admitted
    _tick(o, steady, DAY + 22 * H, EVE)
    gw.conn.close()
    gw = _gateway(data)
    try:
        back = _run(gw, DAY + 32 * H, Steady())
        back.reports(DAY + 48 * H + 5 * M)
        monday, tuesday = report_of(gw, "2025-03-03"), report_of(gw, "2025-03-04")
    finally:
        gw.conn.close()
    assert monday["gateway_down"]["stretches"] == [_stretch("3T22:00:00", "4T00:00:00", 7200)]
    assert tuesday["gateway_down"]["stretches"] == [_stretch("4T00:00:00", "4T08:00:00", 8 * 3600)]
    assert monday["closed_management"]["gateway_down_s"] == 0
    assert tuesday["closed_management"]["gateway_down_s"] == 3600


def test_a_power_cut_before_a_boot_on_the_stale_clock_is_counted_once_ntp_sets_it(tmp_path: Path) -> None:
    """A Pi without a real-time clock, off from 08:00 to 20:00, boots on fake-hwclock's time (07:30,
    its last save before the cut): the stretch it keeps ends before it began, and counts nothing
    until NTP sets the clock 30 s into the boot; the re-dating moves its end to the true start."""
    gw, data = _first(tmp_path)
    steady = Steady()
    o = _run(gw, EVE, steady)
    assert show(gw, "car-in", "皖B33333", DAY + 7 * H + 10 * M).admitted
    _tick(o, steady, DAY + 8 * H, EVE)
    gw.conn.close()
    gw = _gateway(data)
    try:
        a_new_boot(gw)
        booted = Steady()
        stale = DAY + 7 * H + 30 * M
        back = _run(gw, stale, booted)
        booted.s = 30
        back.tick(DAY + 20 * H)  # NTP: the true time, 30 s after the start at 19:59:30
        back.reports(DAY + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-03")
    finally:
        gw.conn.close()
    assert body["gateway_down"]["stretches"] == [_stretch("3T08:00:00", "3T19:59:30", 43170)]


def test_the_gateways_own_stop_writes_its_last_heartbeat_as_a_clean_one(tmp_path: Path) -> None:
    """Started and stopped as the service is (systemctl restart): its next start keeps the stretch as
    a clean stop's, from the moment it stopped."""
    gw, data = _first(tmp_path)
    gw.start()
    gw.stop()
    gw = _gateway(data)
    try:
        gw.start()
        gw.stop()
        with closing(sqlite3.connect(gw.db_path)) as conn:
            kept = conn.execute("SELECT clean FROM gateway_down").fetchall()
            last = conn.execute("SELECT clean FROM gateway_heartbeat").fetchall()
    finally:
        gw.conn.close()
    assert kept == [(1,)] and last == [(1,)]
