"""Hours whose end is their start (08:00-08:00, a slip for 08:00-18:00) are refused wherever hours are
set: the admin API, a CSV import, the central server's snapshot and site.toml. They used to be taken
for a window of 24 hours, a pass or door open round the clock (review s38_i)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import ConfigError, parse_config
from gateway.core import Presented
from gateway.core.windows import Window
from gateway.errors import ImportRejected
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.conftest import site_toml, write_csv
from tests.ui.conftest import Site, bearer, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "phone": "13711112222",
    "host_building": "3栋",
    "host_unit": "2单元",
}
SLIP = "08:00-08:00"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[tuple[Site, TestClient]]:
    site = start_site(make_config(tmp_path / "data"))
    try:
        with TestClient(create_app(site.gw)) as client:
            yield site, client
    finally:
        site.gw.stop()


@pytest.mark.parametrize("text", [SLIP, "23:30 - 23:30"])
def test_hours_that_end_when_they_start_are_refused_with_the_fix(text: str) -> None:
    with pytest.raises(ValueError, match="end when they start: give an end different from the start"):
        Window.parse(text)


@pytest.mark.parametrize("text", ["00:00-24:00", "00:00-00:00"])
def test_midnight_to_midnight_is_still_all_day(text: str) -> None:
    at_three = datetime(2025, 3, 31, 3, 0, tzinfo=TZ)
    assert Window.parse(text).contains(at_three)


def test_an_empty_window_is_not_taken_for_all_day(started: tuple[Site, TestClient]) -> None:
    """An admin issuing a crew's pass for 08:00-08:00 is told to correct the hours, rather than
    handing out a pass that opens the door at 03:00."""
    site, client = started
    body = {**CREW, "valid_from": "2025-03-01", "valid_to": "2025-06-30", "hours": [SLIP]}
    r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
    assert r.status_code == 422, r.text
    assert "hours" in r.text and "08:00-18:00" in r.text


def test_a_card_for_an_empty_window_is_refused(started: tuple[Site, TestClient]) -> None:
    site, client = started
    r = client.post(
        "/api/cards",
        json={"card": "0055500555", "resident_id": site.resident_id, "hours": [SLIP]},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_hours", r.text


def test_an_import_with_an_empty_window_names_the_row(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data"), "site.toml")
    residents = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    cards = write_csv(tmp_path / "c.csv", f"card,resident_ref,hours\n0055500555,R1,{SLIP}\n")
    with pytest.raises(ImportRejected) as info:
        import_csv(cfg, [residents, cards])
    assert any("c.csv" in p and "hours" in p and SLIP in p for p in info.value.problems), info.value.problems


def test_centre_card_hours_08_08_is_not_all_day(started: tuple[Site, TestClient]) -> None:
    """The central server's snapshot with a card for 08:00-08:00 is refused, entry named, rather
    than listing a card open round the clock."""
    site, _ = started
    gw = site.gw
    entries = [
        {
            "kind": "resident",
            "ref": "R1",
            "building": "3栋",
            "unit": "2单元",
            "room": "301",
            "name": "张三丰",
        },
        {"kind": "card", "card": "0099887766", "resident": "R1", "hours": [SLIP]},
    ]
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(1, entries, per_part=10)):
        save_part(conn, 1, i + 1, len(parts), len(entries), body)
    conn.close()
    job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", 1)
    meta = stage(job)
    problems = json.loads(meta["problems"]) if isinstance(meta["problems"], str) else meta["problems"]
    assert meta["status"] == "rejected", meta
    assert any("0099887766" in p and SLIP in p for p in problems), problems


def test_a_lane_whose_hours_are_an_empty_window_is_not_open_round_the_clock(tmp_path: Path) -> None:
    """site.toml: the door's opening hours typed 07:00-07:00 (for 07:00-19:00): check-config names
    the line, where the door used to open for a resident at 03:00 as if no hours were set."""
    text = site_toml(tmp_path / "data").replace('id = "door"\n', 'id = "door"\nhours = ["07:00-07:00"]\n', 1)
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.toml")
    shown = "\n".join(p.render("site.toml") for p in info.value.problems)
    assert "lanes[" in shown and "07:00-07:00" in shown and "08:00-18:00" in shown, shown


def test_a_lane_open_all_day_by_hours_still_opens_at_night(tmp_path: Path) -> None:
    text = site_toml(tmp_path / "data").replace('id = "door"\n', 'id = "door"\nhours = ["00:00-24:00"]\n', 1)
    gw = Gateway(parse_config(text, "site.toml"))
    try:
        p = Presented("door", "card", "0012345678", 1.0, datetime(2025, 3, 31, 3, tzinfo=TZ), "test")
        assert gw.handle(p).reason != "outside_hours"
    finally:
        gw.conn.close()
