"""paid_while_held ("since the hold began") across a wall clock set back while the car is held."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_report_figures import Clock, serving

H = timedelta(hours=1)
M = timedelta(minutes=1)
CAR = "苏E12345"


def test_a_booth_payment_during_the_hold_after_the_clock_is_set_back_is_told_already_paid(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The car is held at the exit for 7元; NTP sets a clock that ran 40 min fast back; the driver
    pays 7元 at the booth PC while the exit tablet's dialog is open. The guard's 现金已收 is told
    nothing_owed (该车现在无需缴费) with no word of the booth's receipt, the case 6389f46 fixed; it
    should be 409 already_paid naming that receipt."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        for lane, at in (("car-in", T0), ("car-out", T0 + 2 * H)):
            clock.at = at
            p = Presented(lane, "plate", CAR, 0.97, at, "cam")
            gw.on_worker(lambda _, p=p: gw.handle(p)).result(10)
        clock.at = T0 + 2 * H + M
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert (quote["plate"], quote["due_fen"]) == (CAR, 700), quote
        clock.at -= 40 * M  # the running clock set back 40 minutes (NTP correcting it)
        booth = client.post(
            "/api/parking/prepay", headers=auth, json={"plate": CAR, "amount_fen": 700, "method": "cash"}
        )
        assert booth.status_code == 200, booth.text
        clock.at += M
        lane = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": CAR, "amount_fen": quote["due_fen"], "method": "cash"},
        )
    with sqlite3.connect(gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1
    error = lane.json().get("error", {})
    assert (lane.status_code, error.get("code")) == (409, "already_paid"), lane.text
    assert booth.json()["receipt"] in error["fix"], lane.text


def test_a_car_let_out_on_its_booth_payment_after_the_clock_is_set_back_is_told_already_paid(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The same car and step back, and the camera, reading the car still at the barrier after the
    booth took its 7元, lets it out paid. The exit tablet's 现金已收 on its stale dialog was told
    left_without_fee ("let through with no fee taken for its hold"): the booth's payment, dated
    before the hold began on the clock set back, was not found (paid_for_hold). It is
    already_paid, and nothing more is taken."""
    gw = make_gw()
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        for lane, at in (("car-in", T0), ("car-out", T0 + 2 * H)):
            clock.at = at
            p = Presented(lane, "plate", CAR, 0.97, at, "cam")
            gw.on_worker(lambda _, p=p: gw.handle(p)).result(10)
        clock.at = T0 + 2 * H + M
        quote = client.get("/api/parking/lanes/car-out/quote", headers=auth).json()
        assert (quote["plate"], quote["due_fen"]) == (CAR, 700), quote
        clock.at -= 40 * M  # the running clock set back 40 minutes (NTP correcting it)
        booth = client.post(
            "/api/parking/prepay", headers=auth, json={"plate": CAR, "amount_fen": 700, "method": "cash"}
        )
        assert booth.status_code == 200, booth.text
        clock.at += M
        again = Presented("car-out", "plate", CAR, 0.97, clock.at, "cam", again=True)
        let_out = gw.on_worker(lambda _: gw.handle(again)).result(10)
        assert let_out.admitted, let_out
        clock.at += M
        lane = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=auth,
            json={"plate": CAR, "amount_fen": quote["due_fen"], "method": "cash"},
        )
    with sqlite3.connect(gw.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1
    error = lane.json().get("error", {})
    assert (lane.status_code, error.get("code")) == (409, "already_paid"), lane.text
