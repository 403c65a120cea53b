"""A Pi that boots on fake-hwclock's stale time and runs for hours without network (the estate's
uplink is down) crosses the report hour on the stale clock: the stale day's report is built with
the booth payment taken meanwhile. When NTP sets the clock the payment moves to its true day
(docs/parking.md, *Repairs*), and so must the money in the reports, here and upstream."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, show
from tests.parking.stale_boot import STALE, H, M, booth_payment_on_a_stale_boot
from tests.parking.test_operations import ops
from tests.parking.test_redate_payment_upstream import _centre_days
from tests.rush_helpers import parking_gw

SATURDAY, SUNDAY, MONDAY = (T0.date() - timedelta(days=n) for n in (2, 1, 0))


def _stale_boot_past_the_report_hour(gw: Gateway) -> None:
    """A stranger comes in as the Pi boots and pays 5元 ahead at the booth 40 minutes later; no
    network for hours: the stale clock passes midnight and Saturday's report is built. NTP then
    sets the clock (Monday 13:10), and on Tuesday Monday's report is built."""
    o, steady = booth_payment_on_a_stale_boot(gw)
    for seconds, now in (
        (4 * 3600 + 5 * 60, STALE + 4 * H + 5 * M),  # "Sunday 00:05"
        (4 * 3600 + 10 * 60, T0 + 4 * H + 10 * M),  # NTP has set the clock
        (4 * 3600 + 11 * 60, T0 + 4 * H + 11 * M),
        (24 * 3600, T0 + 24 * H),  # Tuesday
        (24 * 3600 + 60, T0 + 24 * H + M),
    ):
        steady.s = seconds
        o.tick(now)


def _sent_reports(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
    return [json.loads(payload)["report"] for (payload,) in rows]


def test_money_taken_on_a_stale_boot_clock_is_in_one_report_as_upstream(tmp_path: Path) -> None:
    """The centre books the 5元 once, on Monday, from the re-dated `payment` record; the box's
    reports counted it on Saturday (built on the stale clock) and again on Monday."""
    gw = parking_gw(tmp_path)
    _stale_boot_past_the_report_hour(gw)
    reports = {
        day: json.loads(body)["parking"]["revenue_fen"]
        for day, body in gw.conn.execute("SELECT day, body FROM daily_reports ORDER BY day")
    }
    centre = _centre_days(gw)
    assert list(reports) == [d.isoformat() for d in (SATURDAY, SUNDAY, MONDAY)], "no day is left out"
    assert reports == {day: centre.get(day, 0) for day in reports}, f"reports {reports}, centre {centre}"
    assert centre == {MONDAY.isoformat(): 500}


def test_a_report_sent_on_the_stale_clock_is_sent_again_rebuilt(tmp_path: Path) -> None:
    """The centre got Saturday's report with the 5元 in it: it gets Saturday's report again, as a
    rebuilt report is sent (docs/mqtt.md, `report`), for the same hours and without the money."""
    gw = parking_gw(tmp_path)
    _stale_boot_past_the_report_hour(gw)
    saturdays = [r for r in _sent_reports(gw) if r["day"] == SATURDAY.isoformat()]
    assert [r["parking"]["revenue_fen"] for r in saturdays] == [500, 0]
    first, rebuilt = saturdays
    assert (rebuilt["period_start"], rebuilt["period_end"]) == (first["period_start"], first["period_end"])


def test_a_report_built_before_the_boot_is_not_sent_again(tmp_path: Path) -> None:
    """Friday's report, built before the power cut, holds nothing the stale clock wrote: NTP
    setting the clock does not send it to the centre again."""
    gw = parking_gw(tmp_path)
    friday = SATURDAY - timedelta(days=1)
    show(gw, "car-in", "苏E10001", STALE - 30 * H)
    ops(gw).build_report(friday, STALE - 19 * H)
    _stale_boot_past_the_report_hour(gw)
    assert [r["day"] for r in _sent_reports(gw)].count(friday.isoformat()) == 1
    assert date.fromisoformat(_sent_reports(gw)[-1]["day"]) == MONDAY
