"""Booth writes sent again with their Idempotency-Key after a lost answer (app.js keyFor sends the
same key for the same form sent again): the retry is answered what the first made, never done twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import gateway.api.deps as deps
from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, make_config, start_site, stored

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元", "destination": "3栋301"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _with_key(token: str, key: str) -> dict[str, str]:
    return {**bearer(token), "Idempotency-Key": key}


def test_contractor_pass_sent_again_with_its_key_is_one_pass(site: Site, client: TestClient) -> None:
    """The admin issues a contractor pass on the 施工人员 page; the answer is lost on the Wi-Fi and he
    taps 登记 again (the form unchanged: the page sends the same Idempotency-Key). Two contractor
    passes, two QR codes, were issued for one worker; the retry gets the pass already made."""
    crew = {"name": "孙师傅", "company": "好家装修", "host_building": "3栋", "host_unit": "2单元",
            "valid_to": (site.gw.now() + timedelta(days=30)).date().isoformat(), "hours": ["08:00-18:00"]}
    headers = _with_key(site.admin_token, "crew-retry-key-1")
    first = client.post("/api/contractors", json=crew, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/contractors", json=crew, headers=headers)  # the answer to `first` was lost
    made = stored(site, "SELECT id FROM passes WHERE kind = 'contractor'")
    assert len(made) == 1, f"one contractor issued twice after a lost answer: passes {made}"
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"], again.text
    assert again.json()["qr"] == first.json()["qr"]


def test_contractor_key_sent_with_another_pass_is_a_mismatch(site: Site, client: TestClient) -> None:
    """The key names one contractor pass: sent with another worker's, it is refused, nothing made."""
    crew = {"name": "孙师傅", "company": "好家装修", "host_building": "3栋", "host_unit": "2单元",
            "valid_to": (site.gw.now() + timedelta(days=30)).date().isoformat()}
    headers = _with_key(site.admin_token, "crew-retry-key-2")
    assert client.post("/api/contractors", json=crew, headers=headers).status_code == 201
    other = client.post("/api/contractors", json={**crew, "name": "钱师傅"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch", other.text
    assert len(stored(site, "SELECT id FROM passes WHERE kind = 'contractor'")) == 1


def test_car_with_no_plate_recorded_inside_sent_again_with_its_key_gets_one_ticket(
    site: Site, client: TestClient
) -> None:
    """The admin records a car found parked with no plate (车位 page, 登记场内车辆, plate 无牌车); the
    answer is lost and he taps 登记 again (same form, same Idempotency-Key). The car was given a
    second ticket and a second stay; the retry is answered the stay and ticket already given."""
    car = {"plate": "无牌车", "reason": "摄像机故障时进场"}
    headers = _with_key(site.admin_token, "inside-retry-key-1")
    first = client.post("/api/parking/stays", json=car, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post("/api/parking/stays", json=car, headers=headers)  # the answer to `first` was lost
    stays = stored(site, "SELECT plate FROM stays WHERE exited_at IS NULL AND plate LIKE '无牌%'")
    assert len(stays) == 1, f"one car with no plate recorded inside twice: tickets {stays}"
    assert again.status_code == 200, again.text
    assert again.json()["plate"] == first.json()["plate"]
    assert again.json()["stay_id"] == first.json()["stay_id"]
    audited = stored(site, "SELECT count(*) FROM audit WHERE action = 'stay.record'")
    assert audited == [(1,)]


def test_materials_leaving_sent_again_with_its_key_is_recorded_once(site: Site, client: TestClient) -> None:
    """The guard records materials leaving on a pass page (登记放行); the answer is lost and he taps
    again (same form, same Idempotency-Key). The materials were recorded twice and the owner told
    twice upstream that an old cabinet left; the retry is answered the record already made."""
    visitor = {"name": "欧阳娜娜", "host_building": "3栋", "host_unit": "2单元"}
    pass_id = client.post("/api/visitors", json=visitor, headers=bearer(site.guard_token)).json()["id"]
    items = {"items": "旧橱柜 1 套", "pass_id": pass_id}
    headers = _with_key(site.guard_token, "materials-retry-key-1")
    first = client.post("/api/materials", json=items, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/materials", json=items, headers=headers)  # the answer to `first` was lost
    rows = stored(site, "SELECT id FROM materials_out")
    told = stored(site, "SELECT count(*) FROM outbox WHERE topic = 'materials'")
    assert len(rows) == 1, f"materials recorded {len(rows)} times, the owner told {told[0][0]} times"
    assert again.status_code == 201 and again.json() == first.json(), again.text


def test_a_registration_made_and_sent_again_on_a_busy_box_is_not_told_not_saved(
    site: Site, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pass was made but its answer lost; the guard taps 登记 again (same key) while the box is
    behind (a burst of decisions). He was told 503 busy, 网关繁忙，未保存 ("did not save this"), for a
    visitor whose pass is saved: the repeat only reads the pass back, and answers it."""
    headers = _with_key(site.guard_token, "busy-repeat-key-1")
    first = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert first.status_code == 201, first.text
    monkeypatch.setattr(deps, "WRITE_TIMEOUT_S", 0.5)
    site.gw.on_worker(lambda conn: time.sleep(1.5))  # the worker far behind
    again = client.post("/api/visitors", json=VISITOR, headers=headers)
    assert stored(site, "SELECT count(*) FROM passes")[0][0] == 1
    assert again.status_code in (200, 201), f"the pass made is answered {again.status_code}: {again.text}"
    assert again.json()["id"] == first.json()["id"]
