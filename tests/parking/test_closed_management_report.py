"""The daily closed-management summary (封闭式管理, REQUIREMENTS 9): from the periods the gateway ran
under that day, whatever site.toml says when the report is built or rebuilt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import T0, parking_toml, seed, show
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, CLOSED's first day (07:00-21:00 to 9 March)
LIFTED = CLOSED.replace("last_day = 2025-03-09", "last_day = 2025-03-04")


def restarted(data: Path, extra: str) -> Gateway:
    """The gateway started again on the same data with site.toml edited."""
    return Gateway(parse_config(parking_toml(data, extra=extra), "site.toml"))


def report_of(gw: Gateway, day: str) -> dict[str, Any]:
    row = gw.conn.execute("SELECT body FROM daily_reports WHERE day = ?", (day,)).fetchone()
    return dict(json.loads(row[0]))


def first_started(tmp_path: Path, extra: str) -> tuple[Gateway, Path]:
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data, extra=extra), "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg), data


def test_summary_of_the_day_closed_management_was_lifted_at_noon(tmp_path: Path) -> None:
    """On 5 March at 09:00 a resident's car comes in and a stranger's is turned away. At noon the
    community office lifts closed management: the installer sets last_day to 4 March and restarts.
    The day's report, sent to the office that night, still sums up the morning's closed management
    (and leaves out the car let in at 13:00, after it was lifted)."""
    gw, data = first_started(tmp_path, CLOSED)
    day = DAY + 2 * 24 * H
    assert show(gw, "car-in", "皖B33333", day + 9 * H).admitted
    assert show(gw, "car-in", "苏E00002", day + 10 * H).reason == "closed_management"
    gw.conn.close()
    gw = restarted(data, LIFTED)
    try:
        assert show(gw, "car-in", "苏E00003", day + 13 * H).admitted
        ops(gw, started=day + 12 * H).reports(day + 24 * H + 5 * M)
        body = report_of(gw, "2025-03-05")
    finally:
        gw.conn.close()
    assert body["refusals"]["by_reason"].get("closed_management") == 1
    cm = body["closed_management"]
    assert cm is not None, "the morning's closed management (1 car in, 1 turned away) has no summary"
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 1), cm
    assert cm["periods"] == ["2025-03-03..2025-03-09 07:00-21:00"]


def test_a_restart_on_a_stale_clock_keeps_the_mornings_closed_management(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same noon edit, but the Pi restarts on fake-hwclock's time, a day behind: the morning
    the gateway ran under closed management is still summed up as such."""
    gw, data = first_started(tmp_path, CLOSED)
    day = DAY + 2 * 24 * H
    assert show(gw, "car-in", "皖B33333", day + 9 * H).admitted
    assert show(gw, "car-in", "苏E00002", day + 10 * H).reason == "closed_management"
    gw.conn.close()
    stale = day - 12 * H
    monkeypatch.setattr(Gateway, "now", lambda self: stale)
    gw = restarted(data, LIFTED)
    try:
        assert show(gw, "car-in", "苏E00003", day + 13 * H).admitted
        ops(gw, started=stale).reports(day + 24 * H + 5 * M)
        cm = report_of(gw, "2025-03-05")["closed_management"]
    finally:
        gw.conn.close()
    assert cm is not None and (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 1), cm


def test_rebuilding_a_closed_day_after_the_period_left_the_config_keeps_its_summary(tmp_path: Path) -> None:
    """The report of 3 March (one car in, one turned away under closed management) was built and
    sent. Weeks later the installer takes the long-over period out of site.toml, and an admin
    rebuilds that report (POST /api/parking/reports/2025-03-03/build, after a plate correction):
    the report kept and the one sent upstream again keep their closed-management summary."""
    gw, data = first_started(tmp_path, CLOSED)
    assert show(gw, "car-in", "皖B33333", DAY + 9 * H).admitted
    assert show(gw, "car-in", "苏E00002", DAY + 10 * H).reason == "closed_management"
    ops(gw, started=DAY).reports(DAY + 24 * H)
    first = report_of(gw, "2025-03-03")["closed_management"]
    assert first["vehicles_turned_away"] == 1
    gw.conn.close()

    gw = restarted(data, "")
    later = DAY + 20 * 24 * H
    gw.now = lambda: later  # type: ignore[method-assign]
    gw.start()
    try:
        client = TestClient(create_app(gw))
        _, token = gw.on_worker(lambda c: create_token(c, later, "t", "booth", "admin", None)).result()
        auth = {"Authorization": f"Bearer {token}"}
        r = client.post("/api/parking/reports/2025-03-03/build", headers=auth)
        assert r.status_code == 200, r.text
        kept = client.get("/api/parking/reports/2025-03-03", headers=auth).json()
        rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
        sent = [json.loads(p)["report"] for (p,) in rows]
    finally:
        gw.stop()
    assert kept["closed_management"] == first
    assert sent[-1]["closed_management"] == first


def test_summary_of_the_day_closed_management_began_at_noon_leaves_out_the_open_morning(
    tmp_path: Path,
) -> None:
    """No closed management on the morning of 3 March: a stranger's car comes in at 09:00 as a
    temporary car. At noon the community office orders closed management from today (07:00-21:00,
    temporary vehicles refused) and the installer adds it and restarts. The day's summary does not
    tell the office that a temporary car was let in under closed management."""
    gw, data = first_started(tmp_path, "")
    assert show(gw, "car-in", "苏E00009", DAY + 9 * H).reason == "temporary"
    gw.conn.close()
    gw = restarted(data, CLOSED)
    try:
        assert show(gw, "car-in", "苏E00002", DAY + 13 * H).reason == "closed_management"
        ops(gw, started=DAY + 12 * H).reports(DAY + 24 * H + 5 * M)
        cm = report_of(gw, "2025-03-03")["closed_management"]
    finally:
        gw.conn.close()
    assert cm["vehicles_turned_away"] == 1
    assert cm["vehicles_in"] == 0, f"the 09:00 temporary car, before closed management began, is in: {cm}"


def test_the_report_of_the_eve_of_closed_management_has_no_summary(make_gw: Callable[..., Gateway]) -> None:
    """Reports run 06:00 to 06:00 ([reports] hour = 6). The report of 2 March covers 06:00 on the
    2nd to 06:00 on the 3rd: not one minute of the period's hours (07:00-21:00 from the 3rd), so it
    carries no closed-management summary, as a day outside any period does."""
    gw = make_gw(extra="[reports]\nhour = 6\n" + CLOSED)
    show(gw, "car-in", "苏E00001", DAY - 14 * H)  # 10:00 on 2 March: a temporary car
    ops(gw, started=DAY - 24 * H).reports(DAY + 6 * H + 5 * M)
    assert report_of(gw, "2025-03-02")["closed_management"] is None
    ops(gw, started=DAY).reports(DAY + 30 * H + 5 * M)
    assert report_of(gw, "2025-03-03")["closed_management"] is not None


def test_a_report_ending_at_the_closed_hours_start_has_no_summary(make_gw: Callable[..., Gateway]) -> None:
    """[reports] hour = 7: the report of 2 March ends at 07:00 on the 3rd, as the closed hours begin."""
    gw = make_gw(extra="[reports]\nhour = 7\n" + CLOSED)
    show(gw, "car-in", "苏E00001", DAY - 14 * H)
    ops(gw, started=DAY - 24 * H).reports(DAY + 7 * H + 5 * M)
    assert report_of(gw, "2025-03-02")["closed_management"] is None
