"""What the operations thread's parts share (Operations, gateway/parking/operations.py): the worker
they write through, the records a full disk still holds back, the timings more than one part counts
by, and the attributes Operations.__init__ sets, declared here so that each part is type-checked.

Apart so that the parts (operations_reports.py, operations_patrols.py, operations_repairs.py,
operations_retention.py) import them without importing operations.py, which imports the parts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from gateway.config.models import SiteConfig
from gateway.parking import retention as plan
from gateway.parking.boot_clock import BootClock
from gateway.parking.patrol import RouteSpec
from gateway.site import Site
from gateway.store.database import open_read_only

T = TypeVar("T")
Worker = Callable[[Callable[[sqlite3.Connection], T]], T]

TICK_S = 30.0
BACKFILL_DAYS = 7  # reports missed while the gateway was off are built for up to a week back


# A round whose deadline passed this long before the gateway started is still judged: the box was
# off for a restart, not an outage, and the round was open (and maybe walked) while it was up.
RESTART_GRACE = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Unwritten:
    """What the records a full disk keeps in memory (runtime/hand_opens.py, kept_records.held_back)
    still hold back from the database once a look's turn on the decision worker has written what
    it could: patrol taps, and the devices whose alarms wait (`every_device`: the start's settling
    waits), the oldest of those since `since`. Judged on the rows without them, a round walked on
    time was late or missed for good, and a device repaired on time overdue."""

    patrol_taps: int = 0
    devices: frozenset[str] = frozenset()
    every_device: bool = False
    since: datetime | None = None

    def holds(self, device: str) -> bool:
        return self.every_device or device in self.devices


def _none_written(_: sqlite3.Connection) -> Unwritten:
    return Unwritten()


class Checkpoints(Protocol):
    """The WAL's checkpoints (runtime/worker.py Checkpointer): a long write's steps give them a turn."""

    def turn(self, *, empty: bool = False) -> None: ...


class OperationsBase:
    """Operations' shared state (its attributes are set by Operations.__init__) and its read-only
    connection."""

    site: Site
    cfg: SiteConfig
    db_path: Path
    data_dir: Path
    snapshots_dir: Path
    routes: tuple[RouteSpec, ...]
    clock: BootClock
    _run: Worker[Any]
    _monotonic: Callable[[], float]
    _unwritten: Callable[[sqlite3.Connection], Unwritten]
    _checkpoints: Checkpoints | None
    _start_room: plan.Room | None

    def _read(self) -> sqlite3.Connection:
        return open_read_only(self.db_path, 10)
