"""Whether storage takes writes, as the gateway's own writes last found it.

Once only a decision that could not be stored said so (gateway_deciding.py): a card gone read-only
at night, with no car at a lane, was `ok` on /api/health and in the centre's health report while
the operations thread's writes, the checkpoints and the guard's openings by hand all failed, and
then it was only a count. Every write the gateway makes anyway tells this state now: a decision's
batch, a task on the decision worker (an operations step's, a guard's change, the sync's), a record
that waits for storage (hand_opens.py), a checkpoint of the WAL, and an operations step's own
files. Failed, it holds the cause (database.storage_cause) until a write gets through again; no
write is made only to find out (an SD card wears with each). The cause and its fix go to
/api/health, the centre's health report and the live page's banner.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from gateway.store.database import StorageCause, storage_fix, storage_refused

log = logging.getLogger(__name__)


class StorageState:
    """The data directory's storage as the last write found it: `cause` None while it takes writes
    (or none has failed yet). Told from any thread."""

    def __init__(self, data_dir: Path):
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self.cause: StorageCause | None = None

    @property
    def failing(self) -> bool:
        return self.cause is not None

    def failed(self, exc: BaseException, cause: StorageCause | None = None) -> None:
        """A write failed with `exc` (its cause, where the caller judged it already): the state
        is failing if that is storage's doing, and a decision's fault too (gateway_deciding.py:
        the lanes' gates stay shut, which the panel and health must say)."""
        cause = cause or storage_refused(exc, self._data_dir)
        if cause is None:
            return
        with self._lock:
            before, self.cause = self.cause, cause
        if before != cause:
            log.debug("storage state: %s (%s)", cause, exc)

    def took_writes(self) -> None:
        """A write got through: storage takes writes again."""
        with self._lock:
            self.cause = None

    def report(self) -> dict[str, Any]:
        """For /api/health, the centre's health report and the live page: `state` ok, or the cause
        (full, unwritable, locked, damaged, fault), and its fix for the installer."""
        cause = self.cause
        if cause is None:
            return {"state": "ok", "fix": None}
        return {"state": cause, "fix": storage_fix(cause, self._data_dir)}
