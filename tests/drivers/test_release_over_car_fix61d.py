"""A guard releases (取消常开) a lane held open for a convoy while its loop still sees the last car
under the arm: the barrier stays up, the guard is told a car is there, and it comes down once the
car has left the loop (Review 61d: it dropped at once, onto the car where the barrier controller
has no anti-smash loop of its own). A hold meanwhile keeps it up; a loop stuck on lets it down in
the end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.simulated import SimulatedRelay
from gateway.api.lanes import lanes_status
from gateway.config import parse_config
from gateway.runtime import hand_holds
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways, no_leaked_threads, wait_for  # noqa: F401

LANE = "car-in"


def _held_with_car_on_loop(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> tuple[Gateway, list[SimulatedRelay], Callable[[bool], None]]:
    gw = gateways(Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml")))
    relays = [r for r in gw.devices.lanes[LANE].relays if isinstance(r, SimulatedRelay)]
    assert relays
    gw.by_hand.hold_lane(LANE, "保安 王", "车队")
    assert all(r.held for r in relays)
    loop = gw.lane_io.input_handler(LANE, "car-in-loop")
    loop("car_present", True)  # the convoy's last car is on the loop, under the arm
    return gw, relays, lambda on: loop("car_present", on)


def test_release_waits_for_the_car_to_leave_the_loop(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    no_leaked_threads: None,  # noqa: F811
) -> None:
    gw, relays, loop = _held_with_car_on_loop(tmp_path, gateways)
    gw.by_hand.release_lane(LANE, "保安 王", "车队已过")
    assert all(r.held for r in relays), "the barrier dropped onto the car on the loop"
    assert lanes_status(gw)["lanes"][LANE]["car_under_arm"], "the guard's page is not told a car is there"
    loop(False)  # the car drives off
    wait_for(lambda: not any(r.held for r in relays), "the barrier let down once the car left", 60)
    wait_for(lambda: LANE not in gw.by_hand.held, "the lane no longer shown held", 60)
    assert not lanes_status(gw)["lanes"][LANE]["car_under_arm"]


def test_a_hold_while_the_release_waits_keeps_the_lane_up(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw, relays, loop = _held_with_car_on_loop(tmp_path, gateways)
    gw.by_hand.release_lane(LANE, "保安 王", "车队已过")
    gw.by_hand.hold_lane(LANE, "保安 李", "还有一辆")
    assert not gw.by_hand.car_under_arm(LANE)
    loop(False)
    # The next car arrives and leaves: the lane is held, nothing was waiting to let it down.
    loop(True)
    loop(False)
    assert all(r.held for r in relays), "a release that waited for the car undid the hold after it"
    assert gw.by_hand.held.get(LANE) == "保安 李"


def test_a_close_while_a_car_is_under_the_arm_lets_it_down_once_the_car_left(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw, relays, loop = _held_with_car_on_loop(tmp_path, gateways)
    gw.by_hand.set_closed(LANE, True, "保安 王", "夜间关闭")
    assert gw.by_hand.lane_modes.get(LANE) == "closed"
    assert all(r.held for r in relays), "the close dropped the barrier onto the car on the loop"
    loop(False)
    wait_for(lambda: not any(r.held for r in relays), "the barrier let down once the car left", 60)


def test_a_loop_stuck_on_does_not_keep_the_lane_up_for_ever(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hand_holds, "RELEASE_WAITS_FOR_CAR_S", 0.5)
    gw, relays, _loop = _held_with_car_on_loop(tmp_path, gateways)
    gw.by_hand.release_lane(LANE, "保安 王", "车队已过")
    wait_for(lambda: not any(r.held for r in relays), "the barrier let down past the stuck loop's limit", 60)
    wait_for(lambda: LANE not in gw.by_hand.held, "the lane no longer shown held", 60)


def test_a_release_with_the_loop_clear_lets_the_barrier_down_at_once(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw, relays, loop = _held_with_car_on_loop(tmp_path, gateways)
    loop(False)
    gw.by_hand.release_lane(LANE, "保安 王", "车队已过")
    assert not any(r.held for r in relays)
    assert LANE not in gw.by_hand.held
