"""The daily report after `[reports] hour` is changed between restarts: every hour is in exactly
one report (the first report after the change is a longer or shorter one)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.conftest import PARKING_TOML, TZ, parking_config, seed, show

H = timedelta(hours=1)
D1 = date(2025, 3, 3)
MIDNIGHT = datetime.combine(D1, datetime.min.time(), TZ)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Callable[[int], Gateway]]:
    """A gateway on one data directory, started again with another report hour each call."""
    made: list[Gateway] = []

    def restart(hour: int) -> Gateway:
        if made:
            made[-1].conn.close()
        cfg = parking_config(tmp_path / "data", extra=f"[reports]\nhour = {hour}\n")
        if not made:
            seed(cfg, tmp_path)
        made.append(Gateway(cfg))
        return made[-1]

    yield restart
    made[-1].conn.close()


def operations(gw: Gateway, started: datetime) -> Operations:
    return Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), started)


def reports(gw: Gateway) -> list[dict[str, object]]:
    return [json.loads(b) for (b,) in gw.conn.execute("SELECT body FROM daily_reports ORDER BY day")]


def entries(bodies: list[dict[str, object]]) -> int:
    return sum(b["vehicles"]["entries"]["total"] for b in bodies)  # type: ignore[index]


def periods(bodies: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(b["period_start"], b["period_end"]) for b in bodies]


@contextmanager
def serving(gw: Gateway) -> Iterator[tuple[TestClient, dict[str, str]]]:
    gw.start()
    client = TestClient(create_app(gw))
    _, token = gw.on_worker(
        lambda c: create_token(c, gw.now(), "t", f"booth-{id(gw)}", "admin", None)
    ).result()
    try:
        yield client, {"Authorization": f"Bearer {token}"}
    finally:
        gw.stop()


def test_changing_the_report_hour_leaves_no_hours_out_of_every_report(tmp_path: Path) -> None:
    """The community office asks for the daily report from 08:00 instead of midnight; the installer
    sets [reports] hour = 8 and restarts. The reports built up to then covered midnight to midnight;
    a car that came in between midnight and 08:00 of the day of the change must be counted in some
    report (REQUIREMENTS 6 and 9: every vehicle recorded, a summary every day)."""

    def site_text(extra: str = "") -> str:
        values = {"data_dir": tmp_path / "data", "reentry": "void", "shared": "temporary"}
        values |= {"exit_without_entry": "guard", "capacity": 6, "extra": extra}
        return PARKING_TOML.format(**values)

    cfg = parse_config(site_text(), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    today = gw.now().date()
    d1 = today - timedelta(days=3)  # reports of d1 built with hour 0
    midnight = datetime.combine(d1, datetime.min.time(), gw.site.tz)
    for plate, at in (("苏E00001", 10 * H), ("苏E00002", 27 * H), ("苏E00003", 34 * H)):
        assert show(gw, "car-in", plate, midnight + at).admitted  # d1 10:00, d1+1 03:00, d1+1 10:00
    gw.conn.close()

    with serving(Gateway(parse_config(site_text(), "site.toml"))) as (client, auth):
        r = client.post(f"/api/parking/reports/{d1}/build", headers=auth)
        assert r.status_code == 200, r.text
    # On d1+1 the hour is set to 8 and the gateway restarts; d1+1's report is built when it ends.
    with serving(Gateway(parse_config(site_text("[reports]\nhour = 8\n"), "site.toml"))) as (client, auth):
        r = client.post(f"/api/parking/reports/{d1 + timedelta(days=1)}/build", headers=auth)
        assert r.status_code == 200, r.text
        listed = client.get("/api/parking/reports", headers=auth).json()
        bodies = [client.get(f"/api/parking/reports/{r['day']}", headers=auth).json() for r in listed]
    counted = entries(bodies)
    assert counted == 3, f"entries counted over all reports: {counted} of 3; periods: {periods(bodies)}"


def test_lowering_the_report_hour_counts_no_car_twice_in_reports_made_up_after_downtime(
    site: Callable[[int], Gateway],
) -> None:
    """Reports ran 08:00 to 08:00; the office wants midnight to midnight. The installer sets hour = 0
    while the gateway is off for two days. The reports made up when it starts again must not count
    again the car that came in at 05:00, already in the last 08:00 report: the first one after the
    change covers 08:00 to midnight only, and says so in its period."""
    gw = site(8)
    for plate, at in (("苏E00001", 10 * H), ("苏E00002", 29 * H), ("苏E00003", 33 * H), ("苏E00004", 51 * H)):
        assert show(gw, "car-in", plate, MIDNIGHT + at).admitted  # 3rd 10:00, 4th 05:00 and 09:00, 5th 03:00
    assert operations(gw, MIDNIGHT).reports(MIDNIGHT + 33 * H) == ["2025-03-03"]

    gw = site(0)
    assert operations(gw, MIDNIGHT + 73 * H).reports(MIDNIGHT + 73 * H) == ["2025-03-04", "2025-03-05"]
    bodies = reports(gw)
    assert entries(bodies) == 4, f"entries counted over all reports: {entries(bodies)} of 4"
    assert periods(bodies) == [
        ("2025-03-03T08:00:00+08:00", "2025-03-04T08:00:00+08:00"),
        ("2025-03-04T08:00:00+08:00", "2025-03-05T00:00:00+08:00"),  # the shorter one
        ("2025-03-05T00:00:00+08:00", "2025-03-06T00:00:00+08:00"),
    ]


def test_a_report_rebuilt_after_the_hour_changed_keeps_the_hours_it_was_sent_with(
    site: Callable[[int], Gateway],
) -> None:
    """After the switch from midnight to 08:00 the office has the report before the change and the
    longer one after it rebuilt (a correction made by hand): each keeps its period, so no car moves
    into two reports."""
    gw = site(0)
    for plate, at in (("苏E00001", 10 * H), ("苏E00002", 27 * H), ("苏E00003", 34 * H)):
        assert show(gw, "car-in", plate, MIDNIGHT + at).admitted
    assert operations(gw, MIDNIGHT).reports(MIDNIGHT + 25 * H) == ["2025-03-03"]

    gw = site(8)
    o = operations(gw, MIDNIGHT + 60 * H)
    assert o.reports(MIDNIGHT + 60 * H) == ["2025-03-04"]
    before = periods(reports(gw))
    assert before[1] == ("2025-03-04T00:00:00+08:00", "2025-03-05T08:00:00+08:00")  # the longer one
    for day in (D1, D1 + timedelta(days=1)):
        o.build_report(day, MIDNIGHT + 61 * H, actor="office")
    assert periods(reports(gw)) == before
    assert entries(reports(gw)) == 3


def test_a_kept_report_rebuilt_by_hand_right_after_the_hour_moved_later_is_built(
    site: Callable[[int], Gateway],
) -> None:
    """Reports ran midnight to midnight and the 3rd's is kept. At 05:00 on the 4th the installer sets
    hour = 8; at 06:00 the office corrects a plate and rebuilds the 3rd's report by hand. Its period
    ended at midnight (a report rebuilt keeps its period), yet it was refused 409 not_ended, "ends
    at 08:00 on the 4th", judged by the new hour."""
    gw = site(0)
    assert show(gw, "car-in", "苏E00001", MIDNIGHT + 10 * H).admitted
    assert operations(gw, MIDNIGHT).reports(MIDNIGHT + 25 * H) == ["2025-03-03"]
    gw = site(8)
    gw.now = lambda: MIDNIGHT + 30 * H  # type: ignore[method-assign]  # 06:00 on the 4th
    with serving(gw) as (client, auth):
        r = client.post(f"/api/parking/reports/{D1}/build", headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["period_end"] == (MIDNIGHT + 24 * H).isoformat()
