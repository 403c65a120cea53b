"""A journal line said at most once a minute, with how many were left unsaid since: a copy of a
command received again (command_copies.py), a message dropped for its size (client.py). Whoever
publishes on the broker decides how often such things come; the journal must not fill with them."""

from __future__ import annotations

import time

SAID_EVERY_S = 60.0


class SaidEvery:
    def __init__(self, every_s: float = SAID_EVERY_S):
        self._every_s = every_s
        self._said_at: float | None = None  # monotonic time of the last line said
        self._unsaid = 0  # since then

    def due(self, now: float | None = None) -> int | None:
        """Whether to say the line now: None if one was said within `every_s` (this one counted, to
        go at DEBUG); else how many were not said since the last, and this one is said."""
        now = time.monotonic() if now is None else now
        if self._said_at is not None and now - self._said_at < self._every_s:
            self._unsaid += 1
            return None
        unsaid, self._said_at, self._unsaid = self._unsaid, now, 0
        return unsaid
