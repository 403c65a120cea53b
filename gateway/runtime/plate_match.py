"""Registered plates for look-alike matching at lanes that allow it (plate_match = "confusable").

Built only when some lane asks for it (the index costs memory), from a read-only connection, and
rebuilt when the registered plates change (checked at most every REFRESH_S, by their values: a
plate deleted and another registered can reuse its row id, so counts and ids do not tell). Exact
matching needs none of this: the store answers it directly, and a new registration counts at once.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from gateway.store.database import open_read_only
from plates.matcher import PlateMatcher, Policy

log = logging.getLogger(__name__)

REFRESH_S = 30.0
_PLATES = "SELECT value FROM credentials WHERE kind = 'plate' ORDER BY value"


class RegisteredPlates:
    def __init__(self, db_path: Path):
        self._db_path = db_path
        self._lock = threading.Lock()
        self._matcher: PlateMatcher | None = None
        self._plates: list[str] | None = None
        self._checked = 0.0

    def resolve(self, text: str) -> str | None:
        """The one registered plate a single look-alike character from `text`, or None."""
        matcher = self._current()
        found = matcher.match(text, Policy.CONFUSABLE)
        return found.registered if found.how == "confusable" else None

    def _current(self) -> PlateMatcher:
        with self._lock:
            now = time.monotonic()
            if self._matcher is None or now - self._checked >= REFRESH_S:
                self._checked = now
                self._refresh()
            assert self._matcher is not None
            return self._matcher

    def _refresh(self) -> None:
        conn = open_read_only(self._db_path, 5)
        try:
            plates = [r[0] for r in conn.execute(_PLATES)]
        finally:
            conn.close()
        if plates == self._plates and self._matcher is not None:
            return
        self._matcher, self._plates = PlateMatcher(plates), plates
        log.info("look-alike plate index built plates=%d", len(plates))
