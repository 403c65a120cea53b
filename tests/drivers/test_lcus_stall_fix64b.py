"""An LCUS relay board that stops taking data (its CH340 wedged, its line flow-stopped: a write
times out) must not hold up the other lanes (Review 64D fault 1). Its relay was pulsed on the
decision worker, so every car let in at its lane held up a resident at the pedestrian door for the
port's 1 s write timeout, every car: the LED board was fixed for exactly this in Review 56i
(test_display_stall.py); the relay board was not. On a real pty, flow-stopped."""

from __future__ import annotations

import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.relays.control import WrittenLater
from drivers.relays.lcus import LcusBoard, LcusRelay
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import PtyDevice, health, start_gateway, wait_for
from tests.drivers.test_lcus_reopen import last_state
from tests.drivers.test_relays import OFF


def lcus(port: str) -> str:
    return f"""
[[devices]]
id = "car-in-lcus"
lane = "car-in"
kind = "relay"
driver = "lcus"
port = "{port}"
channel = 1
"""


class Writes:
    """Every write to the board by a car's pulse (not by the link's own thread, which reopens the
    port now and then): when each began and ended."""

    def __init__(self, board: LcusBoard) -> None:
        self.lock = threading.Lock()
        self.calls: list[list[float]] = []  # [began, ended (0: not yet)]
        real = board.write

        def write(channel: int, on: bool) -> None:
            if threading.current_thread().name.startswith("link-"):
                real(channel, on)
                return
            call = [time.time(), 0.0]
            with self.lock:
                self.calls.append(call)
            try:
                real(channel, on)
            finally:
                call[1] = time.time()

        board.write = write  # type: ignore[method-assign]

    def under_way(self) -> list[list[float]]:
        with self.lock:
            return [call for call in self.calls if not call[1]]


def test_a_wedged_lcus_board_at_the_car_lane_does_not_delay_the_door_at_any_car(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """The car entrance's LCUS board stops taking bytes. A stranger's car is let in there (its
    barrier pulsed: the write waits for its 1 s timeout) and a resident taps his card at the
    pedestrian door while that write is under way: the door opened only once it gave up. The next
    car (the board offline now: its pulse reopens the port and sends the relay's state, another
    second) held up the next resident again. The door must open while the write is still waiting."""
    board = pty_device("ttyUSB-lcus")
    gw = gateways(start_gateway(tmp_path, lcus(board.path)))
    relay = next(r for r in gw.devices.lanes["car-in"].relays if r.health.device == "car-in-lcus")
    wait_for(lambda: relay.health.online, "the LCUS board online")
    assert isinstance(relay, LcusRelay)
    writes = Writes(relay._board)
    door = gw.devices.lanes["door"].relays[0]
    termios.tcflow(board._slave, termios.TCOOFF)  # the board takes no more bytes
    try:
        for car in ["鲁B54321", "鲁B54322"]:
            began = len(writes.calls)
            gw.present(Presented("car-in", "plate", car, 0.99, gw.now(), "cam"))
            wait_for(lambda began=began: writes.calls[began:], f"the pulse for {car} written")  # type: ignore[misc]
            stuck = writes.under_way()
            assert stuck, "the write gave up before the resident came: nothing shown"
            opened = len(door.pulses)  # type: ignore[attr-defined]
            gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
            wait_for(lambda opened=opened: len(door.pulses) > opened, "the door to open")  # type: ignore[attr-defined,misc]
            wait_for(lambda: not writes.under_way(), "the write to the wedged board to give up")
            at_door = door.pulses[opened][0]  # type: ignore[attr-defined]
            gave_up = max(call[1] for call in stuck)
            assert at_door < gave_up, (
                f"after {car}, the resident waited at the door until the write to the car lane's "
                f"LCUS board gave up ({at_door - gave_up:+.2f} s after it)"
            )
            time.sleep(3)  # the next resident comes a while later, not as the same card's repeat
    finally:
        termios.tcflow(board._slave, termios.TCOON)


def test_a_pulse_the_wedged_board_does_not_take_is_over_and_said_so(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """The pulse comes back at once, its outcome later: not taken once the write gave up. The pulse
    is over then: the board, taking data again, is sent "off", never the opening told not taken."""
    board = pty_device("ttyUSB-lcus")
    relay = LcusRelay(health("car-in-lcus", "relay", "car-in"), LcusBoard(board.path, reconnect_max_s=0.2))
    try:
        assert board.read(4) == OFF
        assert isinstance(relay, WrittenLater)
        termios.tcflow(board._slave, termios.TCOOFF)
        try:
            outcome = relay.pulse_written(5.0)
            assert not outcome.done()  # asked, not written yet: the caller goes on
            assert outcome.result(timeout=relay.answer_within_s) is False
            assert not relay.health.online
        finally:
            termios.tcflow(board._slave, termios.TCOON)
        wait_for(lambda: relay.health.online, "the board taking data again")
        assert last_state(board.pending(wait=0.5), 1) is False  # the stuck "on" went out, then "off"
        assert not relay._control.wanted
    finally:
        relay.close()
