"""A loop whose Modbus module was offline while one car left and the next drove on."""

from __future__ import annotations

from drivers.health import DeviceHealth
from drivers.relays.modbus import ModbusModule, input_map
from tests.drivers.test_loop_stuck_fix48b import B as Y
from tests.drivers.test_loop_stuck_fix48b import X, at, lane_inputs, trigger_lane  # noqa: F401
from tests.drivers.test_modbus_fix49_loop_back import _Bus, _Client
from tests.lane_helpers import Lane

LOOP = "car-out-loop"


def test_a_new_car_on_the_loop_when_its_module_comes_back_is_read(trigger_lane: Lane) -> None:  # noqa: F811
    """X is read on the exit loop; the loop's Modbus module then stops answering for 15 s (its
    RS-485 cable knocked loose), while X drives off and Y drives on. Once the module is back, the
    loop is on with Y on it: Y waits at a closed barrier, unread, until a minute after X's trigger
    (the gateway took it for X still standing there). Y should be read within a few seconds."""
    lane = trigger_lane
    inputs = lane_inputs(lane)
    client = _Client()
    health = DeviceHealth(LOOP, "sensor", "car-out", "modbus")
    health.on_change = lambda h, online: None if online else inputs.device_offline(h.lane, h.device)
    module = ModbusModule(_Bus(), health, unit=1, coil=None, inputs=input_map(0, None, None))  # type: ignore[arg-type]
    module.watch(inputs.input_handler("car-out", LOOP))

    at(lane, 0.0)
    client.loop_on = True  # X drives onto the loop
    assert module.service(client, poll=True)
    lane.frames(0.0, 5.0, [X], step=0.5)
    assert [v for _, v in lane.presented] == [X]
    client.silent = True  # the module stops answering
    for t in range(5, 20):
        at(lane, float(t))
        assert not module.service(client, poll=True)
    lane.frames(5.0, 12.0, [], step=0.5)  # X drives off (its loop goes off, unseen)
    lane.frames(12.0, 20.0, [Y], step=0.5)  # Y drives on and stops at the barrier (loop on, unseen)
    client.silent = False
    at(lane, 20.0)
    assert module.service(client, poll=True)  # back: the loop is on, Y on it
    lane.frames(20.0, 30.0, [Y], step=0.5)
    read_y = [t for t, v in lane.presented if v == Y]
    assert read_y, (
        f"Y, a new car on the loop when its module came back at 20 s, is not read by 30 s "
        f"(taken for X still standing there): {lane.presented}"
    )
