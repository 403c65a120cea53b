"""A queue at a barrier whose front car is refused or held to pay: the cars behind it wait.

The camera reads the car queued behind as soon as its plate is in view. While the car in front is
refused (held to pay, the zone full, blocked) and still stands at the barrier, opening for the car
behind would let the car in front through unpaid or refused, and record the car behind as through
while it has not moved. So a plate read at a vehicle lane is not decided while a car refused there
before it is still in that lane's camera's view; the camera decides it afresh once that car has gone
(or the loop says a car arrived), and by then the car behind is the one at the barrier.
"""

from __future__ import annotations

import itertools
import logging
from typing import Protocol, runtime_checkable

from gateway.events import AccessEvent
from gateway.runtime.devices import Devices

log = logging.getLogger(__name__)


@runtime_checkable
class QueueView(Protocol):
    """A lane's plate reader (gateway/runtime/plate_reading.py): which cars are in its lane."""

    def in_lane(self, text: str) -> bool: ...

    def wait_behind(self, text: str, front: str) -> None: ...


class BarrierQueue:
    """The plates refused at each lane, in the order they were first refused, while a camera of the
    lane still sees them. note() and in_front() run on the decision worker; sees() on any thread."""

    def __init__(self, devices: Devices):
        self._devices = devices
        self._refused: dict[str, dict[str, int]] = {}  # lane -> plate -> when first refused (order)
        self._seq = itertools.count()

    def note(self, read: str, ev: AccessEvent) -> None:
        """A plate decision recorded at its lane: refused, it stands in front of the cars read after
        it for as long as it is in view; let through, it no longer holds anyone up."""
        if ev.kind != "plate":
            return
        refused = self._refused.setdefault(ev.lane, {})
        if ev.admitted:
            refused.pop(read, None)
            refused.pop(ev.value, None)
        else:
            refused.setdefault(read, next(self._seq))

    def in_front(self, lane: str, plate: str) -> str | None:
        """The plate of a car refused at the lane before `plate` was, that the lane's camera still
        sees: the car at the barrier, which `plate` is queued behind. Cars gone from view are
        forgotten (back in the lane, they are decided, and refused, anew)."""
        refused = self._refused.get(lane)
        if not refused:
            return None
        for front in [f for f in refused if not self.sees(lane, f)]:
            del refused[front]
        mine = refused.get(plate)
        return next((f for f, at in refused.items() if f != plate and (mine is None or at < mine)), None)

    def sees(self, lane: str, plate: str) -> bool:
        """Whether a plate camera of the lane still has `plate` in its lane."""
        return any(reader.in_lane(plate) for reader in self._views(lane))

    def wait(self, lane: str, plate: str, front: str) -> None:
        """Tell the lane's cameras that `plate` was not decided: it waits behind `front`."""
        log.info("plate %s waits behind %s, refused at lane %s: not decided yet", plate, front, lane)
        for reader in self._views(lane):
            reader.wait_behind(plate, front)

    def _views(self, lane: str) -> list[QueueView]:
        devices = self._devices.lanes.get(lane)
        readers = devices.plate_readers if devices is not None else []
        return [r for r in readers if isinstance(r, QueueView)]
