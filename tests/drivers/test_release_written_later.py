"""A release (恢复) a Modbus module did not take, then the adapter plugged back: "off" is written
(hardware.md: "the release is still wanted, and the coil written 'off' once the bus is back")."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest

from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for
from tests.drivers.test_modbus_outcome_again import _audited, line  # noqa: F401  (fixture)
from tests.drivers.test_modbus_pulse_outcome import Client, exit_on_modbus


def test_a_lane_whose_failed_release_was_written_later_is_no_longer_shown_held(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The guard holds car-out open (常开) for a convoy on a Modbus barrier. The RS-485 adapter is
    knocked out; the guard presses 恢复: relay_failed, lane.release_failed, the lane still shown
    held (常开中), as guard-app.md says while the arm stays up. The adapter is plugged back: the
    release, still wanted, is written and the arm comes down. The lane was still shown 常开中 (held
    by 保安 王) for good, though its barrier was down and its hold off record (a restart showed it
    normal); and the barrier watch still took it as held, so a car forcing the arm up raised no
    forced-open alarm. Once the release is on the relay, the lane is no longer held, on the pages
    nor in the barrier watch."""
    port = tmp_path / "ttyUSB-rs485"
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    assert line.coil[-1] is True
    port.unlink()  # the adapter unplugged
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    with pytest.raises(GatewayError):
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    assert gw.by_hand.held == {"car-out": "保安 王"}
    port.write_text("")  # plugged back
    wait_for(lambda: relay.health.online and line.coil[-1:] == [False], "the release written", timeout=30)
    on_record = gw.on_worker(lambda c: c.execute("SELECT lane, mode FROM lane_modes").fetchall()).result()
    assert on_record == []  # the hold is off record: a restart shows the lane normal
    forced = gw.by_hand.barriers.opened("car-out", time.monotonic() + 3600)
    assert (gw.by_hand.held, forced) == ({}, True), (
        f"barrier down, hold off record, yet shown held by {gw.by_hand.held}; forced-open seen: {forced}"
    )


def test_a_lane_held_again_before_the_release_is_written_stays_held(
    tmp_path: Path,
    line: Client,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The release the unplugged adapter did not take is written later, but the guard held the lane
    again (常开, taken) before: the lane stays held by him, on the page and in the barrier watch.
    The module's word that "off" was written comes after the new hold here (a Future the test
    settles), as it could with two modules on two buses."""
    port = tmp_path / "ttyUSB-rs485"
    gw = gateways(exit_on_modbus(tmp_path))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the module online")
    gw.by_hand.hold_lane("car-out", "保安 王", "车队通过")
    later: Future[bool] = Future()
    monkeypatch.setattr(relay, "off_written", lambda: later)
    port.unlink()
    wait_for(lambda: not relay.health.online, "the unplugged adapter to be found")
    with pytest.raises(GatewayError):
        gw.by_hand.release_lane("car-out", "保安 王", "车队已过")
    port.write_text("")
    wait_for(lambda: relay.health.online and line.coil[-1:] == [False], "the release written", timeout=30)
    gw.by_hand.hold_lane("car-out", "保安 李", "第二个车队")
    assert line.coil[-1] is True
    later.set_result(True)  # the first release's "off", told late
    assert gw.by_hand.held == {"car-out": "保安 李"}
    assert gw.by_hand.barriers.opened("car-out", time.monotonic() + 3600) is False  # held: not forced
