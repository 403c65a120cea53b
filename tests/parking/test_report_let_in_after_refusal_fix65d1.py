"""Review 65 D, fault 2: the everyday visit by car in closed management. 09:00 a visitor's car is
refused at the barrier (closed_management: not registered); the guard registers the visitor at
the booth and the camera's next read of the car, still standing there, lets it in. The daily
report and its closed-management summary counted it one vehicle in AND one turned away (and one
refusal): a car registered and let in was reported as kept out (docs/parking.md, *Daily report*)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import passes as store
from tests.parking.conftest import T0, show
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, closed 07:00-21:00
CAR = "苏E00002"


def _register(gw: Gateway, minutes: int) -> int:
    """The guard registers the visitor in the car at the booth, `minutes` after 09:00: the pass."""
    at = DAY + 9 * H + minutes * M
    visit = store.NewPass(
        kind="visitor", name="王五", valid_from=at, valid_to=DAY + 23 * H,
        phone="13800138000", id_number="11010519491231002X", host_building="3栋", host_unit="2单元",
        destination="3栋201", reason="探亲", plate=CAR,
        occupants=(store.Occupant(name="王五", phone="13800138000", id_number="11010519491231002X"),),
    )  # fmt: skip
    return store.create_pass(gw.conn, gw.secrets, visit, at, "guard1")


def _report(gw: Gateway) -> dict[str, Any]:
    ops(gw, started=DAY).reports(DAY + 24 * H + 5 * M)
    row = gw.conn.execute("SELECT body FROM daily_reports WHERE day = '2025-03-03'").fetchone()
    return dict(json.loads(row[0]))


def test_a_car_registered_while_it_waits_and_let_in_is_one_vehicle_in_not_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=CLOSED)
    assert show(gw, "car-in", CAR, DAY + 9 * H).reason == "closed_management"
    _register(gw, 2)
    again = gw.handle(Presented("car-in", "plate", CAR, 0.97, DAY + 9 * H + 3 * M, "cam", again=True))
    assert (again.admitted, again.reason) == (True, "visitor")
    body = _report(gw)
    cm = body["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 0)
    assert cm["turned_away_by_reason"]["vehicles"] == {}
    assert body["refusals"] == {"total": 0, "by_reason": {}}
    assert body["vehicles"]["entries"]["by_kind"]["visitor"] == 1


def test_a_car_that_comes_back_within_half_an_hour_and_is_let_in_was_not_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    """The driver backs away, registers at the booth on foot and is back 25 minutes later."""
    gw = make_gw(extra=CLOSED)
    show(gw, "car-in", CAR, DAY + 9 * H)
    _register(gw, 20)
    assert show(gw, "car-in", CAR, DAY + 9 * H + 25 * M).admitted
    cm = _report(gw)["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 0)


def test_a_car_let_in_on_the_qr_of_the_pass_registered_for_it_was_not_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    """Registered at the booth, the driver scans the new pass's QR at the barrier: the same car."""
    gw = make_gw(extra=CLOSED)
    show(gw, "car-in", CAR, DAY + 9 * H)
    visit = _register(gw, 2)
    qr = gw.conn.execute("SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'", (visit,))
    let_in = gw.handle(Presented("car-in", "qr", qr.fetchone()[0], 1.0, DAY + 9 * H + 3 * M, "scanner"))
    assert (let_in.admitted, let_in.reason) == (True, "visitor")
    cm = _report(gw)["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (1, 0)


def test_a_car_let_in_more_than_half_an_hour_later_or_elsewhere_was_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    """Turned away at 09:00, let in at 09:45: that was a second visit. A car turned away that never
    came in, and a car refused at one entrance while another car comes in, stay turned away."""
    gw = make_gw(extra=CLOSED)
    show(gw, "car-in", CAR, DAY + 9 * H)
    _register(gw, 40)
    assert show(gw, "car-in", CAR, DAY + 9 * H + 45 * M).admitted
    assert show(gw, "car-in", "苏E99999", DAY + 10 * H).reason == "closed_management"
    assert show(gw, "car-in", "皖B33333", DAY + 10 * H + M).admitted  # a resident's car behind it
    body = _report(gw)
    cm = body["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_turned_away"]) == (2, 2)
    assert body["refusals"] == {"total": 2, "by_reason": {"closed_management": 2}}
