"""A lane whose barrier contact is on one device and whose loop detector is on a loop-only sensor
(kind = "sensor", only car_present): the lane's open_grace_s and held_open_s are the contact's.
The loop sensor cannot report the barrier, so its windows (its defaults or values set on it) must
not cut the contact module's. The gateways here run real gpio drivers on gpiozero mock pins; the
loop sensor's windows are set short so that the alarms it would raise come in a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.cli import main
from gateway.config import parse_config
from gateway.runtime.devices import build_devices
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    mock_pins,
    no_leaked_threads,
    open_alarms,
    start_gateway,
)

CONTACT_MODULE = """
[[devices]]
id = "car-in-io"
lane = "car-in"
kind = "relay"
driver = "gpio"
pin = 17
inputs = { barrier_open = 6 }
bounce_s = 0
open_grace_s = 30
held_open_s = 600
"""


def loop_sensor(lane: str = "car-in", pin: int = 5, windows: str = "") -> str:
    return f"""
[[devices]]
id = "{lane}-loop"
lane = "{lane}"
kind = "sensor"
driver = "gpio"
inputs = {{ car_present = {pin} }}
bounce_s = 0
{windows}"""


def test_a_lanes_windows_are_its_barrier_contacts_not_its_loop_only_sensors(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
) -> None:
    """The reviewer's site: the loop sensor keeps its defaults (10 s, 120 s), which took over the
    contact module's 30 s and 600 s. A lane with a loop detector only has no barrier to judge."""
    loop_alone = loop_sensor("car-out", pin=13, windows="open_grace_s = 1\n")  # a lane with no contact
    devices_toml = CONTACT_MODULE + loop_sensor() + loop_alone
    devices = build_devices(parse_config(site_toml(tmp_path / "data") + devices_toml, "site.toml"))
    try:
        assert (devices.open_grace_s, devices.held_open_s) == ({"car-in": 30.0}, {"car-in": 600.0}), (
            "the loop-only sensors' open_grace_s / held_open_s were taken for their lanes"
        )
        assert devices.loop_only == {"car-in-loop", "car-out-loop"}
    finally:
        devices.close()


def test_a_guards_opening_is_not_forced_open_by_the_loop_only_sensors_grace(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A guard's 开闸; the slow arm is reported up a second later, well inside the contact module's
    open_grace_s (30 s). The loop sensor's 0.2 s must not raise 强行开门 forced_open."""
    gw = gateways(start_gateway(tmp_path, CONTACT_MODULE + loop_sensor(windows="open_grace_s = 0.2\n")))
    gw.by_hand.open_lane("car-in", "保安 王", "访客")
    time.sleep(1.0)
    mock_pins.pin(6).drive_low()  # the arm is up
    time.sleep(0.5)
    assert open_alarms(gw, "forced_open") == [], (
        "forced_open raised 1 s after a guard's opening, though the barrier's contact module allows 30 s: "
        "the loop-only sensor's open_grace_s was used for the lane"
    )


def test_a_barrier_up_for_a_guard_is_not_held_open_by_the_loop_only_sensors_limit(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """As above with held_open_s: the contact module allows the arm 600 s up; the loop sensor's 0.3 s
    must not raise 长时间未关 held_open a second after the guard's opening."""
    gw = gateways(start_gateway(tmp_path, CONTACT_MODULE + loop_sensor(windows="held_open_s = 0.3\n")))
    gw.by_hand.open_lane("car-in", "保安 王", "访客")
    mock_pins.pin(6).drive_low()  # the arm is up
    time.sleep(1.0)
    assert open_alarms(gw, "held_open") == [], (
        "held_open raised 1 s after a guard's opening, though the barrier's contact module allows 600 s: "
        "the loop-only sensor's held_open_s was used for the lane"
    )


def test_check_config_says_windows_set_on_a_loop_only_sensor_are_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A site that set held_open_s on its loop detector (it used to cut the lane's window) is told
    at check-config that the value is now ignored, and where to set it; the contact module's own
    values and a loop sensor left at its defaults say nothing."""
    devices_toml = CONTACT_MODULE + loop_sensor(windows="held_open_s = 600\n")
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data") + devices_toml, encoding="utf-8")
    assert main(["check-config", str(path)]) == 0
    said = capsys.readouterr()
    warned = [line for line in (said.out + said.err).splitlines() if "is ignored on a device" in line]
    assert len(warned) == 1, said
    assert "car-in-loop: held_open_s is ignored" in warned[0] and "lane 'car-in'" in warned[0], warned
