"""Alarms that no single decision raises: one unknown plate read again and again, and records
piling up for upstream (with [mqtt] on: without it nothing goes upstream, so nothing piles up).
Raised and cleared on the decision worker like every other write.

A car left standing at a barrier is decided again now and then (the lane's repeat timer, the loop
asking), so that the gate can act on it: those decisions are the same attempt, not new ones."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import closing

from gateway.alarm_texts import AlarmText
from gateway.config.models import Alarms
from gateway.core.model import NEIGHBOUR_LANE, TYPED_BY
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Unwaited
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.database import open_read_only

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0
MAX_PLATES = 10_000  # plates remembered at once; a flood of misreads must not grow memory


class AlarmWatch:
    def __init__(self, gw: Gateway, rules: Alarms, clock: Callable[[], float] = time.monotonic):
        self._gw = gw
        self._rules = rules
        self._clock = clock
        self._reads: dict[str, deque[float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_event(self, ev: AccessEvent) -> None:
        """A gateway listener (worker thread): count reads of plates nobody registered. The car of
        the lane beside read by this lane's camera (neighbour_lane) is the read there, not another.
        Only what a camera read counts: a plate the guard typed (the fee taken at the exit, a misread
        corrected) names a car a camera read already, not one more try at the gate."""
        if ev.kind != "plate" or ev.holder_kind is not None or ev.device.startswith(TYPED_BY):
            return
        if self._gw.standing(ev.lane, ev.value):
            return
        if NEIGHBOUR_LANE in ev.flags:
            return
        now, window = self._clock(), self._rules.repeated_minutes * 60
        if len(self._reads) >= MAX_PLATES and ev.value not in self._reads:
            self._forget(now - window)
        reads = self._reads.setdefault(ev.value, deque())
        reads.append(now)
        while reads and reads[0] <= now - window:
            reads.popleft()
        if len(reads) < self._rules.repeated_unknown_plate:
            return
        minutes = self._rules.repeated_minutes
        text = AlarmText(
            "repeated_unknown_plate",
            {"plate": ev.value, "count": len(reads), "minutes": minutes, "lane": ev.lane},
        )
        reads.clear()
        gw, plate = self._gw, ev.value
        gw.on_worker(
            Unwaited(
                "the repeated_unknown_plate alarm",
                lambda c: raise_alarm(c, "repeated_unknown_plate", plate, text, gw.now()),
            )
        )

    def _forget(self, before: float) -> None:
        for plate in [p for p, reads in self._reads.items() if not reads or reads[-1] <= before]:
            del self._reads[plate]
        while len(self._reads) >= MAX_PLATES:
            del self._reads[next(iter(self._reads))]

    def check_outbox(self) -> int:
        """Raise the backlog alarm above the threshold; clear it once below half of it again.

        With MQTT off nothing is sent, so nothing is behind: the rows queued meanwhile are kept for
        when it is turned on, and raise no alarm (the start clears one left from before)."""
        gw = self._gw
        if not gw.site.config.mqtt.enabled:
            return 0
        with closing(open_read_only(gw.db_path, 5)) as conn:
            pending = int(
                conn.execute(
                    "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL"
                ).fetchone()[0]
            )
        limit = self._rules.outbox_backlog
        if pending > limit:
            text = AlarmText("outbox_backlog", {"pending": pending, "limit": limit})
            gw.on_worker(
                Unwaited(
                    "the outbox_backlog alarm",
                    lambda c: raise_alarm(c, "outbox_backlog", "outbox", text, gw.now()),
                )
            )
        elif pending <= limit // 2:
            gw.on_worker(
                Unwaited(
                    "the outbox_backlog alarm's clearing",
                    lambda c: clear_alarm(c, "outbox_backlog", "outbox", gw.now()),
                )
            )
        return pending

    def start(self) -> None:
        self._gw.subscribe(self.on_event)
        if not self._gw.site.config.mqtt.enabled:
            return  # no backlog to watch (check_outbox)
        self._thread = threading.Thread(target=self._run, name="alarm-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(CHECK_EVERY_S):
            try:
                self.check_outbox()
            except Exception:  # a failed check must not end the watch
                log.exception("outbox backlog check failed")
