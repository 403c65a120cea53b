"""A loop whose Modbus module was silent for over a minute, found on as it answers again: it is on
from that moment (OpenCvCamera.loop_still_on), not from the trigger of the car it fired for before
the blip. Found by review 51a of 1fe61f1."""

from __future__ import annotations

from drivers.cameras.capture import TRIGGER_RETRY_FOR_S
from drivers.health import DeviceHealth
from drivers.relays.modbus import ModbusModule, input_map
from tests.drivers.test_loop_stuck_fix48b import B as Y
from tests.drivers.test_loop_stuck_fix48b import X, at, lane_inputs, trigger_lane  # noqa: F401
from tests.drivers.test_modbus_fix49_loop_back import _Bus, _Client
from tests.lane_helpers import Lane

LOOP = "car-out-loop"
BACK = 80.0  # the module answers again


def _silent_from_5_to_80_s(lane: Lane) -> None:
    """X is read on the exit loop; its Modbus module is silent for 75 s (cable loose) while X leaves
    and Y drives on at 70 s; back at 80 s with the loop on, Y on it."""
    inputs = lane_inputs(lane)
    client = _Client()
    health = DeviceHealth(LOOP, "sensor", "car-out", "modbus")
    health.on_change = lambda h, online: None if online else inputs.device_offline(h.lane, h.device)
    module = ModbusModule(_Bus(), health, unit=1, coil=None, inputs=input_map(0, None, None))  # type: ignore[arg-type]
    module.watch(inputs.input_handler("car-out", LOOP))
    at(lane, 0.0)
    client.loop_on = True
    assert module.service(client, poll=True)
    lane.frames(0.0, 5.0, [X], step=0.5)
    client.silent = True
    for t in range(5, int(BACK)):
        at(lane, float(t))
        module.service(client, poll=True)
    lane.frames(5.0, 70.0, [], step=0.5)  # X gone
    lane.frames(70.0, BACK, [Y], step=0.5)  # Y arrives, unseen by the silent module
    client.silent = False
    at(lane, BACK)
    assert module.service(client, poll=True)


def test_a_loop_found_on_after_a_long_blip_is_not_called_stuck(trigger_lane: Lane) -> None:  # noqa: F811
    """Back at 80 s with the loop on, the camera's health at once said 'loop detector on for 1 min
    ... check the loop detector (a stuck relay ...)': the installer was sent to a loop that works."""
    lane = trigger_lane
    _silent_from_5_to_80_s(lane)
    lane.frames(BACK, BACK + 5.0, [Y], step=0.5)
    assert [v for _, v in lane.presented if v == Y], lane.presented
    note = lane.camera.health.last_error
    assert "loop detector on" not in note, (
        f"5 s after the loop's module came back (Y arrived 15 s ago) the camera's health says: {note!r}"
    )


def test_a_loop_found_on_after_a_blip_is_called_stuck_a_minute_after_its_return(
    trigger_lane: Lane,  # noqa: F811
) -> None:
    """Still on a minute after the module's return, it is a loop stuck on, its minutes counted from
    the return: 1 min at 145 s, not 2 (from X's trigger at 0 s)."""
    lane = trigger_lane
    _silent_from_5_to_80_s(lane)
    lane.frames(BACK, BACK + TRIGGER_RETRY_FOR_S - 1.0, [Y], step=0.5)
    assert "loop detector on" not in lane.camera.health.last_error, lane.camera.health.last_error
    lane.frames(BACK + TRIGGER_RETRY_FOR_S - 1.0, BACK + 65.0, [Y], step=0.5)
    note = lane.camera.health.last_error
    assert note.startswith("loop detector on for 1 min:"), note
