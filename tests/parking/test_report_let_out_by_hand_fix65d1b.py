"""Review 65 E4: a vehicle held at an exit to pay and let out by the guard's 开闸 (docs/parking.md
*Let out by hand*) left: its stay closes at the opening, and nothing is inside. The daily report
counted its entry and no exit (it read only the access log, and the opening writes no passage
there; the camera's read as it pulls away is flagged `again`, not counted): entries 1, exits 0,
the car only one of the admin corrections, with no class. It is one exit now, by its stay's class
and as what it came in as, in the report and in the closed-management summary."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import occupancy
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_opened_by_hand import RELAY, _camera_at_the_exit, _exit_with_relay, _rows
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
PLATE = "苏E12345"  # nobody's: a temporary vehicle
MOTO = """
[[lanes]]
id = "moto-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"
vehicle_class = "motorcycle"

[parking.tariffs.motorcycle]
free_minutes = 0
first_period_minutes = 0
period_minutes = 1440
period_fen = 100
"""


def _vehicles(body: dict[str, Any]) -> tuple[Any, ...]:
    v = body["vehicles"]
    return (
        (v["entries"]["total"], v["exits"]["total"]),
        {c: n for c, n in v["exits"]["by_class"].items() if n},
        {k: n for k, n in v["exits"]["by_kind"].items() if n},
    )


def test_a_motorcycle_let_out_by_hand_is_one_motorcycle_out(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=RELAY + MOTO)
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("moto-in", PLATE, T0).vehicle_class == "motorcycle"
        assert look("car-out", PLATE, T0 + 2 * H).reason == "payment_due"
        open_by_hand()
        assert _rows(gw, "SELECT closed_by, class FROM stays") == [("hand", "motorcycle")]
        inside = gw.on_worker(lambda c: {r["class"]: r["inside"] for r in occupancy(c, gw.site.capacity)})
        body = gw.on_worker(lambda c: report_of_t0_day(gw, T0 + 30 * H)).result()
    assert inside.result()["motorcycle"] == 0
    assert _vehicles(body) == ((1, 1), {"motorcycle": 1}, {"temporary": 1})
    assert body["parking"]["admin_corrections"] == 1  # the guard's close, as before


def test_a_car_let_out_by_hand_and_read_as_it_pulls_away_is_one_exit(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(extra=RELAY)
    _camera_at_the_exit(gw)
    with _exit_with_relay(gw) as (look, open_by_hand):
        look("car-in", PLATE, T0)
        assert look("car-out", PLATE, T0 + 2 * H).reason == "payment_due"
        open_by_hand()
        assert look("car-out", PLATE, T0 + 2 * H + 10 * S).flags == ("again",)
        body = gw.on_worker(lambda c: report_of_t0_day(gw, T0 + 30 * H)).result()
    assert _vehicles(body) == ((1, 1), {"car": 1}, {"temporary": 1})


def test_a_car_let_out_by_hand_in_the_closed_hours_is_one_vehicle_out(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(extra=RELAY + CLOSED)  # closed management 07:00-21:00 that Monday
    day = T0.replace(hour=0)
    with _exit_with_relay(gw) as (look, open_by_hand):
        assert look("car-in", PLATE, day + 6 * H).admitted  # before the hours: not counted
        assert look("car-out", PLATE, day + 10 * H).reason == "payment_due"
        open_by_hand()
        gw.on_worker(lambda _: ops(gw, started=day).reports(day + 24 * H + 5 * 60 * S)).result(10)
        (text,) = _rows(gw, "SELECT body FROM daily_reports WHERE day = '2025-03-03'")[0]
    cm = json.loads(text)["closed_management"]
    assert (cm["vehicles_in"], cm["vehicles_out"], cm["vehicles_turned_away"]) == (0, 1, 0)
