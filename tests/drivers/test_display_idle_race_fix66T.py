"""Car A let out, greeted 一路平安; car B decided a moment later on a Modbus relay read offline at its
pulse (one poll lost), so its words wait for the pulse's outcome (lane_boards.tell_opening reserves
its ticket). A's idle line falling due, or A's arm coming down, before B's outcome took a newer
ticket: B's 道闸故障 请联系保安 was dropped, and its driver sat at a barrier that never rose reading
一车一杆 减速慢行 (Review N on 5de5571f). Now the idle line is shown only where no ticket was taken
since the greeting. LaneBoards as the gateway wires it (idle line on), a simulated board; the
relay's outcome a Future as a Modbus bus settles it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future

import pytest

import gateway.runtime.lane_boards as lane_boards
from drivers.health import DeviceHealth
from drivers.simulated import SimulatedDisplay
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.lane_boards import LaneBoards, tell_opening

IDLE = ["一车一杆 减速慢行"]
A, B = "苏E12345", "苏E67890"


def _settled(took: bool) -> Future[bool]:
    outcome: Future[bool] = Future()
    outcome.set_result(took)
    return outcome


class Exit:
    def __init__(self, contact: bool) -> None:
        self.led = SimulatedDisplay(DeviceHealth("car-out-led", "display", "car-out", "simulated"))
        devices = Devices({"car-out": LaneDevices(displays=[self.led])}, [])
        self.boards = LaneBoards(devices, lambda lane: IDLE, lambda lane: contact)

    def let_out(self, car: str, outcome: Future[bool], online: bool) -> None:
        fault = ["道闸故障 请联系保安", car]
        tell_opening(self.boards, "car-out", [(outcome, online)], ["一路平安", car], fault, car=car)


@pytest.fixture
def exit_lane(request: pytest.FixtureRequest) -> Iterator[Exit]:
    lane = Exit(contact=request.param)
    lane.boards.start()
    yield lane
    lane.boards.stop()


@pytest.mark.parametrize("exit_lane", [False], indirect=True)
def test_the_idle_line_falling_due_leaves_the_next_cars_fault_to_be_shown(
    exit_lane: Exit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lane_boards, "IDLE_AFTER_S", 0.5)
    exit_lane.let_out(A, _settled(True), online=True)
    b_pulse: Future[bool] = Future()
    exit_lane.let_out(B, b_pulse, online=False)  # read offline: its words wait for the outcome
    time.sleep(1.0)  # A's idle line due meanwhile
    b_pulse.set_result(False)  # the relay did not take B's pulse: its barrier stays down
    assert exit_lane.led.shown[-1] == ["道闸故障 请联系保安", B]


@pytest.mark.parametrize("exit_lane", [True], indirect=True)
def test_the_arm_down_behind_a_leaves_the_next_cars_greeting_to_be_shown(exit_lane: Exit) -> None:
    exit_lane.let_out(A, _settled(True), online=True)
    b_pulse: Future[bool] = Future()
    exit_lane.let_out(B, b_pulse, online=False)
    exit_lane.boards.arm_down("car-out")  # down behind A before B's outcome is known
    b_pulse.set_result(True)
    assert exit_lane.led.shown[-1] == ["一路平安", B]
    exit_lane.boards.arm_down("car-out")  # and behind B: the idle line now
    assert exit_lane.led.shown[-1] == IDLE
