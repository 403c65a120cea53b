"""Which lanes have a car on a loop now (LaneInputs tells it, BarrierWatch keeps it), so that a
guard's release (取消常开) of a held lane does not drop the arm onto the car under it: the release
waits for the lane's loops to clear (hand_holds.py). A barrier controller with no anti-smash loop
or radar of its own wired in brings the arm down on whatever is there."""

from __future__ import annotations

import threading

# How long a release waits for a car on the loop to leave before it lets the barrier down all the
# same: a loop still on past it is stuck (a welded relay, a metal plate over the loop: the camera's
# LOOP_STUCK, drivers/cameras/capture.py, says so after a minute), and a lane kept up for ever by it
# would let every car in unseen.
RELEASE_WAITS_FOR_CAR_S = 180.0


class LoopsOn:
    """Per lane, whether any of its loop detectors sees a car (a loop whose module went offline no
    longer counts: LaneInputs.device_offline)."""

    def __init__(self) -> None:
        self._on: set[str] = set()
        self._changed = threading.Condition()
        self._stopped = False

    def now(self, lane: str, car: bool) -> None:
        with self._changed:
            (self._on.add if car else self._on.discard)(lane)
            self._changed.notify_all()

    def car_on(self, lane: str) -> bool:
        with self._changed:
            return lane in self._on

    def wait_clear(self, lane: str, timeout_s: float) -> bool | None:
        """Block until no loop of the lane sees a car: True once clear, False if still on after
        `timeout_s` (a loop stuck on), None if the gateway stops meanwhile."""
        with self._changed:
            self._changed.wait_for(lambda: self._stopped or lane not in self._on, timeout_s)
            if self._stopped:
                return None
            return lane not in self._on

    def stop(self) -> None:
        """Releases still waiting for a car give up: the gateway is stopping."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
