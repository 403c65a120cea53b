"""Visitors and passes at the edges a review found: the door, the guard's screen, the form and the
daily summary must agree on what a pass allows (REQUIREMENTS 1, 5, 9, 10)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config.models import ClosedManagement
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.parking.report import build_report
from gateway.sync.entries import EntryError, parse_entry
from tests.ui.conftest import ADMIN, Site, bearer, decided, log_in, make_config, start_site

TZ = ZoneInfo("Asia/Shanghai")
VISITOR = {"name": "李四", "host_building": "3栋", "host_unit": "2单元"}


def handle(site: Site, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    p = Presented(lane, kind, value, 1.0, at, "test")  # type: ignore[arg-type]
    return site.gw.on_worker(lambda c: site.gw.handle(p)).result(timeout=10)


def closed_site(tmp_path: Path, period: ClosedManagement) -> Site:
    cfg = make_config(tmp_path / "data")
    policy = cfg.policy.model_copy(update={"closed_management": [period]})
    return start_site(cfg.model_copy(update={"policy": policy}))


@pytest.fixture
def overnight(tmp_path: Path) -> Iterator[tuple[Site, date]]:
    """Closed management 21:00-07:00 on one day, ten days from now."""
    day = datetime.now(TZ).date() + timedelta(days=10)
    site = closed_site(tmp_path, ClosedManagement(first_day=day, last_day=day, hours=["21:00-07:00"]))
    yield site, day
    site.gw.stop()


def test_a_visit_in_the_morning_after_an_overnight_period_is_asked_what_the_gate_needs(
    overnight: tuple[Site, date],
) -> None:
    site, day = overnight
    morning = day + timedelta(days=1)  # 05:00-06:30: still inside the 21:00-07:00 that began on `day`
    start, end = datetime.combine(morning, time(5), TZ), datetime.combine(morning, time(6, 30), TZ)
    body = {"name": "王五", "plate": "浙A11111", "valid_from": start.isoformat(), "valid_to": end.isoformat()}
    with TestClient(create_app(site.gw)) as client:
        short = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert short.status_code == 422  # the form asks for what the period needs, not the gate later
    assert "closed management" in short.json()["error"]["message"]


def test_a_pass_whose_qr_the_guard_blocked_does_not_let_its_car_in(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    p = client.post("/api/visitors", json={**VISITOR, "plate": "苏E88888"}, headers=guard).json()
    block = {"kind": "qr", "value": p["qr"], "reason": "冒用"}
    assert client.post("/api/credentials/block", json=block, headers=guard).status_code == 200
    assert client.get(f"/api/passes/{p['id']}", headers=guard).json()["state"] == "blocked"
    car = decided(site, "car-in-camera", "plate", "苏E88888")
    assert (car["admitted"], car["reason"]) == (0, "blocked")


def test_a_later_visit_does_not_take_the_plate_from_a_pass_in_use(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    body = {**VISITOR, "plate": "苏E77777"}
    today = client.post("/api/visitors", json=body, headers=guard).json()
    start = site.gw.now() + timedelta(days=2)
    window = {"valid_from": start.isoformat(), "valid_to": (start + timedelta(hours=4)).isoformat()}
    later = client.post("/api/visitors", json={**body, **window}, headers=guard)
    assert later.status_code == 409, later.text
    assert f"pass {today['id']}" in later.json()["error"]["message"]
    assert handle(site, "car-in", "plate", "苏E77777", site.gw.now()).reason == "visitor"
    # Registered again for now (the visitor came back), the new pass takes the plate over.
    again = client.post("/api/visitors", json=body, headers=guard)
    assert again.status_code == 201, again.text
    with sqlite3.connect(site.gw.db_path) as conn:
        holder = conn.execute("SELECT pass_id FROM credentials WHERE value = '苏E77777'").fetchone()
    assert holder == (again.json()["id"],)


def test_a_pass_checked_out_by_mistake_hands_the_plate_back(client: TestClient, site: Site) -> None:
    guard = bearer(site.guard_token)
    body = {**VISITOR, "plate": "苏E66666"}
    first = client.post("/api/visitors", json=body, headers=guard).json()
    second = client.post("/api/visitors", json=body, headers=guard).json()  # registered twice
    assert client.post(f"/api/passes/{second['id']}/checkout", headers=guard).status_code == 200
    car = handle(site, "car-in", "plate", "苏E66666", site.gw.now())
    assert car.reason == "visitor"  # on the first pass, still in use
    with sqlite3.connect(site.gw.db_path) as conn:
        holder = conn.execute("SELECT pass_id FROM credentials WHERE value = '苏E66666'").fetchone()
    assert holder == (first["id"],)


def test_materials_on_a_pass_issued_for_no_unit_name_the_owner(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    until = (site.gw.now() + timedelta(days=5)).isoformat()
    contractor = {"name": "赵装修", "company": "好家装饰", "phone": "13711112222", "valid_to": until}
    pass_id = client.post("/api/contractors", json=contractor, headers=admin).json()["id"]
    record: dict[str, Any] = {"items": "旧橱柜 1 套", "pass_id": pass_id}
    nobody = client.post("/api/materials", json=record, headers=admin)
    assert nobody.status_code == 422 and "which unit" in nobody.json()["error"]["message"]
    typo = client.post(
        "/api/materials", json={**record, "host_building": "9栋", "host_unit": "9单元"}, headers=admin
    )
    assert typo.status_code == 422 and "no resident lives" in typo.json()["error"]["message"]
    owner = client.post(
        "/api/materials", json={**record, "host_building": "3栋", "host_unit": "2单元"}, headers=admin
    )
    assert owner.status_code == 201, owner.text
    assert (owner.json()["host_building"], owner.json()["host_unit"]) == ("3栋", "2单元")
    log_in(client, ADMIN)  # pages need the cookie
    page = client.get(f"/passes/{pass_id}").text
    assert 'id="materials-form"' in page and 'id="m-building"' in page  # it asks for the unit


@pytest.mark.parametrize("qr", ["P77A", "QR:P77/9F3A", "访客-0001-ABCD"])
def test_a_qr_value_the_door_would_never_accept_is_refused_at_sync(qr: str) -> None:
    from gateway.privacy import Secrets

    entry = {
        "kind": "pass", "ref": "P77", "pass_kind": "visitor", "name": "李四",
        "valid_from": "2020-01-01", "valid_to": "2099-01-01",
        "credentials": [{"kind": "qr", "value": qr}],
    }  # fmt: skip
    with pytest.raises(EntryError, match="what the door reads"):
        parse_entry(entry, TZ, Secrets(b"k" * 32))


@pytest.fixture
def closed_now(tmp_path: Path) -> Iterator[Site]:
    today = datetime.now(TZ).date()
    site = closed_site(
        tmp_path, ClosedManagement(first_day=today - timedelta(days=1), last_day=today + timedelta(days=1))
    )
    yield site
    site.gw.stop()


def test_the_guards_qr_check_says_closed_management_where_the_door_refuses(closed_now: Site) -> None:
    site = closed_now
    contractor = {
        **VISITOR, "company": "好家装饰", "valid_to": (site.gw.now() + timedelta(days=5)).isoformat(),
    }  # fmt: skip
    with TestClient(create_app(site.gw)) as client:
        qr = client.post("/api/contractors", json=contractor, headers=bearer(site.admin_token)).json()["qr"]
        checked = client.post(
            "/api/passes/check", json={"token": qr}, headers=bearer(site.guard_token)
        ).json()
    assert handle(site, "door", "qr", qr, site.gw.now()).reason == "closed_management"
    assert checked["state"] == "closed_management"


def test_the_daily_summary_counts_a_visitors_motorcycle_as_a_motorcycle(
    client: TestClient, site: Site
) -> None:
    body = {**VISITOR, "plate": "苏E12345", "vehicle_class": "motorcycle"}
    assert client.post("/api/visitors", json=body, headers=bearer(site.guard_token)).status_code == 201
    now = site.gw.now()
    assert handle(site, "car-in", "plate", "苏E12345", now).admitted
    gw = site.gw
    with sqlite3.connect(f"file:{gw.db_path}?mode=ro", uri=True) as conn:
        report = build_report(
            conn, site_id="t", lanes=gw.site.lanes, day=now.date(), hour=0, tz=TZ, built_at=now
        )
    by_class = report["vehicles"]["entries"]["by_class"]
    assert (by_class["motorcycle"], by_class["car"]) == (1, 0)


def test_tomorrows_pass_lets_its_car_in_after_an_unannounced_visit_today(
    client: TestClient, site: Site
) -> None:
    """The host pre-registered tomorrow's visit; the car also came today, was registered for
    today (that pass takes the plate) and left without a check-out."""
    guard = bearer(site.guard_token)
    body = {**VISITOR, "plate": "浙A77777"}
    tomorrow = site.gw.now() + timedelta(days=1)
    window = {"valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + timedelta(hours=8)).isoformat()}
    booked = client.post("/api/visitors", json={**body, **window}, headers=guard).json()
    today = client.post("/api/visitors", json=body, headers=guard)
    assert today.status_code == 201, today.text
    car = handle(site, "car-in", "plate", "浙A77777", tomorrow + timedelta(hours=1))
    assert (car.admitted, car.reason) == (True, "visitor")
    assert car.holder_id == booked["id"]


def open_stays(site: Site) -> list[tuple[str]]:
    with sqlite3.connect(site.gw.db_path) as conn:
        return conn.execute("SELECT subject FROM stays WHERE exited_at IS NULL").fetchall()


def book_tomorrow_and_come_today(
    client: TestClient, site: Site, plate: str
) -> tuple[datetime, dict[str, Any], dict[str, Any]]:
    """A visit booked for tomorrow, and the car registered today too (today's pass takes the plate):
    tomorrow, the booked pass and today's."""
    guard = bearer(site.guard_token)
    body = {**VISITOR, "plate": plate}
    tomorrow = site.gw.now() + timedelta(days=1)
    window = {"valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + timedelta(hours=8)).isoformat()}
    booked = client.post("/api/visitors", json={**body, **window}, headers=guard)
    today = client.post("/api/visitors", json=body, headers=guard)
    assert (booked.status_code, today.status_code) == (201, 201), today.text
    return tomorrow, booked.json(), today.json()


def test_a_car_that_came_on_the_booked_pass_leaves_on_it_after_it_ended(
    client: TestClient, site: Site
) -> None:
    tomorrow, booked, _ = book_tomorrow_and_come_today(client, site, "浙A55555")
    car_in = handle(site, "car-in", "plate", "浙A55555", tomorrow + timedelta(hours=1))
    assert (car_in.admitted, car_in.holder_id) == (True, booked["id"])
    car_out = handle(site, "car-out", "plate", "浙A55555", tomorrow + timedelta(hours=9))  # stayed late
    assert car_out.admitted and "no_entry_record" not in car_out.flags
    assert open_stays(site) == []


def test_a_car_parked_overnight_on_todays_pass_leaves_on_it_while_the_booked_one_runs(
    client: TestClient, site: Site
) -> None:
    tomorrow, _, today = book_tomorrow_and_come_today(client, site, "浙A44444")
    car_in = handle(site, "car-in", "plate", "浙A44444", site.gw.now())
    assert (car_in.admitted, car_in.holder_id) == (True, today["id"])
    car_out = handle(site, "car-out", "plate", "浙A44444", tomorrow + timedelta(hours=1))
    assert (car_out.admitted, car_out.holder_id) == (True, today["id"])  # it pays for its own stay
    assert "no_entry_record" not in car_out.flags
    assert open_stays(site) == []
