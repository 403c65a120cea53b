"""A loop detector on a Modbus module that times out once while its loop is stuck on."""

from __future__ import annotations

import pytest
from pymodbus.exceptions import ModbusIOException

from drivers.health import DeviceHealth
from drivers.relays.modbus import ModbusModule, input_map
from tests.drivers.test_loop_stuck_fix48b import A, B, at, lane_inputs, trigger_lane  # noqa: F401
from tests.lane_helpers import Lane

LOOP = "car-out-loop"


class _Reply:
    def __init__(self, function_code: int, bits: list[bool]):
        self.function_code = function_code
        self.bits = bits

    def isError(self) -> bool:  # noqa: N802 - pymodbus's name
        return False


class _Client:
    """The module's side of the bus: its loop input, or no answer at all."""

    def __init__(self) -> None:
        self.loop_on = False
        self.silent = False

    def read_discrete_inputs(self, first: int, count: int, device_id: int) -> _Reply:
        if self.silent:
            raise ModbusIOException("No response received after 0 retries")
        return _Reply(2, [self.loop_on] + [False] * 15)


class _Bus:
    port = "/dev/serial/by-id/usb-FTDI_USB-RS485"
    down = False
    timeout_s = 0.3

    def add(self, module: ModbusModule) -> None:
        pass

    def start(self) -> None:
        pass

    def poke(self) -> None:
        pass


@pytest.mark.parametrize("lost", ["one poll unanswered", "the bus's adapter replugged"])
def test_a_modbus_loop_stuck_on_across_one_lost_poll_still_has_the_cars_behind_read(
    trigger_lane: Lane,  # noqa: F811
    lost: str,
) -> None:
    """A loop stuck on (welded relay) on a Modbus module that misses one poll (or whose bus's adapter
    is replugged): the trigger-mode camera stopped reading for good and car B behind it was never
    read (docs/hardware.md: a loop module gone offline 'no longer counts as on ... its first report
    once back counts again', and a loop stuck on is read once a second). The module's first poll
    once back reports the loop on."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    client = _Client()
    health = DeviceHealth(LOOP, "sensor", "car-out", "modbus")

    def changed(h: DeviceHealth, online: bool) -> None:  # what Gateway._device_changed does
        if not online:
            inputs.device_offline(h.lane, h.device)

    health.on_change = changed
    module = ModbusModule(_Bus(), health, unit=1, coil=None, inputs=input_map(0, None, None))  # type: ignore[arg-type]
    module.watch(inputs.input_handler("car-out", LOOP))

    at(lane, 0.0)
    client.loop_on = True  # A drives onto the loop, and the loop's relay welds: on for good
    assert module.service(client, poll=True)
    lane.frames(0.0, 3.0, [A])
    at(lane, 5.0)
    if lost == "one poll unanswered":
        client.silent = True  # one poll lost to noise: the module shows offline
        assert not module.service(client, poll=True)
        client.silent = False
    else:
        module.disconnected("/dev/ttyUSB-rs485 was unplugged and plugged back")  # what ModbusBus._lost does
        module.connected()
    assert not health.online
    at(lane, 6.0)  # it answers again: its loop still on
    assert module.service(client, poll=True)
    assert health.online
    lane.frames(6.0, 80.0, [], step=0.5)
    lane.frames(80.0, 100.0, [B], step=0.5)  # B drives up behind the stuck loop
    assert B in [v for _, v in lane.presented], (
        f"car B behind a loop stuck on was never read after its module missed one poll: {lane.presented}"
    )
    assert "loop detector on for" in lane.camera.health.last_error
