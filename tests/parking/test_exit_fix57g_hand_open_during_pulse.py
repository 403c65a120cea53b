"""Review 57g: the guard's 开闸 (or 常开, or the centre's open_lane) while the exit decision's own pulse
still waits on a Modbus module (it answers up to a second later, on its bus's thread).

The camera lets the car out (its stay closed, the relay pulsed). The arm does not move; the guard
presses 开闸 at once, and that pulse is taken: the arm rises and the car drives out. Then the module
answers the decision's pulse: not taken. The opening found no car held at the barrier (the car was
let out already), so judged by the decision's pulses alone the car was put back on its stay
(道闸故障): counted inside for good, the centre told `stay reopened`, and back next week it was
'already inside' and billed for the days it was gone. The opening is a pulse of that passage."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import datetime

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, RelayWrittenLater
from tests.parking.test_exit_fix49_put_back_late_relay import OUT_AT, Exit, S
from tests.parking.test_report_figures import Clock, serving


class HeldLater(RelayWrittenLater):
    """A Modbus module that answers holds later too."""

    def __init__(self, relay: RelayWrittenLater) -> None:
        super().__init__(relay)
        self.holds: list[Future[bool]] = []

    def hold_written(self) -> Future[bool]:
        self.holds.append(Future())
        return self.holds[-1]


@pytest.fixture
def exit_lane(make_gw: Callable[..., Gateway]) -> Iterator[Exit]:
    gw = make_gw(extra=EXIT_RELAY)
    clock = Clock(T0)
    with serving(gw, clock) as (client, auth):
        yield Exit(gw, clock, client, auth)


def _let_out(exit_lane: Exit) -> None:
    assert exit_lane.look("car-in", T0).admitted
    assert exit_lane.look("car-out", OUT_AT).admitted  # its pulse (0) waits on the module
    assert len(exit_lane.relay.outcomes) == 1


class Pressed:
    """The guard's button (`action`: open, hold) pressed at `at` on the live page, the page waiting
    for the module's answer to the write it sends (`waiting` grows by one); `status`, its answer."""

    def __init__(self, exit_lane: Exit, action: str, at: datetime, waiting: list[Future[bool]]) -> None:
        self.status: list[int] = []
        before = len(waiting)
        exit_lane.clock.at = at
        self._guard = threading.Thread(target=self._press, args=(exit_lane, action))
        self._guard.start()
        for _ in range(250):
            if len(waiting) > before:
                return
            threading.Event().wait(0.02)
        raise AssertionError(f"the {action} by hand never reached the relay")

    def _press(self, exit_lane: Exit, action: str) -> None:
        url = f"/api/lanes/car-out/{action}"
        r = exit_lane.client.post(url, headers=exit_lane.auth, json={"reason": "放车"})
        self.status.append(r.status_code)

    def answered(self) -> int:
        self._guard.join(15)
        return self.status[0]


def _reopened(exit_lane: Exit) -> list[str]:
    return [p for p in exit_lane.sent("stay") if '"reopened"' in p]


def test_car_out_on_the_guards_opening_taken_before_the_exits_pulse_is_answered(exit_lane: Exit) -> None:
    _let_out(exit_lane)
    guard = Pressed(exit_lane, "open", OUT_AT + 2 * S, exit_lane.relay.outcomes)
    exit_lane.answer(1, True)  # the guard's pulse taken: the arm rises
    assert guard.answered() == 200
    exit_lane.answer(0, False)  # then the decision's: not taken
    still = exit_lane.open_stays()
    assert still == 0, f"the car drove out on the guard's opening, yet {still} open stay(s)"
    assert _reopened(exit_lane) == []


def test_car_out_on_the_guards_opening_answered_after_the_exits_pulse(exit_lane: Exit) -> None:
    """The module answers in the order written: the decision's pulse (not taken) first, while the
    guard's waits behind it on the bus; then the guard's, taken."""
    _let_out(exit_lane)
    guard = Pressed(exit_lane, "open", OUT_AT + 2 * S, exit_lane.relay.outcomes)
    exit_lane.answer(0, False)
    assert exit_lane.open_stays() == 0  # the guard's pulse may yet raise the arm
    exit_lane.answer(1, True)
    assert guard.answered() == 200
    assert exit_lane.open_stays() == 0
    assert _reopened(exit_lane) == []


def test_neither_the_exits_pulse_nor_the_guards_taken_puts_the_car_back_once(exit_lane: Exit) -> None:
    _let_out(exit_lane)
    guard = Pressed(exit_lane, "open", OUT_AT + 2 * S, exit_lane.relay.outcomes)
    exit_lane.answer(1, False)
    assert guard.answered() == 500  # relay_failed: the guard is told the barrier did not open
    assert exit_lane.open_stays() == 0  # the decision's pulse may yet raise the arm
    exit_lane.answer(0, False)
    assert exit_lane.open_stays() == 1  # nothing rose: the car is still inside (道闸故障)
    assert len(_reopened(exit_lane)) == 1


def test_car_out_on_a_hold_made_while_the_exits_pulse_waited(exit_lane: Exit) -> None:
    relay = HeldLater(exit_lane.relay)
    exit_lane.lane.relays[0] = exit_lane.relay = relay
    _let_out(exit_lane)
    guard = Pressed(exit_lane, "hold", OUT_AT + 2 * S, relay.holds)
    threading.Thread(target=relay.holds[0].set_result, args=(True,)).start()  # 常开: the arm up
    assert guard.answered() == 200
    exit_lane.answer(0, False)
    assert exit_lane.open_stays() == 0
    assert _reopened(exit_lane) == []
