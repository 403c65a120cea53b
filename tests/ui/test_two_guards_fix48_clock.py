"""paid_while_held ("since the hold began") across a wall clock set back while the car is held."""

from __future__ import annotations

from collections.abc import Callable

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_report_figures import Clock, serving
from tests.ui.test_two_guards_fix48_lanes import CAR, M, booth_pays, held_at_exit, lane_pays, payments


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
        quote = held_at_exit(gw, clock, client, auth)
        clock.at -= 40 * M  # the running clock set back 40 minutes (NTP correcting it)
        booth = booth_pays(client, auth)
        clock.at += M
        lane = lane_pays(client, auth, quote)
    assert payments(gw) == 1
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
        quote = held_at_exit(gw, clock, client, auth)
        clock.at -= 40 * M  # the running clock set back 40 minutes (NTP correcting it)
        booth_pays(client, auth)
        clock.at += M
        again = Presented("car-out", "plate", CAR, 0.97, clock.at, "cam", again=True)
        let_out = gw.on_worker(lambda _: gw.handle(again)).result(10)
        assert let_out.admitted, let_out
        clock.at += M
        lane = lane_pays(client, auth, quote)
    assert payments(gw) == 1
    error = lane.json().get("error", {})
    assert (lane.status_code, error.get("code")) == (409, "already_paid"), lane.text
