"""Review 67 J1: the centre's snapshot listing an army car as the gateway sent it up is taken.

An army car is typed and imported ED-12345 and stored ED12345 (a typed ED12345 is a green plate
without its province, Review 67 G1), and the gateway sends ED12345 up in its registry records. The
centre, keeping its register as told, listed ED12345 in its next snapshot, and the whole snapshot
was refused ('invalid'), and every later one: no change from the centre reached the gateway again.
The centre's entries are the register: they name a car as stored, in every plate field."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import Secrets
from gateway.runtime.gateway import Gateway
from gateway.store.csv_rows import CardRow, SlotRow
from gateway.sync.entries import PassRow, parse_entry
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def app(make_gw: Callable[..., Gateway]) -> Iterator[Served]:  # noqa: F811
    with serving(make_gw()) as served:
        yield served


def _staged(gw: Gateway, version: int, entries: list[dict[str, object]]) -> dict[str, object]:
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    parts = encode_snapshot(version, entries, per_part=10)
    for i, body in enumerate(parts):
        save_part(conn, version, i + 1, len(parts), len(entries), body)
    conn.close()
    job = StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", version)
    return stage(job)


def test_the_centres_snapshot_echoing_an_army_car_added_at_the_booth_is_taken(app: Served) -> None:
    gw, client, auth = app
    rid = gw.conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
    added = client.post("/api/vehicles", headers=auth, json={"plate": "ED-12345", "resident_id": rid})
    assert added.status_code == 200, added.text
    sent = [
        record
        for (payload,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic LIKE '%registry%'")
        if (record := json.loads(payload)).get("entity") == "vehicle"
    ]
    assert sent[-1]["plate"] == "ED12345"  # what the centre keeps and lists back
    entries: list[dict[str, object]] = [
        {"kind": "resident", "ref": "R1", "building": "3栋", "unit": "2单元", "name": "张三"},
        {"kind": "vehicle", "plate": "ED12345", "resident": "R1"},
    ]
    staged = _staged(gw, 5, entries)
    assert not staged.get("problems"), staged


def test_every_plate_field_of_the_centres_entries_takes_the_stored_army_plate(tmp_path: Path) -> None:
    tz, secrets = ZoneInfo("Asia/Shanghai"), Secrets.load_or_create(tmp_path)
    card_entry = {"kind": "card", "card": "0016363D4E", "resident": "R1", "plate": "EF12345"}
    card = parse_entry(card_entry, tz, secrets)
    slot = parse_entry({"kind": "slot", "zone": "main", "number": "B1", "plates": ["EF12345"]}, tz, secrets)
    visit = {
        "kind": "pass",
        "ref": "P1",
        "pass_kind": "visitor",
        "name": "王芳",
        "valid_from": "2030-01-01T08:00:00+08:00",
        "valid_to": "2030-01-01T18:00:00+08:00",
        "plate": "EF12345",
        "credentials": [{"kind": "plate", "value": "EF12345"}],
    }
    pass_row = parse_entry(visit, tz, secrets)[1]
    assert isinstance(card[1], CardRow) and card[1].plate == "EF12345"
    assert isinstance(slot[1], SlotRow) and slot[1].plates == ("EF12345",)
    assert isinstance(pass_row, PassRow) and pass_row.plate == "EF12345"
    assert pass_row.credentials == (("plate", "EF12345"),)
