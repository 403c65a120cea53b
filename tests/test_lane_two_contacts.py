"""A lane with two barrier or door contacts (a wide gate with two arms, a double door with a contact
on each leaf): the lane is open while either is, so the held_open and forced_open alarms follow the
contact still open, not the one that last moved. And a guard holding a lane open answers a
held_open alarm already raised for it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import BarrierWatch
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    left_propped_open,
    mock_pins,
    no_leaked_threads,
    open_alarms,
    query,
    start_gateway,
    wait_for,
)

HELD_OPEN_S = 0.4


def arm(name: str, relay_pin: int, contact_pin: int) -> str:
    """One arm (or door leaf) of the car-in lane: its own relay and its own "up" contact."""
    return f"""
[[devices]]
id = "car-in-arm-{name}"
lane = "car-in"
kind = "relay"
driver = "gpio"
pin = {relay_pin}
inputs = {{ barrier_open = {contact_pin} }}
bounce_s = 0
held_open_s = {HELD_OPEN_S}
"""


ARM_A, ARM_B = arm("a", 17, 6), arm("b", 18, 7)  # contacts on GPIO 6 and 7
TWO_ARMS = ARM_A + ARM_B


def upstream_alarms(gw: Gateway) -> list[tuple[str, str]]:
    """(kind, state) of each alarm record queued upstream, in order."""
    payloads = query(gw, "SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [(a["kind"], a["state"]) for a in (json.loads(p) for (p,) in payloads)]


def held_open_upstream(gw: Gateway) -> list[str]:
    return [state for kind, state in upstream_alarms(gw) if kind == "held_open"]


def test_the_lane_stays_open_and_forced_until_its_last_contact_closes() -> None:
    """A double door's leaf forced open: shutting the other leaf clears nothing."""
    watch = BarrierWatch({"car-in": 5.0})
    assert watch.opened("car-in", 100.0, "leaf-a")  # nothing told it to: forced
    assert not watch.closed("car-in", "leaf-b")  # the other leaf, already shut, reports so
    assert watch.opened("car-in", 130.0, "leaf-b")  # opened by hand too
    assert watch.held_open_in("car-in", 150.0, 60.0) == 10.0  # counted from the first leaf
    assert not watch.closed("car-in", "leaf-a")
    assert watch.is_open("car-in")
    assert watch.held_open_in("car-in", 150.0, 60.0) == 40.0  # now from the leaf still open
    assert watch.closed("car-in", "leaf-b")  # the last one: the forced-open alarm clears
    assert not watch.is_open("car-in")
    assert watch.held_open_in("car-in", 150.0, 60.0) is None


def test_a_second_arm_going_up_for_the_same_decision_is_not_forced() -> None:
    """Both arms of a wide gate go up for one car: no forced_open; one that goes up again on its
    own, long after, is."""
    watch = BarrierWatch({"car-in": 5.0})
    watch.commanded("car-in", 100.0)
    assert not watch.opened("car-in", 101.0, "arm-a")
    assert not watch.opened("car-in", 102.0, "arm-b")
    assert not watch.closed("car-in", "arm-a")
    assert watch.opened("car-in", 130.0, "arm-a")  # up again, long after: forced


