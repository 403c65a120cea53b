"""Pulse, hold and release over one on/off output: the timing every relay driver shares.

A driver supplies `output(on)`; this class decides when to call it. A pulse during a pulse
extends it; a pulse while held changes nothing; release ends both. One timer thread per relay
turns pulses off, so pulse() returns at once. A write that failed is not taken for done: the next
pulse or hold writes "on" again (and raises while the board is away), rather than extending an
opening that never happened. A pulse whose "on" failed is over: the board, when back, is sent
"off", never the opening its caller was told had failed; a hold is kept, and sent it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, runtime_checkable

from drivers.health import DeviceHealth

log = logging.getLogger(__name__)


@runtime_checkable
class WrittenLater(Protocol):
    """A relay written by a thread of its own (a Modbus module: its bus writes the coil; an LCUS
    board: its own thread writes the channel). Its pulse(), hold() and release() return before
    anything reached the relay and never fail, and its health may be a poll's, older than the
    pulse: whether it took a pulse, a hold or a release is known from the write's outcome only."""

    @property
    def answer_within_s(self) -> float:
        """The longest a pulse's outcome may take (the bus busy with another module, then this one
        silent): the outcome is known by then."""

    def pulse_written(self, seconds: float, ref: str = "") -> Future[bool]:
        """pulse(), and its outcome: True once the relay took it, False once it cannot. A pulse
        not taken is over (PulseControl.not_taken): it is never written later on its own."""

    def hold_written(self) -> Future[bool]:
        """hold(), and its outcome, as pulse_written's: True once the relay holds, False once it
        cannot (the hold is still wanted then: release() lets go of it)."""

    def release_written(self) -> Future[bool]:
        """release(), and its outcome: True once the relay is off as written, False once it cannot
        (its adapter unplugged: release() raised nothing, and the barrier held up stays up). Not
        taken, the release is still wanted: written once the relay answers again (off_written)."""

    def off_written(self) -> Future[bool]:
        """After a release not taken: True once the relay answers its output written "off" (the
        adapter plugged back), whenever that is; False only if the relay is closed first."""


class PulseControl:
    def __init__(
        self, output: Callable[[bool], None], health: DeviceHealth, lock: threading.RLock | None = None
    ):
        """`lock`: one shared by the relays of one port (an LCUS board's channels), for rewrite()."""
        self._output = output
        self.health = health
        self._cond = threading.Condition(lock)
        self._on = False
        # The last write failed: the output may not be what _on says. A pulse or hold writes "on"
        # again then, even though "on" is wanted already (a pulse's failed write, still timed).
        self._unwritten = False
        self._held = False
        self._until = 0.0  # monotonic time the current pulse ends
        self._closed = False
        self._thread = threading.Thread(target=self._timer, name=f"relay-{health.device}", daemon=True)
        self._thread.start()

    @property
    def wanted(self) -> bool:
        """What the output should be now (a driver re-sends it after reconnecting)."""
        return self._on

    def rewrite(self) -> None:
        """Write what is wanted again (a board plugged back starts with its relays off), in turn
        with pulse, hold and release. Read outside their lock, a hold between the read and the
        write was undone: its "on" went out first, the stale "off" after it, and the barrier came
        down while the lane said it was held open.

        The port's reopen calls this for every relay on it, from a write of one of them that found
        the port back (holding that relay's lock and the port's) or from the port's own thread. So
        relays that share a port share one lock: with one each, the reopen waited for a second
        relay's lock while that relay, ending a pulse, waited for the port, and both stopped for
        good. A pulse waits no longer than before: it waited for the port's lock for these writes."""
        with self._cond:
            self._output(self._on)

    def pulse(self, seconds: float) -> None:
        with self._cond:
            self._until = max(self._until, time.monotonic() + seconds)
            self.health.count("pulses")
            self._cond.notify()
            if not self._on or self._unwritten:
                self._pulse_on()

    def hold(self) -> None:
        with self._cond:
            self._held = True
            self.health.count("holds")
            if not self._on or self._unwritten:
                self._set(True)

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._until = 0.0
            self._cond.notify()
            if self._on:
                self._set(False)

    def not_taken(self) -> None:
        """The pulses asked for were judged not taken (a WrittenLater driver's write went
        unanswered, or its bus is down): they are over now. Left wanted, the driver's next write of
        what is wanted (after a reconnect or a failed write) would open a door that everyone was
        told stayed shut. A hold is left as it is: the caller that asked for it lets go. Nothing is
        written here: such a driver writes `wanted` itself once its relay answers again."""
        with self._cond:
            self._until = 0.0
            self._cond.notify()
            if not self._held:
                self._on = False

    def _pulse_on(self) -> None:
        """Write a pulse's "on": wanted once written. If the write raises, the pulse has failed (the
        guard is told: lane.open_failed, 道闸未响应) and is over, never wanted: wanted first, a board
        back within the pulse was sent it (LcusBoard._resend) and the barrier rose for an opening
        everyone was told did not happen. The board is sent "off" then (its bytes may have reached
        it). A hold is wanted first, as _set does: kept, and sent to the board once back."""
        if self._held:
            self._set(True)
            return
        self._unwritten = True  # the output may be "on" if the write fails
        try:
            self._output(True)
        except Exception:
            self._on, self._until = False, 0.0  # over: a later pulse is not made longer by it
            raise
        self._on, self._unwritten = True, False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._held = False
            self._until = 0.0
            self._cond.notify()
        self._thread.join(timeout=2)
        with self._cond:  # after a rewrite of "on" in progress, not before it
            if self._on:
                try:
                    self._set(False)
                except Exception as exc:  # closing down: nothing to tell but the log
                    log.warning("relay not released on close device=%s error=%s", self.health.device, exc)

    def _set(self, on: bool) -> None:
        # The state changes first: if the write fails, a reconnect re-sends what is wanted, a hold
        # or "off" (a pulse's "on" is wanted only once written: _pulse_on).
        # Until the write returns it is not done: if it raises, the next pulse tries again and
        # raises while the board is away (taken for on, it wrote nothing, raised nothing, and a
        # second walker was greeted at a door that stayed locked).
        self._on, self._unwritten = on, True
        self._output(on)
        self._unwritten = False

    def _timer(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._on or self._held or self._until == 0.0:
                    self._cond.wait()
                    continue
                left = self._until - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self._until = 0.0
                try:
                    self._set(False)
                except Exception as exc:
                    # The port is gone; the driver re-sends "off" when it comes back.
                    self.health.set_offline(f"release failed: {exc}")
