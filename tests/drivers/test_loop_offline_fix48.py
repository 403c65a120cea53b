"""A lane with two loop detectors whose one module goes offline while its loop is on (review of
ec7b911): its last report (a car on it) no longer counts once it is offline, so the other loop going
off clears the lane's camera, which reads only when a loop fires again; its first report once back
counts again.

The camera driver, PlateReader and LaneVoter are the real ones (tests/lane_helpers.py), the loops
report through the gateway's own lane inputs, and the module's health goes offline through the
gateway's device-change hook, as build_devices wires every device's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from drivers.health import DeviceHealth
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import gateways  # noqa: F401  (fixture)
from tests.drivers.test_loop_stuck_fix48b import A, B, at, lane_inputs, trigger_lane  # noqa: F401
from tests.lane_helpers import START, Lane

ARMING, SAFETY = "car-out-loop", "car-out-safety-loop"


def _read_in_the_street(lane: Lane) -> list[str]:
    """After the arming loop went off at 3.2 s: nothing on a loop for minutes, then B passes in the
    street, never on a loop. The plates the camera presented."""
    lane.frames(3.2, 200.0, [], step=0.5)
    lane.frames(200.0, 210.0, [B], step=0.5)
    return [v for _, v in lane.presented]


def test_a_loop_module_gone_offline_with_its_loop_on_no_longer_keeps_the_camera_reading(
    trigger_lane: Lane,  # noqa: F811
) -> None:
    """The safety loop's module dies while A is over it (its last report: on). Next the arming
    loop goes off. The camera read the street once a second for good (the safety loop counted as
    stuck on), and B passing in the street was decided, the note 'loop detector on for N min'
    growing for ever. It reads only when a loop fires."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    arming = inputs.input_handler("car-out", ARMING)
    safety = inputs.input_handler("car-out", SAFETY)
    at(lane, 0.0)
    arming("car_present", True)
    lane.frames(0.0, 3.0, [A])
    at(lane, 3.0)
    safety("car_present", True)
    inputs.device_offline("car-out", SAFETY)  # its module then goes offline: no more reports
    at(lane, 3.2)
    arming("car_present", False)
    assert B not in _read_in_the_street(lane), lane.presented
    assert lane.camera.health.last_error == ""


def test_a_loop_module_back_online_counts_again_from_its_first_report(
    trigger_lane: Lane,  # noqa: F811
) -> None:
    """The safety module gone offline and back, reporting its loop on (a car stopped on it): its
    loop counts again, and the arming loop going off does not clear the camera."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    arming = inputs.input_handler("car-out", ARMING)
    safety = inputs.input_handler("car-out", SAFETY)
    at(lane, 0.0)
    arming("car_present", True)
    safety("car_present", True)
    inputs.device_offline("car-out", SAFETY)
    safety("car_present", True)  # back: its first report
    lane.frames(0.0, 3.0, [A])
    at(lane, 3.2)
    arming("car_present", False)
    lane.frames(3.2, 100.0, [], step=0.5)
    assert "loop detector on for" in lane.camera.health.last_error


def test_a_loop_module_gone_offline_alone_on_the_lane_clears_the_camera(
    trigger_lane: Lane,  # noqa: F811
) -> None:
    """One loop on the lane, its module gone offline with a car over it: the camera is told the loop
    is off (its last word was on), not left reading the street once a second for good."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    arming = inputs.input_handler("car-out", ARMING)
    at(lane, 0.0)
    arming("car_present", True)
    lane.frames(0.0, 3.0, [A])
    at(lane, 3.2)
    inputs.device_offline("car-out", ARMING)
    assert B not in _read_in_the_street(lane), lane.presented


def test_the_gateway_tells_its_lanes_of_a_loop_module_gone_offline(
    trigger_lane: Lane,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """Through the gateway: the safety loop's Modbus module (its health wired to the gateway's
    device-change hook, as build_devices wires it) goes offline with A over its loop; the arming
    loop then goes off, and B passing in the street is never read."""
    lane = trigger_lane
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    base = datetime(2026, 3, 2, 10, 0, tzinfo=gw.site.tz)
    monkeypatch.setattr(gw, "now", lambda: base + timedelta(seconds=lane.now - START))
    gw.devices.lanes["car-out"].cameras.append(lane.camera)
    gateways(gw)
    module = DeviceHealth(SAFETY, "relay", "car-out", "modbus", on_change=gw._device_changed)
    module.set_online()
    arming = gw.lane_io.input_handler("car-out", ARMING)
    safety = gw.lane_io.input_handler("car-out", SAFETY)
    at(lane, 0.0)
    arming("car_present", True)
    lane.frames(0.0, 3.0, [A])
    at(lane, 3.0)
    safety("car_present", True)
    module.set_offline("unit 2 on /dev/ttyUSB0 does not answer")
    at(lane, 3.2)
    arming("car_present", False)
    assert B not in _read_in_the_street(lane), lane.presented
