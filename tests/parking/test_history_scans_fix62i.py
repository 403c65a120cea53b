"""A year's history must not slow the answers a guard or an API client asks for most (review 62e).

A busy estate keeps ~1,450,000 access records and ~270,000 closed stays. Two kinds of answer read all
of it each time: the cars inside (the occupancy page, reloaded every 15 s on each tablet, its plate
search, GET /api/parking/stays) walked every stay kept by entry time to find the open ones, and
GET /api/events?lane= of a quiet lane walked the whole access log for that lane's records.

Counted in SQLite's own steps over the whole request (every read-only connection it opens), as
tests/test_retention_query_plans.py counts: the same request on a store with 10x the history must
cost about the same. Never timed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

import gateway.api.deps as deps
from gateway.api.app import create_app
from gateway.api.auth import SESSION_COOKIE
from gateway.core import Presented
from gateway.parking.inside import _not_inside
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account, create_session, create_token, find_account
from gateway.store.database import open_read_only
from gateway.timefmt import to_db
from tests.parking.conftest import DOOR_OUT, T0, parking_config, seed
from tests.ui.conftest import ADMIN, bearer, password_hash

D = timedelta(days=1)
SMALL, BIG = 10_000, 100_000


def _fill(gw: Gateway, rows: int, days: int = 170) -> None:
    """`rows` access records at the car entrance and rows/5 closed stays over `days` before T0,
    copies of a real entry's rows, then three cars inside now. The door-out lane (a quiet way out
    on foot) has no record."""
    conn = gw.conn
    ev = gw.handle(Presented("car-in", "plate", "苏E00000", 0.97, T0 - (days + 1) * D, "cam"))
    conn.execute("BEGIN")
    conn.execute(
        """
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
        INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
            billing, flags, holder_kind, holder_id, vehicle_id, slot_id, snapshot, class, direction,
            lane_type, car)
        SELECT printf('hist-%09d', i),
               strftime('%Y-%m-%dT%H:%M:%S', :start, printf('+%d seconds', i * :span / :rows))
                   || '.000000+00:00',
               lane, device, kind, printf('苏E%05d', i % 90000), confidence, admitted, reason, billing,
               flags, holder_kind, holder_id, vehicle_id, slot_id, snapshot, class, direction,
               lane_type, printf('苏E%05d', i % 90000)
        FROM n, (SELECT * FROM access_log WHERE event_id = :ev)
        """,
        {"rows": rows, "start": to_db(T0 - days * D)[:19], "span": days * 86400, "ev": ev.event_id},
    )
    conn.execute(
        """
        INSERT INTO stays (subject, plate, class, zone, billing, entered_at, entry_event, exited_at,
                           exit_event, closed_by)
        SELECT 'plate:' || a.value, a.value, 'car', 'main', 'temporary', a.at, a.event_id,
               strftime('%Y-%m-%dT%H:%M:%S', a.at, '+2 hours') || '.000000+00:00', NULL, 'exit'
        FROM access_log a WHERE a.event_id LIKE 'hist-%' AND a.id % 5 = 0
        """
    )
    conn.execute(
        "UPDATE stays SET exited_at = ?, closed_by = 'exit' WHERE entry_event = ?",
        (to_db(T0 - days * D), ev.event_id),
    )
    conn.execute("COMMIT")
    for i in range(3):
        gw.handle(Presented("car-in", "plate", f"浙B{i:05d}", 0.97, T0 - timedelta(hours=i + 1), "cam"))
    create_account(conn, gw.now(), "test", ADMIN[0], "管理员", "admin", password_hash(ADMIN[1]))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Gateway]]:
    made: dict[int, Gateway] = {}
    for rows in (SMALL, BIG):
        d = tmp_path_factory.mktemp(f"history{rows}")
        cfg = parking_config(d / "data", extra=DOOR_OUT)
        seed(cfg, d)
        made[rows] = gw = Gateway(cfg)
        _fill(gw, rows)
    yield made
    for gw in made.values():
        gw.conn.close()


def _counted(gw: Gateway, steps: list[int]) -> sqlite3.Connection:
    """A read-only connection of the store whose every 100 SQLite steps add one to steps[0]."""
    conn = open_read_only(gw.db_path, 5, check_same_thread=False)

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 100)
    return conn


def _request_steps(gw: Gateway, url: str, monkeypatch: pytest.MonkeyPatch, page: bool) -> tuple[int, str]:
    """SQLite steps (in hundreds) of every read the request makes through the real handler, and
    the answer."""
    steps = [0]
    monkeypatch.setattr(deps, "read_only", lambda g: _counted(g, steps))
    with TestClient(create_app(gw)) as client:
        if page:  # a guard's login, made on the store (the worker is not running here)
            token, _ = create_session(gw.conn, gw.now(), find_account(gw.conn, ADMIN[0]), 12)
            client.cookies.set(SESSION_COOKIE, token)
            headers = {}
        else:
            _, token = create_token(gw.conn, gw.now(), "test", f"bot{len(url)}", "admin", None)
            headers = bearer(token)
        steps[0] = 0
        r = client.get(url, headers=headers)
        assert r.status_code == 200, r.text
        return steps[0], r.text


def _same_cost(
    stores: dict[int, Gateway], url: str, monkeypatch: pytest.MonkeyPatch, page: bool = False
) -> str:
    small, _ = _request_steps(stores[SMALL], url, monkeypatch, page)
    big, text = _request_steps(stores[BIG], url, monkeypatch, page)
    assert big <= 2 * small + 50, (
        f"{url}: {big * 100:,} steps with {BIG:,} records, {small * 100:,} with {SMALL:,}"
    )
    return text


def test_events_of_a_quiet_lane_cost_the_same_however_long_the_log(
    stores: dict[int, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _same_cost(stores, "/api/events?lane=door-out&limit=50", monkeypatch) == "[]"


def test_events_of_a_busy_lane_and_of_all_lanes_still_answer(
    stores: dict[int, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = create_token(stores[SMALL].conn, stores[SMALL].now(), "test", "events", "admin", None)
    with TestClient(create_app(stores[SMALL])) as client:
        on_lane = client.get("/api/events?lane=car-in&limit=2", headers=bearer(token)).json()
        every = client.get("/api/events?limit=2", headers=bearer(token)).json()
    assert [e["value"] for e in on_lane] == ["浙B00002", "浙B00001"]  # newest first
    assert [e["value"] for e in every] == ["浙B00002", "浙B00001"]


def test_occupancy_page_cars_inside_cost_the_same_however_many_stays_kept(
    stores: dict[int, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _same_cost(stores, "/occupancy", monkeypatch, page=True)
    assert all(f"浙B0000{i}" in page for i in range(3))
    assert "苏E00005" not in page  # a car gone long ago


def test_occupancy_search_by_plate_costs_the_same_however_many_stays_kept(
    stores: dict[int, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = _same_cost(stores, "/occupancy?plate=B00001", monkeypatch, page=True)
    assert "浙B00001" in page and "浙B00002" not in page


def test_stays_api_costs_the_same_however_many_stays_kept(
    stores: dict[int, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    every = _same_cost(stores, "/api/parking/stays", monkeypatch)
    assert all(f"浙B0000{i}" in every for i in range(3))
    one = _same_cost(stores, "/api/parking/stays?plate=浙B00001", monkeypatch)
    assert "浙B00001" in one and "浙B00002" not in one


def test_recording_a_car_inside_by_hand_costs_the_same_however_many_stays_kept(
    stores: dict[int, Gateway],
) -> None:
    """An admin's 在场登记 first asks whether the car is inside already: for a car that is not
    (why it is recorded), every stay kept was read."""
    cost = {}
    for rows, gw in stores.items():
        steps = [0]
        conn = _counted(gw, steps)
        _not_inside(conn, gw.site, "沪C12345", "plate:沪C12345", T0)  # neither inside nor seen leaving
        conn.close()
        cost[rows] = steps[0]
    assert cost[BIG] <= 2 * cost[SMALL] + 50, cost
