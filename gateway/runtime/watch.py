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
from gateway.runtime.again import SAME_CAR
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Unwaited
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.database import open_read_only

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0
MAX_PLATES = 10_000  # plates remembered at once; a flood of misreads must not grow memory
_SAME_CAR_S = SAME_CAR.total_seconds()


class AlarmWatch:
    def __init__(self, gw: Gateway, rules: Alarms, clock: Callable[[], float] = time.monotonic):
        self._gw = gw
        self._rules = rules
        self._clock = clock
        self._reads: dict[str, deque[tuple[float, str]]] = {}  # plate -> (when, lane) counted
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def on_event(self, ev: AccessEvent) -> None:
        """A gateway listener (worker thread): count tries of plates nobody registered, read by a
        camera at any lane or typed by a guard at an entrance (输入车牌: a car whose plate the camera
        cannot read, decided as a read one; 纠正并重新判断: counted as the plate corrected to, its
        misread counted as read). A plate a guard types at an exit is never a try: he is handling a
        car inside already (holding it, taking its fee, letting it out after it paid at the booth).
        Not a try either: the car of the lane beside read by this lane's camera (neighbour_lane),
        nor a plate typed at a lane that counted that plate within SAME_CAR (the car still at the
        barrier, typed to be decided again: again.py). A car decided again as it stands at the
        barrier is counted once."""
        if ev.kind != "plate" or ev.holder_kind is not None:
            return
        typed = ev.device.startswith(TYPED_BY)
        if typed and ev.direction == "exit":
            return
        if self._gw.standing(ev.lane, ev.value):
            return
        if NEIGHBOUR_LANE in ev.flags:
            return
        now, window = self._clock(), self._rules.repeated_minutes * 60
        if typed and self._counted_at(ev.lane, ev.value, now - _SAME_CAR_S):
            return
        if len(self._reads) >= MAX_PLATES and ev.value not in self._reads:
            self._forget(now - window)
        reads = self._reads.setdefault(ev.value, deque())
        reads.append((now, ev.lane))
        while reads and reads[0][0] <= now - window:
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

    def _counted_at(self, lane: str, plate: str, since: float) -> bool:
        """Whether `plate` was counted at `lane` after `since`."""
        return any(at > since and there == lane for at, there in self._reads.get(plate, ()))

    def _forget(self, before: float) -> None:
        for plate in [p for p, reads in self._reads.items() if not reads or reads[-1][0] <= before]:
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
