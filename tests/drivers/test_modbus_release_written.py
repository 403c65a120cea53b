"""A release (恢复) of a lane held open on a Modbus barrier, judged by the module's own coil write as
an opening and a hold are: a module whose RS-485 adapter is unplugged never raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.relays.control import WrittenLater
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for
from tests.drivers.test_modbus_outcome_again import _audited, line  # noqa: F401  (fixture)
from tests.drivers.test_modbus_pulse_outcome import Client, exit_led, exit_on_modbus


def test_a_release_the_modbus_module_never_got_is_not_reported_done(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The guard holds the exit open (常开) for a convoy on a Modbus barrier; the module takes it,
    the arm is up. Then the RS-485 adapter is knocked out of its USB socket (the module keeps its
    coil on: the arm stays up). The convoy has passed and the guard presses 恢复 (release): the
    call returned as done, lane.release on record, the page dropped 常开中, the centre's
    set_lane_mode was answered ok - yet nothing reached the module and the barrier stayed up, open
    to every car, with no guard told. An opening and a hold on the same unplugged adapter fail
    (relay_failed, lane.open_failed / lane.hold_failed); guard-app.md names 'a release that fails,
    lane.release_failed' alike. The release fails the same way, so the guard knows the arm is
    still up, and the lane is still shown held."""
    port = tmp_path / "ttyUSB-rs485"
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    assert line.coil[-1] is True  # the arm is up
    port.unlink()  # the adapter unplugged
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    writes = len(line.coil)
    with pytest.raises(GatewayError) as failed:
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert failed.value.http_code == "relay_failed"
    assert len(line.coil) == writes and line.coil[-1] is True  # nothing reached the module: still up
    assert _audited(gw, "lane.release_failed", "car-out") == 1
    assert gw.by_hand.held == {"car-out": "保安 王"}  # the page still shows 常开中


def test_a_release_the_module_takes_is_done(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The same release with the adapter in: done once the module answered the coil written off,
    the lane no longer held, nothing failed on record."""
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    assert exit_led(gw).shown[-1] == ["一路平安"]
    gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert line.coil[-1] is False
    assert gw.by_hand.held == {}
    assert _audited(gw, "lane.release_failed", "car-out") == 0
    assert _audited(gw, "lane.release", "car-out") == 1


def test_a_release_of_a_module_already_off_is_done(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """Released again (the centre's set_lane_mode normal after the guard's 恢复) with the coil off
    as written: nothing to write, and done, as the coil is what was asked."""
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: line.coil[-1:] == [False], "the coil written off as the bus starts")
    assert isinstance(relay, WrittenLater)
    assert relay.release_written().result(timeout=relay.answer_within_s) is True
