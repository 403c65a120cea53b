"""Review 66 H, fault 1: a car refused just before the report hour and let in just after it.
reports.hour = 8, closed 07:00-21:00: a visitor's car refused at 07:55, the guard registers the
visitor at the booth and the camera lets the car in at 08:02. The 3 March report, built at the
first tick after 08:00, said one refusal and one vehicle turned away, and was sent so; every
rebuild of it said none (docs/parking.md, *Daily report*: such a car is not one turned away, nor
one of the refusals). The report waits until its period's end + LET_IN_WITHIN, and one built by
hand before then is refused, saying when."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import passes as store
from gateway.store.accounts import create_token
from tests.parking.conftest import T0
from tests.parking.test_operations import CLOSED, Steady, ops

H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
DAY = T0.replace(hour=0) + 24 * H  # Tuesday 4 March, 00:00: the 3 March report ends at 08:00 today
CAR = "苏E00002"
SINCE = DAY - 30 * H


@pytest.fixture
def gw(make_gw: Callable[..., Gateway]) -> Iterator[Gateway]:
    """07:55 the car is refused; 07:58 the guard registers the visitor; 08:02 the camera lets it in."""
    gw = make_gw(extra=CLOSED + "\n[reports]\nhour = 8\n")
    gw.now = lambda: SINCE  # type: ignore[method-assign]
    assert gw.handle(Presented("car-in", "plate", CAR, 0.97, DAY + 7 * H + 55 * M, "cam")).reason == (
        "closed_management"
    )
    at = DAY + 7 * H + 58 * M
    visit = store.NewPass(
        kind="visitor", name="王五", valid_from=at, valid_to=DAY + 20 * H,
        phone="13800138000", id_number="11010519491231002X", host_building="3栋", host_unit="2单元",
        destination="3栋201", reason="探亲", plate=CAR,
        occupants=(store.Occupant(name="王五", phone="13800138000", id_number="11010519491231002X"),),
    )  # fmt: skip
    store.create_pass(gw.conn, gw.secrets, visit, at, "guard1")
    yield gw


def _let_in(gw: Gateway) -> None:
    let_in = gw.handle(Presented("car-in", "plate", CAR, 0.97, DAY + 8 * H + 2 * M, "cam", again=True))
    assert (let_in.admitted, let_in.reason) == (True, "visitor")


def _sent(gw: Gateway) -> list[dict[str, Any]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
    return [json.loads(p)["report"] for (p,) in rows]


def _turned_away(body: dict[str, Any]) -> tuple[int, int]:
    return body["refusals"]["total"], body["closed_management"]["vehicles_turned_away"]


def test_the_report_waits_half_an_hour_and_counts_the_car_let_in_after_the_hour_once(gw: Gateway) -> None:
    steady = Steady()
    o = ops(gw, started=SINCE, steady=steady)

    def tick(at: Any) -> None:
        steady.s = (at - SINCE).total_seconds()
        o.tick(at)

    tick(SINCE)
    tick(DAY + 8 * H + 30 * S)  # the first tick after the report hour: the car is still at the barrier
    assert [r["day"] for r in _sent(gw)] == []
    _let_in(gw)
    tick(DAY + 8 * H + 30 * M + 30 * S)
    sent = _sent(gw)
    assert [(r["day"], _turned_away(r)) for r in sent] == [("2025-03-03", (0, 0))]
    # Built by hand the next day, the same figures: the report sent was final.
    again = o.build_report(date(2025, 3, 3), DAY + 33 * H)
    assert _turned_away(again) == (0, 0)


def test_a_report_built_by_hand_before_a_refused_car_may_still_be_let_in_is_refused(gw: Gateway) -> None:
    gw.now = lambda: DAY + 8 * H + 10 * M  # type: ignore[method-assign]  # 08:10, the office at the booth PC
    gw.worker.start()
    try:
        _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "office", "admin", None)).result()
        client = TestClient(create_app(gw))
        url, auth = "/api/parking/reports/2025-03-03/build", {"Authorization": f"Bearer {token}"}
        r = client.post(url, headers=auth)
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "let_ins_open" and "08:25" in error["message"], error
        assert "2025-03-04T08:25:00+08:00" in error["fix"], error
        gw.on_worker(lambda _: _let_in(gw)).result()
        gw.now = lambda: DAY + 8 * H + 26 * M  # type: ignore[method-assign]
        r = client.post(url, headers=auth)
        assert r.status_code == 200, r.text
        assert _turned_away(r.json()) == (0, 0)
    finally:
        gw.worker.stop()
