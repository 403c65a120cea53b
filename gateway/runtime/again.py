"""The same car decided again at a lane while it is still there (it stood at the barrier, or reached
the loop from a queue): one more look at the same car, not a new arrival.

A lane's plate reader knows which plates it decided again (StandingPlates); the gateway remembers the
last decision it recorded for each plate at each lane, so that such a car is taken for what it was
let through as (gateway.core.decide, Presented.again).
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gateway.core import Billing, Decision, Reason
from gateway.events import AccessEvent
from gateway.runtime.devices import Devices

# Plates remembered with their last decision at each lane, for a car decided again while it is still
# there; the lane voter forgets a car as soon as it has gone, so this covers every car in the lanes.
REMEMBER_DECIDED = 4096


@runtime_checkable
class StandingPlates(Protocol):
    """A lane's plate reader (gateway/runtime/plate_reading.py): knows a car that stayed."""

    def decided_again(self, text: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Decided:
    """The last decision recorded for a plate at a lane, and the plate it was taken for."""

    decision: Decision
    value: str  # a look-alike match's registered plate, else the plate as read
    seq: int  # which of two was decided later


class DecidedAgain:
    """The plates a lane decided again, and the last decision recorded for each plate at each lane.
    In memory only: after a restart the lane voter has forgotten the car too, and decides it afresh.
    remember() and last() run on the decision worker; standing() on any thread (a camera's)."""

    def __init__(self, devices: Devices):
        self._devices = devices
        self._decided: OrderedDict[tuple[str, str], Decided] = OrderedDict()  # (lane, plate read)
        self._seq = itertools.count()

    def standing(self, lane: str, plate: str) -> bool:
        """A plate camera of the lane last decided this plate again: the same car, still there (it
        stood at the barrier, or reached the loop from a queue), not one more arrival."""
        devices = self._devices.lanes.get(lane)
        readers = devices.plate_readers if devices is not None else []
        return any(isinstance(r, StandingPlates) and r.decided_again(plate) for r in readers)

    def last(self, lane: str, read: str) -> Decided | None:
        """The last decision at the lane for the car read as `read`: its own, or a later one for
        the registered plate it was taken for (a look-alike read whose fee the guard took at the
        lane on that plate, the one the tablet shows: the barrier opened for this car)."""
        mine = self._decided.get((lane, read))
        if mine is None or mine.value == read:
            return mine
        typed = self._decided.get((lane, mine.value))
        return typed if typed is not None and typed.seq > mine.seq else mine

    def remember(self, read: str, ev: AccessEvent) -> None:
        """The decision just recorded (or not: storage_failed) for a plate at its lane, for the car
        decided again while it is still there."""
        if ev.kind != "plate":
            return
        billing = Billing(ev.billing) if ev.billing else None
        key = (ev.lane, read)
        decision = Decision(Reason(ev.reason), billing, ev.slot_id)
        self._decided[key] = Decided(decision, ev.value, next(self._seq))
        self._decided.move_to_end(key)
        while len(self._decided) > REMEMBER_DECIDED:
            self._decided.popitem(last=False)
