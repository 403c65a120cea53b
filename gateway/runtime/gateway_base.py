"""What the Gateway's parts share (Gateway, gateway/runtime/gateway.py): the attributes
Gateway.__init__ sets, declared here so that each part is type-checked, the worker and the clock
they all run by, and the store's facts of a presentation, as the entrance counts the cars leaving.

Apart so that the parts (gateway_inputs.py, gateway_which_car.py, gateway_deciding.py,
gateway_acting.py) import them without importing gateway.py, which imports the parts.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from drivers.cameras.snapshots import SnapshotWriter
from gateway.core import Facts, LaneRules, Presented
from gateway.events import AccessEvent
from gateway.parking.service import ParkingDesk
from gateway.runtime.again import DecidedAgain
from gateway.runtime.cars_leaving import CarsLeaving
from gateway.runtime.devices import Devices
from gateway.runtime.event_clips import EventClips
from gateway.runtime.exit_pulses import ExitPulses
from gateway.runtime.hand_lanes import HandLanes
from gateway.runtime.hand_opens import WaitingRecords
from gateway.runtime.lane_boards import LaneBoards
from gateway.runtime.lanes import LaneInputs
from gateway.runtime.storage_state import StorageState
from gateway.runtime.worker import DecisionWorker
from gateway.site import Site
from gateway.store.card_forms import RegisteredCards
from gateway.store.lookup import lookup

Listener = Callable[[AccessEvent], None]
T = TypeVar("T")


class GatewayBase:
    """The Gateway's shared state (its attributes are set by Gateway.__init__), its worker, its
    clock, and what the store knows of a presentation."""

    site: Site
    data_dir: Path
    conn: sqlite3.Connection
    worker: DecisionWorker
    _waiting: WaitingRecords
    _started: bool
    _changes: threading.Lock
    devices: Devices
    parking: ParkingDesk
    clips: EventClips | None
    _pulse_seconds: dict[str, float]
    lane_io: LaneInputs
    snapshots: SnapshotWriter | None
    _plate_match: dict[str, str]
    lane_modes: dict[str, str]
    latencies_ms: deque[float]
    decisions: int
    storage_failures: int
    storage: StorageState  # whether storage takes writes, as the last write found it
    rejected: int
    _listeners: list[Listener]
    _again: DecidedAgain
    _again_snapshot_at: dict[str, float]  # by lane: when a repeat last kept a snapshot (monotonic)
    _cards: RegisteredCards
    boards: LaneBoards
    _leaving: CarsLeaving
    _exit_pulses: ExitPulses
    by_hand: HandLanes

    @property
    def storage_failing(self) -> bool:
        """The last write failed for storage (a decision's, a task's, a checkpoint's, ...): the
        health is degraded until a write gets through again."""
        return self.storage.failing

    def on_worker(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]:
        """Run `run(connection)` on the decision worker, in turn with decisions (thread-safe)."""
        return self.worker.submit(run)

    def now(self) -> datetime:
        return datetime.now(self.site.tz)

    def _facts(self, p: Presented, lane: LaneRules) -> Facts:
        """What the store knows of `p` (lookup), at an entrance with the cars leaving counted
        inside (stays_leaving)."""
        leaving = self.stays_leaving() if lane.direction == "entrance" else []
        return lookup(self.conn, p, lane, self.site.capacity, leaving)

    def stays_leaving(self) -> list[int]:
        """The stays of the cars let out whose barrier has not confirmed yet (CarsLeaving): each
        car is inside till it does, where a put-back would put it. The entrance's lookup and the
        occupancy figures (store/occupancy.py cars_leaving) count them alike: the guard shown a
        space the entrance refuses as full would open by hand. Any thread."""
        return self._leaving.stays()
