"""A device repaired minutes before the daily report's period ends is counted repaired in that report
(REQUIREMENTS 8; docs/parking.md, *Daily report* and *Repairs*). Found by reviewer 60e.

A display dies Sunday 23:00. repair_overdue goes up Monday 23:00 (24 h). The technician fixes it
Monday 23:58. Its device_offline alarm clears only once it has stayed back [alarms] clear_after_s
(300 s), dated 23:58 (docs/hardware.md, Health and alarms). Monday's report was built at the first
look after midnight (00:00:30), while the alarm still waited to clear: it listed the display as an
open, overdue fault at the period's end and repaired_late 0, and Tuesday's report reads the alarms
cleared since Tuesday 00:00: the late repair was in no report. The report now waits for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.parking.operations import Operations
from gateway.runtime.device_alarms import device_alarm, settle_alarms
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
WAIT = timedelta(seconds=300)  # the default [alarms] clear_after_s
MONDAY = T0.replace(hour=0)  # 2025-03-03 00:00, the period of Monday's report
STARTED = MONDAY - 2 * H
BACK = MONDAY + 23 * H + 58 * M  # repaired Monday 23:58


class Box:
    """The gateway, its operations thread looked at by hand, and the display."""

    def __init__(self, gw: Gateway) -> None:
        assert gw.site.config.alarms.clear_after_s == WAIT.total_seconds()
        assert gw.site.config.reports.hour == 0
        self.gw = gw
        self.display = next(h for h in gw.devices.health if h.device == "car-out-display")
        self.steady = Steady()
        self.ops: Operations = ops(gw, started=STARTED, steady=self.steady)
        show(gw, "car-in", "苏E12345", T0)  # a car in on Monday (a report is built for a day with records)

    def tick(self, at: datetime) -> None:
        self.steady.s = (at - STARTED).total_seconds()
        self.ops.tick(at)

    def display_is(self, online: bool, at: datetime) -> None:
        device_alarm(self.gw.conn, self.display, online, lambda: at, WAIT)

    def devices(self, day: str) -> dict:
        row = self.gw.conn.execute("SELECT body FROM daily_reports WHERE day = ?", (day,)).fetchone()
        assert row is not None, f"no report of {day}"
        return json.loads(row[0])["devices"]

    def built(self) -> list[str]:
        return [r[0] for r in self.gw.conn.execute("SELECT day FROM daily_reports ORDER BY day")]


@pytest.fixture
def box(make_gw: Callable[..., Gateway]) -> Box:
    return Box(make_gw())


def _late_fault(box: Box) -> None:
    box.display_is(False, MONDAY - H)  # Sunday 23:00
    box.tick(MONDAY + 23 * H + 30 * S)  # past the 24 h deadline: repair_overdue goes up
    raised = "SELECT count(*) FROM alarms WHERE kind = 'repair_overdue'"
    assert box.gw.conn.execute(raised).fetchone()[0] == 1
    box.display_is(True, BACK)
    box.tick(BACK + 30 * S)


def test_a_late_repair_minutes_before_the_period_ends_is_counted_once(box: Box) -> None:
    _late_fault(box)
    box.tick(MONDAY + 24 * H + 30 * S)  # 00:00:30: the display's fault still waits to clear
    assert box.built() == [], "Monday's report is built while the repair at 23:58 may still count in it"
    for at in (BACK + WAIT + 30 * S, MONDAY + 48 * H + 30 * S):
        box.tick(at)
    cleared = box.gw.conn.execute("SELECT cleared_at FROM alarms WHERE kind = 'device_offline'").fetchone()[0]
    assert datetime.fromisoformat(cleared) == BACK  # repaired as of 23:58 Monday, late

    mon, tue = box.devices("2025-03-03"), box.devices("2025-03-04")
    assert (mon["repaired_late"], mon["open_faults"], mon["overdue_faults"]) == (1, [], 0), mon
    assert tue["repaired_late"] == 0 and tue["open_faults"] == [], tue
    assert mon["downtime_s"] == (BACK - MONDAY).total_seconds()  # to 23:58, not to midnight


def test_an_on_time_repair_minutes_before_the_period_ends_is_no_open_fault(box: Box) -> None:
    box.display_is(False, MONDAY + 20 * H)  # Monday 20:00
    box.display_is(True, BACK)
    for at in (BACK + 30 * S, MONDAY + 24 * H + 30 * S, BACK + WAIT + 30 * S):
        box.tick(at)
    mon = box.devices("2025-03-03")
    assert (mon["faults"], mon["open_faults"], mon["repaired_late"]) == (1, [], 0), mon


def test_a_device_off_again_within_the_wait_is_an_open_fault_at_the_end(box: Box) -> None:
    _late_fault(box)
    box.display_is(False, MONDAY + 24 * H + M)  # 00:01 Tuesday: it was not repaired
    box.tick(MONDAY + 24 * H + M + 30 * S)  # built at once: the fault is open, nothing waits
    mon = box.devices("2025-03-03")
    assert mon["repaired_late"] == 0 and [f["device"] for f in mon["open_faults"]] == ["car-out-display"]
    assert mon["open_faults"][0]["overdue"] is True


def test_a_restart_within_the_wait_still_counts_the_repair(box: Box) -> None:
    """The gateway restarts at 00:01 with the display there: the return of 23:58 is kept, so the
    report still waits and counts it repaired late."""
    _late_fault(box)
    restart = MONDAY + 24 * H + M
    box.ops = ops(box.gw, started=restart, steady=box.steady)
    box.display.online = True
    settle_alarms(box.gw.conn, [box.display], lambda: restart, mqtt_enabled=False, clear_after=WAIT)
    box.tick(restart + 30 * S)
    assert box.built() == []
    box.tick(BACK + WAIT + 30 * S)
    mon = box.devices("2025-03-03")
    assert (mon["repaired_late"], mon["open_faults"]) == (1, []), mon


def test_a_report_built_by_hand_while_the_fault_waits_to_clear_is_refused(box: Box) -> None:
    _late_fault(box)
    gw = box.gw
    gw.now = lambda: MONDAY + 24 * H + M  # type: ignore[method-assign]  # 00:01, the admin at the booth PC
    gw.worker.start()
    try:
        _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "office", "admin", None)).result()
        client = TestClient(create_app(gw))
        r = client.post("/api/parking/reports/2025-03-03/build", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        # the fault clears at 00:03, five minutes after the display came back
        assert error["code"] == "returns_open" and "2025-03-04T00:03:00+08:00" in error["message"], error
    finally:
        gw.worker.stop()
    assert box.built() == []