def test_one_arm_stuck_up_raises_held_open_although_the_other_arm_came_down(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """Both arms go up for an ambulance; arm B comes down, arm A stays up (stuck): the centre
    hears of it, naming arm A."""
    gw = gateways(start_gateway(tmp_path, TWO_ARMS))
    arm_a, arm_b = mock_pins.pin(6), mock_pins.pin(7)
    gw.by_hand.open_lane("car-in", "保安 王", "救护车")
    arm_a.drive_low()
    arm_b.drive_low()
    time.sleep(0.05)
    arm_b.drive_high()
    # Waited for, not a sleep of 6 limits: a loaded machine's watch thread can be later than that.
    with suppress(AssertionError):
        wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm")
    assert open_alarms(gw, "held_open") == ["car-in"], (
        f"arm A has been up (limit {HELD_OPEN_S:g} s) but no held_open alarm; "
        f"upstream saw {upstream_alarms(gw)}"
    )
    assert "car-in-arm-a" in query(gw, "SELECT message FROM alarms WHERE kind = 'held_open'")[0][0]
    arm_a.drive_high()
    wait_for(lambda: open_alarms(gw, "held_open") == [], "the alarm cleared once both arms are down")


def test_an_alarm_on_one_leaf_is_not_cleared_by_the_other_leaf_closing(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """Door leaf A is propped open (forced and held open); someone opens and shuts leaf B: both
    alarms stay, since leaf A is still open."""
    gw = gateways(start_gateway(tmp_path, TWO_ARMS))
    leaf_a, leaf_b = mock_pins.pin(6), mock_pins.pin(7)
    leaf_a.drive_low()
    wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm")
    leaf_b.drive_low()
    time.sleep(0.05)
    leaf_b.drive_high()
    time.sleep(HELD_OPEN_S * 3)
    assert open_alarms(gw, "held_open") == ["car-in"], (
        f"leaf A is still propped open but its alarm was cleared; upstream saw {upstream_alarms(gw)}"
    )
    assert open_alarms(gw, "forced_open") == ["car-in"]
    leaf_a.drive_high()
    wait_for(lambda: open_alarms(gw, "held_open") + open_alarms(gw, "forced_open") == [], "both cleared")


@pytest.mark.parametrize("propped_listed", ["first", "second"])
def test_a_restart_with_one_leaf_still_propped_open_keeps_the_alarm(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    propped_listed: str,
) -> None:
    """docs/hardware.md: 'a door propped open across a restart keeps its alarm'. The shut leaf's
    state, reported as the gateway starts (before or after the propped leaf's), must not clear it,
    not even for a moment upstream."""
    config = TWO_ARMS if propped_listed == "first" else ARM_B + ARM_A
    left_propped_open(tmp_path, mock_pins, config)  # leaf A (GPIO 6) propped open; leaf B shut
    again = start_gateway(tmp_path, config)
    mock_pins.pin(6).drive_low()  # leaf A still propped open (the mock pin is made anew)
    again = gateways(again)
    time.sleep(HELD_OPEN_S * 6)
    assert open_alarms(again, "held_open") == ["car-in"] and held_open_upstream(again) == ["raised"], (
        f"leaf A is still propped open after the restart but its alarm was cleared; upstream saw "
        f"{upstream_alarms(again)}"
    )
    mock_pins.pin(6).drive_high()
    wait_for(lambda: open_alarms(again, "held_open") == [], "the alarm cleared once the leaf is shut")


def test_a_restart_with_both_leaves_shut_clears_the_alarm_left_open(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The propped leaf was shut while the gateway was down: the alarm it left clears at start."""
    left_propped_open(tmp_path, mock_pins, TWO_ARMS)
    again = gateways(start_gateway(tmp_path, TWO_ARMS))  # the pins made anew: both leaves shut
    wait_for(lambda: open_alarms(again, "held_open") == [], "the stale alarm cleared at start")


def test_a_guard_holding_open_a_lane_already_alarmed_leaves_no_held_open_alarm(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The alarm says 'with no decision or guard holding it open'. The guard sees the door alarm,
    decides it stays open (furniture moving in) and holds the lane open: the centre sees the alarm
    cleared. Released with the door still open, it is raised again a window later."""
    gw = gateways(start_gateway(tmp_path, TWO_ARMS))
    mock_pins.pin(6).drive_low()
    wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm")
    gw.by_hand.hold_lane("car-in", "保安 王", "搬家")
    time.sleep(HELD_OPEN_S * 3)
    assert open_alarms(gw, "held_open") == [], (
        f"the lane is held open by a guard but the centre still has a held_open alarm saying no guard "
        f"holds it; upstream saw {upstream_alarms(gw)}"
    )
    assert held_open_upstream(gw) == ["raised", "cleared"]
    gw.by_hand.release_lane("car-in", "保安 王", "搬完了")  # released, the door still open
    wait_for(lambda: open_alarms(gw, "held_open") == ["car-in"], "the held-open alarm after release")
