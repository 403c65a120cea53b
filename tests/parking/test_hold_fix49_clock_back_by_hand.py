"""Reviewing edcfb8c: a car held at an exit as NTP sets the clock back stays one hold (docs/parking.md,
*When the clock jumps*), and an opening by hand ends a hold (ParkingDesk.let_out_by_hand)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.parking.charge_record_helpers import LET_OUT
from tests.parking.conftest import T0
from tests.parking.test_report_figures import Clock, look, serving
from tests.rush_helpers import parking_gw

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E12345"


def test_an_opening_by_hand_after_the_clock_is_set_back_ends_the_hold(tmp_path: Path) -> None:
    """A car held at the exit at 11:30; NTP sets the clock back 40 minutes as it stands there and the
    camera decides it again (one hold, as the docs say). The guard opens by hand and the car drives
    out: the lane still shows it held (收费放行 names it, its quote stands) as if it never left. The
    opening should end the hold: the lane's quote should name no car."""
    gw = parking_gw(tmp_path)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert look(gw, "car-in", "plate", CAR, T0).admitted
        clock.at = T0 + 2 * H + 30 * M
        held = look(gw, "car-out", "plate", CAR, clock.at)
        assert (held.admitted, held.reason) == (False, "payment_due"), held
        clock.at -= 40 * M  # NTP sets the running clock back 40 minutes
        again = look(gw, "car-out", "plate", CAR, clock.at, again=True)
        assert (again.admitted, again.reason) == (False, "payment_due"), again
        clock.at += 20 * S
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        clock.at += 5 * S
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert quote.get("plate") is None, f"the car let out by hand is still shown held at the exit: {quote}"


def test_an_opening_by_hand_dated_before_the_hold_by_a_clock_set_back_ends_the_hold(tmp_path: Path) -> None:
    """A car held at the exit at 11:30; NTP sets the clock back 40 minutes, and the guard opens by hand
    at once (10:50, before the camera decides it again): the opening, dated before the hold began, is
    the hold's by the decision it names, and ends it; the lane's quote should name no car."""
    gw = parking_gw(tmp_path)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        assert look(gw, "car-in", "plate", CAR, T0).admitted
        clock.at = T0 + 2 * H + 30 * M
        held = look(gw, "car-out", "plate", CAR, clock.at)
        assert (held.admitted, held.reason) == (False, "payment_due"), held
        clock.at -= 40 * M  # NTP sets the running clock back 40 minutes
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        clock.at += 5 * S
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
    assert quote.get("plate") is None, f"the car let out by hand is still shown held at the exit: {quote}"
