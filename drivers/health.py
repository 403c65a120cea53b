"""Each device's health: online or not, when it was last heard from, and what went wrong."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass
class DeviceHealth:
    device: str
    kind: str
    lane: str
    driver: str
    online: bool = False
    last_seen: float | None = None  # wall-clock seconds
    last_error: str = ""
    counters: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Called with (health, online) when the device goes online or offline; the runtime raises alarms.
    on_change: Callable[[DeviceHealth, bool], None] | None = field(default=None, repr=False)
    # Figures a driver adds to its health report, e.g. a camera's frame age.
    details: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)
    # False for a health that is no configured device's (an LCUS board's port, whose channels'
    # devices log for it): the log names only devices the config has.
    logged: bool = field(default=True, repr=False)

    def seen(self) -> None:
        with self._lock:
            self.last_seen = time.time()
        if not self.online:
            self.set_online()

    def set_online(self) -> None:
        with self._lock:
            changed = not self.online
            self.online = True
            self.last_error = ""
            self.last_seen = time.time()
        if changed:
            if self.logged:
                log.info("device online device=%s lane=%s", self.device, self.lane)
            self._changed(True)

    def set_offline(self, error: str) -> None:
        with self._lock:
            changed = self.online or not self.last_error
            self.online = False
            self.last_error = error
            self.counters["offline"] += int(changed)
        if changed:
            # A repeated fault is logged once, at WARNING; the alarm stays open until it clears.
            if self.logged:
                log.warning("device offline device=%s lane=%s error=%s", self.device, self.lane, error)
            self._changed(False)

    def _changed(self, online: bool) -> None:
        if self.on_change is not None:
            self.on_change(self, online)

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counters[what] += n

    def snapshot(self) -> dict[str, Any]:
        extra = self.details() if self.details is not None else {}
        with self._lock:
            return extra | {
                "device": self.device,
                "kind": self.kind,
                "lane": self.lane,
                "driver": self.driver,
                "online": self.online,
                "last_seen": self.last_seen,
                "last_error": self.last_error,
                "counters": dict(self.counters),
            }
