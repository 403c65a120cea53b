"""An LCUS relay board on a flaky USB hub: an opening by hand that failed while it was away."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.relays.control import PulseControl
from drivers.relays.lcus import lcus_frame
from drivers.serialport import PortError
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    PtyDevice,
    gateways,
    health,
    no_leaked_threads,
    pty_device,
    query,
    start_gateway,
    wait_for,
)
from tests.drivers.test_hold_failures import LCUS


def test_an_opening_the_guard_was_told_failed_does_not_open_the_barrier_when_the_board_comes_back(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The LCUS board drops off its USB hub as the guard presses 开闸: the page says 道闸未响应，操作
    未生效 and lane.open_failed is written. The hub brings the board back half a second later, and
    the driver sent it the failed pulse's "on": the barrier rose with nobody told (guard-app.md: an
    opening no relay took failed, the car held is not let out, a door told it did not open stays
    shut). The board is sent "off" (its state wanted) only."""
    board = pty_device("ttyUSB-relay")
    gw = gateways(start_gateway(tmp_path, LCUS.format(port=board.path)))
    relay = gw.devices.lanes["car-out"].relays[0]
    wait_for(lambda: relay.health.online, "the board online")
    board.pending(wait=0.2)
    board.unplug()
    with pytest.raises(GatewayError):
        gw.by_hand.open_lane("car-out", "保安 王", "送快递")
    failed = query(gw, "SELECT action FROM audit WHERE action LIKE 'lane.open%' ORDER BY id")
    assert failed[-1] == ("lane.open_failed",)
    time.sleep(0.3)
    board.plug()  # the hub brings it back within the lane's pulse_seconds
    wait_for(lambda: relay.health.online, "the board back online")
    time.sleep(0.3)
    sent = board.pending(wait=0.3)
    assert lcus_frame(1, True) not in sent, (
        f"the barrier was raised by a pulse the guard was told had failed (lane.open_failed): "
        f"sent to the board {sent.hex(' ')}"
    )
    assert sent == lcus_frame(1, False), sent.hex(" ")


def test_a_failed_pulse_is_over_but_a_failed_hold_is_still_wanted() -> None:
    """PulseControl, under every driver whose write raises: a pulse whose "on" failed is not wanted
    any more (nothing to re-send), a hold whose "on" failed is (re-sent to the board once back, as
    before; the caller releases it), and a pulse that fails while held leaves the hold."""
    calls: list[bool] = []

    def unplugged(on: bool) -> None:
        calls.append(on)
        raise PortError("ttyUSB-relay disappeared (unplugged?): check the cable")

    control = PulseControl(unplugged, health("exit-barrier", "relay", "car-out"))
    try:
        with pytest.raises(PortError):
            control.pulse(5.0)
        assert not control.wanted
        with pytest.raises(PortError):
            control.hold()
        assert control.wanted
        with pytest.raises(PortError):
            control.pulse(5.0)
        assert control.wanted
        assert calls == [True, True, True]
    finally:
        control.close()
