"""A lane's relays pulsed, and its displays (and voice) told what came of it: after a decision
(Gateway._act) and after an opening by hand (HandLanes).

Most relays know at once whether they took a pulse: the write raised, or the board is offline after
it. A Modbus module's bus writes the coil on its own thread (WrittenLater), and the module's health
is its last request's, older than the pulse: a lost poll, or a module not polled yet as the gateway
starts, reads offline while the barrier rises, and a module that lost its supply since reads online
while it stays down. Its pulse's outcome, settled later, decides instead (tell_opening).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future

from drivers.base import Display, Relay
from drivers.relays.control import WrittenLater
from gateway.runtime.devices import Devices

# A relay's pulse: its outcome (settled now, or later by a relay written later), and whether the
# relay was believed online when pulsed.
Pulsed = tuple[Future[bool], bool]


def pulse(relay: Relay, seconds: float, ref: str) -> Pulsed:
    """Pulse a relay (it may raise: not taken, the caller says why)."""
    online = relay.health.online
    if isinstance(relay, WrittenLater):
        return relay.pulse_written(seconds, ref), online
    relay.pulse(seconds, ref)
    # Offline after a pulse that did not raise: a driver that found its board gone on the way.
    taken: Future[bool] = Future()
    taken.set_result(relay.health.online)
    return taken, online


def taken(relay: Relay, seconds: float, ref: str) -> bool:
    """Pulse a relay and wait for its outcome (an opening by hand: the guard is told whether it
    opened). One not known within the relay's own answer time counts as not taken."""
    outcome, _ = pulse(relay, seconds, ref)
    wait = relay.answer_within_s if isinstance(relay, WrittenLater) else 0.0
    try:
        return outcome.result(timeout=wait)
    except TimeoutError:
        return False


def show_on(displays: Iterable[Display], lines: list[str]) -> None:
    """Show the lines on a lane's displays (and voice); one that fails is marked offline, the rest
    go on."""
    for display in displays:
        try:
            display.show(lines)
        except Exception as exc:
            display.health.set_offline(f"show failed: {exc}")


class LaneBoards:
    """Every lane's displays, and how many times each was told something: lines known later (a
    Modbus pulse's outcome, settled on its bus's thread) are shown only if nothing was shown on the
    lane since, so the fault of the car before never replaces what the car now at the barrier is
    told. Displays return at once (a serial board writes on its own thread): shown under the lock,
    in the order counted."""

    def __init__(self, devices: Devices):
        self._devices = devices
        self._lock = threading.Lock()
        self._told: dict[str, int] = {}

    def show(self, lane: str, lines: list[str]) -> int:
        """Show the lines on the lane's displays; the count that names this showing."""
        with self._lock:
            return self._show(lane, lines)

    def last(self, lane: str) -> int:
        with self._lock:
            return self._told.get(lane, 0)

    def show_if_last(self, lane: str, told: int, lines: list[str]) -> None:
        """Show the lines if the lane was told nothing since `told`."""
        with self._lock:
            if self._told.get(lane, 0) == told:
                self._show(lane, lines)

    def _show(self, lane: str, lines: list[str]) -> int:
        told = self._told[lane] = self._told.get(lane, 0) + 1
        show_on(self._devices.lanes[lane].displays, lines)
        return told


def tell_opening(
    boards: LaneBoards, lane: str, pulses: list[Pulsed], opened: list[str], fault: list[str]
) -> None:
    """After a lane's relays were pulsed: `opened` (the greeting) if any took its pulse, `fault`
    (道闸故障 请联系保安) if none did. Outcomes to come: with a relay believed online, the greeting
    is shown at once (the decision is not held for the bus) and replaced by the fault if none
    takes it; with none believed online (one poll lost to noise, a module not polled yet), the
    board waits for the outcome, a fraction of a second, rather than send a driver whose barrier
    is rising to the guard (the voice cannot take it back)."""
    if any(outcome.done() and outcome.result() for outcome, _ in pulses):
        boards.show(lane, opened)
        return
    waiting = [(outcome, online) for outcome, online in pulses if not outcome.done()]
    if not waiting:
        boards.show(lane, fault)
        return
    if any(online for _, online in waiting):
        told = boards.show(lane, opened)
        _when_known(
            [outcome for outcome, _ in waiting],
            lambda took: None if took else boards.show_if_last(lane, told, fault),
        )
        return
    told = boards.last(lane)
    _when_known(
        [outcome for outcome, _ in waiting],
        lambda took: boards.show_if_last(lane, told, opened if took else fault),
    )


def _when_known(outcomes: list[Future[bool]], then: Callable[[bool], None]) -> None:
    """then(True) as soon as one outcome is taken, or then(False) once every one is not: once."""
    lock = threading.Lock()
    left = [len(outcomes)]

    def settled(outcome: Future[bool]) -> None:
        took = outcome.result()
        with lock:
            if left[0] == 0:
                return  # told already
            left[0] = 0 if took else left[0] - 1
            if left[0]:
                return
        then(took)

    for outcome in outcomes:
        outcome.add_done_callback(settled)
