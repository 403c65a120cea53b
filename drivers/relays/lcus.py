"""LCUS USB relay boards (CH340 serial, 9600 8N1): 4-byte command frames.

Frame: A0, channel (1-8), state (1 on, 0 off), checksum (sum of the first three bytes, mod 256).
Relay 1 on is A0 01 01 A2, off is A0 01 00 A1. The boards send nothing back.

A board's channels may serve different lanes (an entrance and an exit barrier on one LCUS-2): an
LcusBoard opens the port once, and each channel's LcusRelay writes through it.

Pulses, holds and releases are written on the board's own thread (WrittenLater), their outcomes
told later, as a Modbus bus does: a board that stops taking data (its CH340 wedged, its line
flow-stopped) holds a write for the port's write timeout, and on the decision worker that held up
every other lane at every car let in at its lane (Review 64D). The pulse's "off" is written by its
relay's timer (PulseControl), as before.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from drivers.health import DeviceHealth
from drivers.relays.control import PulseControl
from drivers.serialport import WRITE_TIMEOUT_S, PortError, SerialLink

log = logging.getLogger(__name__)

# A pulse or hold not begun this long after it was asked (the board's thread busy with writes that
# time out) is not written: told not taken, it is over, and never opens a barrier late, after the
# guard was told it did not. Long enough for one timed-out write ahead of it.
BEGIN_WITHIN_S = WRITE_TIMEOUT_S + 0.5
# Added to answer_within_s: the thread's turn, and the writes that go through.
ANSWER_SLACK_S = 0.5


def lcus_frame(channel: int, on: bool) -> bytes:
    head = bytes([0xA0, channel & 0xFF, int(on)])
    return head + bytes([sum(head) & 0xFF])


@dataclass
class _BoardHealth(DeviceHealth):
    """The port's health, told to the device of every channel in use: they share one cable."""

    channels: list[DeviceHealth] = field(default_factory=list)

    def seen(self) -> None:
        super().seen()
        for channel in list(self.channels):
            channel.seen()

    def set_online(self) -> None:
        super().set_online()
        for channel in list(self.channels):
            channel.set_online()

    def set_offline(self, error: str) -> None:
        super().set_offline(error)
        for channel in list(self.channels):
            channel.set_offline(error)


class LcusBoard:
    """One board on one port; the port opens with its first relay and closes with its last. Its
    relays' pulses, holds and releases are written on its thread, one after another (later)."""

    def __init__(self, port: str, baudrate: int = 9600, reconnect_max_s: float = 2.0):
        # Not logged: each channel's device says it (a line of "device=lcus:/dev/... lane=" named a
        # device that is in no config).
        self.health = _BoardHealth(device=f"lcus:{port}", kind="relay", lane="", driver="lcus", logged=False)
        # Every channel's pulses, holds, releases and resends take turns under it (PulseControl.rewrite).
        self.lock = threading.RLock()
        self._relays: list[LcusRelay] = []
        self._link = SerialLink(
            self.health, port, baudrate, reconnect_max_s=reconnect_max_s, on_open=self._resend
        )
        self._jobs: deque[Callable[[], None]] = deque()
        self._jobs_ready = threading.Condition()
        self._stopping = False
        # Not named link-...: that is the link's own thread (SerialLink._watch).
        self._thread = threading.Thread(target=self._run, name=f"lcus-{port}", daemon=True)

    def add(self, relay: LcusRelay) -> None:
        self._relays.append(relay)
        self.health.channels.append(relay.health)
        if len(self._relays) == 1:
            self._thread.start()
            self._link.start()  # opens the port and says what this relay wants
            return
        with contextlib.suppress(PortError):  # the link put every channel offline, and re-sends later
            relay.resend()

    def remove(self, relay: LcusRelay) -> None:
        self._relays.remove(relay)
        self.health.channels.remove(relay.health)
        if not self._relays:
            self._stop()
            self._link.close()

    def write(self, channel: int, on: bool) -> None:
        self._link.write(lcus_frame(channel, on))

    def later(self, job: Callable[[], None]) -> None:
        """Run `job` on the board's thread, after those asked before it; here and now once the
        board has stopped (its relays closed: their jobs write nothing then)."""
        with self._jobs_ready:
            if not self._stopping:
                self._jobs.append(job)
                self._jobs_ready.notify()
                return
        job()

    def _stop(self) -> None:
        with self._jobs_ready:
            self._stopping = True
            self._jobs_ready.notify()
        # The jobs left are done first (closed relays: told not taken); one write under way may
        # wait for the port's write timeout, after reopening it.
        self._thread.join(timeout=2 * WRITE_TIMEOUT_S + 1.0)

    def _run(self) -> None:
        while True:
            with self._jobs_ready:
                while not self._jobs and not self._stopping:
                    self._jobs_ready.wait()
                if not self._jobs:
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # the thread must live on: dead, no barrier on the board moved again
                log.exception("relay write failed device=%s", self.health.device)

    def _resend(self) -> None:
        # After a replug the board starts with its relays off; say what each wants (released: off).
        for relay in list(self._relays):
            relay.resend()


