"""Simulated traffic: what simulated readers and cameras present, drawn from the site's own data."""

from __future__ import annotations

import random
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from drivers.simulated import Chooser
from gateway.config.models import Device, SiteConfig
from gateway.core.tickets import PREFIX as TICKET_PREFIX
from gateway.demo.seed import random_plate
from gateway.store.database import open_read_only
from gateway.timefmt import to_db


class DemoTraffic:
    """Mostly registered cards and plates, some unknown ones; exits mostly cars that are inside."""

    def __init__(self, db_path: Path, cfg: SiteConfig, seed: int = 11):
        self._db_path = db_path
        self._lanes = {lane.id: lane for lane in cfg.lanes}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._cards: list[str] = []
        self._plates: list[str] = []
        self._loaded = 0.0

    def _refresh(self) -> None:
        """Re-sample the site's cards and plates now and then, so imports show up in the traffic."""
        if time.monotonic() - self._loaded < 60:
            return
        self._loaded = time.monotonic()
        with closing(open_read_only(self._db_path)) as conn:
            self._cards = [
                r[0]
                for r in conn.execute(
                    "SELECT value FROM credentials WHERE kind = 'card' ORDER BY random() LIMIT 400"
                )
            ]
            self._plates = [
                r[0]
                for r in conn.execute(
                    "SELECT value FROM credentials WHERE kind = 'plate' ORDER BY random() LIMIT 400"
                )
            ]

    def chooser_for(self, device: Device) -> Chooser:
        lane = self._lanes[device.lane]
        if device.kind == "reader":
            return self._card
        if lane.direction == "exit":
            return self._leaving
        return self._arriving

    def _card(self) -> tuple[str, str, float] | None:
        with self._lock:
            self._refresh()
            if self._cards and self._rng.random() < 0.9:
                return "card", self._rng.choice(self._cards), 1.0
            return "card", f"{self._rng.randrange(16**10):010X}", 1.0

    def _arriving(self) -> tuple[str, str, float] | None:
        with self._lock:
            self._refresh()
            if self._plates and self._rng.random() < 0.75:
                return "plate", self._rng.choice(self._plates), 0.97
            return "plate", random_plate(self._rng, self._rng.choice("皖苏浙沪")), 0.93

    def _leaving(self) -> tuple[str, str, float] | None:
        """A car inside, read by the exit camera. Not a car with no plate: it leaves by its ticket,
        typed at the exit by the guard, and a camera reading 无牌-1126-01 as a plate had the gateway
        log that the camera was misconfigured. Nor a car held at an exit to pay and not paid since:
        it waits for the guard's 收费放行, and read again and again at random it raised 陌生车牌反复出现
        (an unknown plate seen repeatedly) about a car the demo itself kept coming back. Nor a car
        let in within the last minute: read at the exit seconds after its entry it is the exit camera
        seeing the entrance lane beside it (no passage, neighbour_lane), a line on the live page
        about a car that never left."""
        settled = to_db(datetime.now(UTC) - CAME_IN_AT_LEAST)
        with closing(open_read_only(self._db_path)) as conn:
            row = conn.execute(_LEAVING_SQL, (TICKET_PREFIX + "%", settled)).fetchone()
        return ("plate", row[0], 0.96) if row else None


# How long ago a car the demo lets out came in: longer than SAME_PASSAGE (gateway/runtime/again.py).
CAME_IN_AT_LEAST = timedelta(minutes=1)
# A held car is one decided payment_due (at an exit) during its stay, with no payment since: one paid
# at the lane has left, its stay closed; one paid at the booth meanwhile may leave.
_LEAVING_SQL = """
SELECT s.plate FROM stays s
WHERE s.exited_at IS NULL AND s.plate IS NOT NULL AND s.plate NOT LIKE ? AND s.entered_at <= ?
  AND NOT EXISTS (
    SELECT 1 FROM access_log a
    WHERE a.reason = 'payment_due' AND a.at >= s.entered_at AND a.kind = 'plate' AND a.value = s.plate
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.plate = s.plate AND p.at >= a.at))
ORDER BY random() LIMIT 1
"""
