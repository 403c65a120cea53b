"""A barrier that took its pulse but never rose (道闸未抬起): on a lane whose barrier contact is wired,
a pulse counts as taken only once the contact opens within the lane's `rise_within_s` of it.

The relay's answer says only that the relay closed: a barrier controller without power, a jammed
motor or a relay wired to the wrong terminal leaves the arm down all the same, and the car let out
on the relay's word was out on record at a shut arm. Each pulse's outcome (lane_boards.Pulsed) is
chained here: taken and followed by the contact opening in time, taken; else not, and the lane goes
the way of a relay that did not take it (the display's fault, the car put back: tell_opening).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future

# An arm takes 1-6 s to reach its barrier_open limit switch (on only once fully up); a judgment
# made sooner put back a car that drove out under an arm a moment slow (Review 57i: 3 s before).
DEFAULT_RISE_WITHIN_S = 8.0


def _settle(future: Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class ArmRise:
    """Per lane, the pulses waiting for its barrier contact to open. `no_response(lane)` is told,
    on a timer's thread, when one waited in vain (the relay took it: the barrier did not move)."""

    def __init__(
        self,
        rise_within_s: Mapping[str, float],
        no_response: Callable[[str], None],
        default_s: float = DEFAULT_RISE_WITHIN_S,
    ):
        self._within = rise_within_s
        self._default = default_s
        self._no_response = no_response
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[Future[bool], threading.Timer]]] = {}

    def expect(self, lane: str, outcomes: list[Future[bool]]) -> list[Future[bool]]:
        """The pulses just written to the lane's relays (their outcomes), as outcomes that are
        taken only where the relay took the pulse and the lane's contact opened within its
        `rise_within_s` of now. Called before anything else can report the contact opening."""
        rose: Future[bool] = Future()
        timer = threading.Timer(self._within.get(lane, self._default), self._late, (lane, rose))
        timer.daemon = True
        with self._lock:
            self._waiting.setdefault(lane, []).append((rose, timer))
        timer.start()
        told = threading.Event()  # no_response once for the pulses of one decision

        def chain(outcome: Future[bool]) -> Future[bool]:
            chained: Future[bool] = Future()

            def arm_known(r: Future[bool]) -> None:
                if not r.result() and not told.is_set():
                    told.set()
                    self._no_response(lane)
                _settle(chained, r.result())

            def relay_known(done: Future[bool]) -> None:
                if done.result():
                    rose.add_done_callback(arm_known)
                else:  # not taken: the relay's own fault, said as before
                    _settle(chained, False)

            outcome.add_done_callback(relay_known)
            return chained

        return [chain(outcome) for outcome in outcomes]

    def rose(self, lane: str) -> None:
        """The lane's barrier contact opened: every pulse waiting there is taken."""
        with self._lock:
            waiting = self._waiting.pop(lane, [])
        for rose, timer in waiting:
            timer.cancel()
            _settle(rose, True)

    def _late(self, lane: str, rose: Future[bool]) -> None:
        with self._lock:
            waiting = self._waiting.get(lane, [])
            if not any(r is rose for r, _ in waiting):
                return  # it rose meanwhile
            self._waiting[lane] = [w for w in waiting if w[0] is not rose]
        _settle(rose, False)

    def stop(self) -> None:
        """No timer runs after this."""
        with self._lock:
            waiting = [w for ws in self._waiting.values() for w in ws]
            self._waiting.clear()
        for _, timer in waiting:
            timer.cancel()
