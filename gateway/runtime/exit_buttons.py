"""A door's exit button (出门按钮): someone inside presses it and the door opens for them.

The button is an input of a relay or sensor device at a pedestrian lane (`inputs.exit_button`,
docs/hardware.md *Doors*). Each press is presented to the decision worker as kind "button"
(gateway.core.BUTTON) and decided like a card (core.decide: always let out), so it is on record
as an exit through the door (the access log, the centre's access stream, the daily report's
people out), pulses the lane's lock relays, and tells the door's contact that it was opened on
purpose, from the press on (LaneInputs: a Modbus module reports the button before the door's
contact of the same poll): without the button on an input, everyone leaving by it raised 强行开门
(forced_open).

- A press is the button's input going on. Its state as first reported (at start, or by a module
  back from offline: forget) is no press: a button stuck on, or wired the wrong way round, does not open
  the door again at every start.
- A press while the door is still open from the last one at the lane (within its
  `pulse_seconds`) is the same person leaving: one record and one pulse, not one per press of an
  impatient finger.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class ExitButtons:
    """Per door, its exit buttons' presses, handed to `press(lane, device)` (Gateway.exit_button).
    `open_s`: per lane, how long a pulse keeps its lock open. Time is the monotonic clock's."""

    def __init__(self, press: Callable[[str, str], object], open_s: dict[str, float]):
        self._press = press
        self._open_s = open_s
        self._on: dict[tuple[str, str], bool] = {}  # (lane, device) -> pressed, as last reported
        self._last: dict[str, float] = {}  # lane -> its last press that opened the door
        self._lock = threading.Lock()

    def reported(self, lane: str, device: str, on: bool, now: float | None = None) -> bool:
        """The button's input as `device` reports it; True if this is a press that opens the door."""
        now = time.monotonic() if now is None else now
        with self._lock:
            was = self._on.get((lane, device))
            self._on[(lane, device)] = on
            if not on or was is not False:
                if on:
                    log.info("exit button lane=%s device=%s on as first reported: no press", lane, device)
                return False
            last = self._last.get(lane)
            if last is not None and now - last < self._open_s.get(lane, 0.0):
                log.debug("exit button lane=%s device=%s pressed again while the door is open", lane, device)
                return False
            self._last[lane] = now
        log.info("exit button lane=%s device=%s pressed", lane, device)
        self._press(lane, device)
        return True

    def forget(self, lane: str, device: str) -> None:
        """`device` went offline: its buttons' state is no longer known, and its first report once
        back is as at start (a button stuck in while it was away is no press)."""
        with self._lock:
            self._on.pop((lane, device), None)