class LcusRelay:
    """One channel of a board, written later (WrittenLater): pulse(), hold() and release() return
    at once and never raise; whether the board took each is known once its thread wrote it
    (pulse_written, hold_written, release_written), within answer_within_s."""

    def __init__(self, health: DeviceHealth, board: LcusBoard, channel: int = 1):
        self.health = health
        self._board = board
        self._channel = channel
        self._closed = False
        # What the channel was last written, as the board took it; None while not known (a write
        # failed: the board may have taken it or not).
        self._sent: bool | None = None
        self._offs: list[Future[bool]] = []  # releases not taken, till "off" is written (off_written)
        self._offs_lock = threading.Lock()
        self._control = PulseControl(self._write, health, lock=board.lock)
        board.add(self)

    @property
    def answer_within_s(self) -> float:
        """A pulse begins within BEGIN_WITHIN_S (else it is not written); then the port may be
        reopened and the channels' state sent again, and its own write made, each of which may wait
        for the write timeout."""
        return BEGIN_WITHIN_S + 2 * WRITE_TIMEOUT_S + ANSWER_SLACK_S

    def pulse(self, seconds: float, ref: str = "") -> None:
        self.pulse_written(seconds, ref)

    def pulse_written(self, seconds: float, ref: str = "") -> Future[bool]:
        """pulse(), and whether the board took it: True once its "on" went through (during a
        pulse or a hold: the channel on as written, the board there); False once the write failed
        (the pulse is over: PulseControl._pulse_on), or it waited its turn longer than
        BEGIN_WITHIN_S (not written: the board's thread was busy with writes that time out)."""
        return self._written(lambda: self._control.pulse(seconds), self._on_as_written)

    def hold_written(self) -> Future[bool]:
        """hold(), and whether the board took it, as pulse_written's. Not taken after its write
        failed, the hold is still wanted (sent when the board is back): the caller releases it."""
        return self._written(self._control.hold, self._on_as_written)

    def release_written(self) -> Future[bool]:
        """release(), and whether the board took it: True once its "off" went through (or the
        channel was off as written). Never too late to be written: a release not taken is still
        wanted, and written once the board is back (off_written)."""
        return self._written(self._control.release, lambda: self._sent is False, late_too=True)

    def off_written(self) -> Future[bool]:
        """After a release not taken: True once "off" went through (the board taking data again,
        sent its state), whenever that is; False if the relay is closed first."""
        outcome: Future[bool] = Future()
        with self._offs_lock:
            if not self._closed and self._sent is not False:
                self._offs.append(outcome)
                return outcome
        outcome.set_result(not self._closed)
        return outcome

    def hold(self) -> None:
        self.hold_written()

    def release(self) -> None:
        self.release_written()

    def close(self) -> None:
        with self._board.lock, self._offs_lock:
            self._closed = True  # a pulse, hold or release still waiting its turn writes nothing
        self._control.close()  # "off" written if the relay was on
        with self._offs_lock:
            offs, self._offs = self._offs, []
            off = self._sent is False
        _settle(offs, off)
        self._board.remove(self)

    def resend(self) -> None:
        self._control.rewrite()

    def _on_as_written(self) -> bool:
        return self._sent is True and self.health.online

    def _written(
        self, act: Callable[[], None], took: Callable[[], bool], late_too: bool = False
    ) -> Future[bool]:
        """Do `act` on the board's thread, in turn with the board's other writes; its outcome,
        `took()` once it wrote without raising."""
        outcome: Future[bool] = Future()
        asked = time.monotonic()

        def job() -> None:
            done = False
            try:
                with self._board.lock:
                    waited = time.monotonic() - asked
                    if self._closed:
                        pass
                    elif waited > BEGIN_WITHIN_S and not late_too:
                        self.health.count("too_late")
                        log.debug(
                            "relay write not begun after %.1f s device=%s: not written",
                            waited,
                            self.health.device,
                        )
                    else:
                        act()
                        done = took()
            except PortError:
                pass  # the link put the board offline, saying why
            finally:
                outcome.set_result(done)

        self._board.later(job)
        return outcome

    def _write(self, on: bool) -> None:
        self._sent = None  # until the board took it
        self._board.write(self._channel, on)
        with self._offs_lock:
            self._sent = on
            offs, self._offs = (self._offs, []) if not on else ([], self._offs)
        if offs:  # on the board's thread: the callbacks run outside the board's lock
            self._board.later(lambda: _settle(offs, True))


def _settle(outcomes: list[Future[bool]], value: bool) -> None:
    for outcome in outcomes:
        outcome.set_result(value)
