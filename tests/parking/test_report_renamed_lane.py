"""The daily report after the site config's lanes changed between restarts: a lane renamed (its id
changed) or removed still has its passages counted, as the access record kept the lane's direction
and type when it was written. Records written before the gateway kept them are read by the lanes
as configured now."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import LaneRules, Presented
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.database import open_database
from tests.parking.conftest import T0, TZ, parking_toml, seed
from tests.parking.test_operations import CLOSED, ops
from tests.test_store import database_at

H = timedelta(hours=1)
DAY = T0.replace(hour=0)
RENAMED = ('id = "car-in"\n', 'id = "north-car-in"\n')
# The door, taken out of the config (the installer's afternoon edit removes it with the rename).
DOOR = '\n[[lanes]]\nid = "door"\ngate = "north"\ndirection = "entrance"\ntype = "pedestrian"\n'


def site_text(data: Path, extra: str = "") -> str:
    return parking_toml(data, extra=extra)


def edited(text: str) -> str:
    """The afternoon's edit: the car entrance renamed (a second gate is being added), the door gone."""
    assert RENAMED[0] in text and DOOR in text, "the test's site config no longer has these lanes"
    return text.replace(*RENAMED).replace(DOOR, "\n")


@contextmanager
def serving(gw: Gateway) -> Iterator[tuple[TestClient, dict[str, str]]]:
    gw.start()
    client = TestClient(create_app(gw))
    name = f"booth-{id(gw)}"
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "t", name, "admin", None)).result()
    try:
        yield client, {"Authorization": f"Bearer {token}"}
    finally:
        gw.stop()


def show(gw: Gateway, lane: str, plate: str, at: datetime) -> None:
    ev = gw.handle(Presented(lane, "plate", plate, 0.97, at, "cam"))
    assert ev.admitted, ev


def test_report_of_a_day_counts_entries_made_before_the_entrance_lane_was_renamed(tmp_path: Path) -> None:
    """The installer renames the car entrance's id (car-in -> north-car-in: a second gate is being
    added) in the afternoon and restarts. The day's report, built at midnight and sent to the
    community office, must still count the cars that came in through that lane in the morning:
    they are on record (access_log) and their stays are open."""
    data = tmp_path / "data"
    first_cfg = parse_config(site_text(data), "site.toml")
    seed(first_cfg, tmp_path)
    gw = Gateway(first_cfg)
    tz = gw.site.tz
    day = (gw.now() - timedelta(days=1)).date()
    morning = datetime.combine(day, datetime.min.time(), tz) + 9 * H
    show(gw, "car-in", "皖B33333", morning)  # a resident onto its own slot
    show(gw, "car-in", "苏E12345", morning + H)  # a temporary car
    gw.conn.close()

    second = Gateway(parse_config(edited(site_text(data)), "site.toml"))
    with serving(second) as (client, auth):
        r = client.post(f"/api/parking/reports/{day}/build", headers=auth)
        assert r.status_code == 200, r.text
        body = client.get(f"/api/parking/reports/{day}", headers=auth).json()
    entries = body["vehicles"]["entries"]
    assert entries["total"] == 2, f"the day's two vehicle entries are missing from its report: {entries}"
    assert entries["by_kind"]["resident"] == entries["by_kind"]["temporary"] == 1
    assert entries["by_class"]["car"] == 2


def test_closed_management_summary_counts_cars_through_a_lane_renamed_since(tmp_path: Path) -> None:
    """During a closed period (封闭式管理) a resident's car comes in and a stranger's is turned away
    at the car entrance; the entrance is renamed that evening. The day's summary for the property
    company still shows one car in and one turned away, not only the refusal."""
    data = tmp_path / "data"
    cfg = parse_config(site_text(data, CLOSED), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    show(gw, "car-in", "皖B33333", DAY + 9 * H)
    refused = gw.handle(Presented("car-in", "plate", "苏E00002", 0.97, DAY + 10 * H, "cam"))
    assert refused.reason == "closed_management"
    gw.conn.close()

    renamed = Gateway(parse_config(edited(site_text(data, CLOSED)), "site.toml"))
    try:
        ops(renamed, started=DAY).reports(DAY + 24 * H)
        body = json.loads(renamed.conn.execute("SELECT body FROM daily_reports").fetchone()[0])
    finally:
        renamed.conn.close()
    cm = body["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 1), cm
    assert body["vehicles"]["entries"]["total"] == 1


BEFORE_THE_UPGRADE = 17  # the last schema whose access records did not keep the lane's direction and type
AT = "2025-03-03T02:00:00.000000+00:00"  # 10:00 in Shanghai, on DAY


def _old_record(conn: sqlite3.Connection, event_id: str, lane: str, admitted: int, reason: str) -> None:
    conn.execute(
        "INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason) "
        "VALUES (?, ?, ?, 'cam', 'plate', ?, 0.97, ?, ?)",
        (event_id, AT, lane, f"苏E{event_id}", admitted, reason),
    )


def test_records_from_before_the_upgrade_are_counted_by_the_lanes_configured_now(tmp_path: Path) -> None:
    """A report rebuilt after the upgrade for a day before it: those records do not say which way
    their lane faced, so the lanes configured now say it. One at a lane removed before the upgrade
    cannot be told in or out: it is in neither, but its refusal is still counted."""
    path = tmp_path / "gateway.db"
    old = database_at(path, BEFORE_THE_UPGRADE)
    _old_record(old, "00001", "car-in", 1, "temporary")
    _old_record(old, "00002", "car-out", 1, "temporary")
    _old_record(old, "00003", "gone-in", 1, "temporary")  # a lane removed before the upgrade
    _old_record(old, "00004", "gone-in", 0, "unknown_plate")
    old.close()
    conn = open_database(path).conn
    lanes = {
        "car-in": LaneRules("car-in", "entrance", "vehicle", "main"),
        "car-out": LaneRules("car-out", "exit", "vehicle", "main"),
    }
    try:
        body = build_report(
            conn, site_id="s", lanes=lanes, day=DAY.date(), hour=0, tz=TZ, built_at=DAY + 24 * H
        )
    finally:
        conn.close()
    assert body["vehicles"]["entries"]["total"] == 1
    assert body["vehicles"]["exits"]["total"] == 1
    assert body["refusals"] == {"total": 1, "by_reason": {"unknown_plate": 1}}
