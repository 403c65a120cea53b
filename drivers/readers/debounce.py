"""One presentation per card while it is held: readers repeat a card many times a second."""

from __future__ import annotations


class Debouncer:
    """The same value seen again within `window_s` of its last sighting is a repeat.

    The window slides: a card held on the reader for a minute is one presentation; taken away and
    shown again once the window has passed, it is a new one (and opens again). Time is a parameter.
    """

    def __init__(self, window_s: float, keep: int = 1000):
        self.window_s = window_s
        self._last: dict[str, float] = {}
        self._keep = keep

    def accept(self, value: str, now: float) -> bool:
        last = self._last.get(value)
        self._last[value] = now
        if len(self._last) > self._keep:
            self._last = {v: t for v, t in self._last.items() if now - t <= self.window_s}
        return last is None or now - last > self.window_s

    def note(self, value: str, now: float) -> None:
        """Remember a sighting that was presented anyway (a triggered read)."""
        self._last[value] = now
