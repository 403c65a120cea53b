"""What comes in to the Gateway (gateway/runtime/gateway.py) from its devices: presentations
handed to the decision worker, readers' and cameras' reads with the lane's snapshot, exit buttons
pressed, patrol taps, devices going on- and offline and barrier alarms, recorded in turn.

Apart from gateway.py so that the way in reads in one sitting; the deciding is gateway_deciding.py's.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from drivers.health import DeviceHealth
from gateway.core import BUTTON, Presented
from gateway.core.credentials import BadCredential, canonical
from gateway.ids import uuid7
from gateway.parking.operations import Unwritten
from gateway.privacy import mask_card
from gateway.runtime.event_clips import OPENED, ClippedAlarm, alarm_lane, tie_to_audit
from gateway.runtime.gateway_base import GatewayBase
from gateway.runtime.hand_opens import Kept, Recorded
from gateway.runtime.kept_records import AlarmChange, DeviceChange, PatrolTap, held_back
from gateway.runtime.worker import Job
from gateway.store.database import transaction
from gateway.store.patrol import PatrolCards

log = logging.getLogger("gateway.runtime.gateway")  # its journal lines stay gateway.py's


# A repeat decision of a car standing in the lane (flags `again`) keeps a snapshot this often at most.
AGAIN_SNAPSHOT_EVERY_S = 60.0


class GatewayInputs(GatewayBase):
    def present(self, p: Presented) -> bool:
        """Hand a presentation to the decision worker (thread-safe, never blocks, never drops).

        A value no credential can have (a bad frame a driver let through, an unknown kind) is
        logged and counted instead, and False returned.
        """
        try:
            if p.lane not in self.site.lanes:
                raise BadCredential(f"lane {p.lane!r} is not in the site config")
            value = canonical(p.kind, p.value)
        except BadCredential as exc:
            self.rejected += 1
            # A card number is logged by its last four characters, here as in decisions.
            why = str(exc).replace(p.value, mask_card(p.value)) if p.kind == "card" and p.value else exc
            log.warning(
                "presentation ignored lane=%s device=%s: %s; fix: check the device's "
                "driver and format settings",
                p.lane,
                p.device or "-",
                why,
            )
            return False
        if value != p.value:
            p = replace(p, value=value)
        self.worker.put(Job(p, time.perf_counter()))
        return True

    def _device_changed(self, health: DeviceHealth, online: bool) -> None:
        with self._changes:
            if not self._started:
                return  # start() settles every device's alarm at once
            self._record_in_turn(DeviceChange.of(health, online, self.now(), self._clear_after))
        if not online:  # outside the lock: a camera told its loop is off may report its own health
            self.lane_io.device_offline(health.lane, health.device)

    @property
    def _clear_after(self) -> timedelta:
        """How long a device back online stays so before its fault clears ([alarms] clear_after_s)."""
        return timedelta(seconds=self.site.config.alarms.clear_after_s)

    def unwritten(self, conn: sqlite3.Connection) -> Unwritten:
        """On the worker, before a look of the operations thread that judges by the rows (patrol
        rounds, repair deadlines): the records a full disk kept in memory written, if it has room
        now, whatever the retry time; what still waits, not to be judged without."""
        return held_back(self._waiting.write_now(conn))

    def _barrier_alarm(self, change: AlarmChange) -> None:
        """A lane's barrier alarm raised or cleared (LaneInputs): recorded in turn; one raised has
        the lane's cameras cut its clips, tied to it as it is written (event_clips.ClippedAlarm)."""
        switch = change.switch
        lane = alarm_lane(switch.kind, switch.source) if switch.raised else None
        if self.clips is not None and lane is not None and (cut := self.clips.cut(switch.kind, lane)):
            change = ClippedAlarm(change.change, cut, self.clips)
        self._record_in_turn(change)

    def _opening_clips(self, lane: str, done: Recorded) -> None:
        """An opening by hand on record: the lane's cameras cut its clips, tied to its audit row.
        One that waits for storage (a full disk) gets none: no row to tie them to yet."""
        audit_id = done.audit_id
        if self.clips is None or audit_id is None or not (cut := self.clips.cut(OPENED, lane)):
            return

        def tie(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                tie_to_audit(conn, audit_id, cut, done.at, self.now())

        self.on_worker(tie)

    def _record_in_turn(self, record: Kept) -> None:
        """A record a full disk must not lose (an alarm, a patrol tap): written on the worker, or
        kept in memory with the lane records that wait for storage, and written in turn with them
        once it takes writes (hand_opens.WaitingRecords.write_in_turn)."""
        self._waiting.write_in_turn(record, self.on_worker)

    def _emitter(self, lane: str, device: str) -> Callable[[str, str, float], None]:
        if device in self.devices.patrol:
            return self._patrol_tap(lane, device)

        def emit(kind: str, value: str, confidence: float) -> None:
            at = self.now()
            # Asked on the camera's thread right after its reader decided, so it is that decision's.
            again = kind == "plate" and self.standing(lane, value)
            snapshot = self._snapshot(lane, device) if self._keeps_snapshot(lane, again) else None
            self.present(Presented(lane, kind, value, confidence, at, device, snapshot, again=again))  # type: ignore[arg-type]

        return emit

    def _keeps_snapshot(self, lane: str, again: bool) -> bool:
        """A car standing in the lane is decided again every `repeat_after_s` (15 s): a snapshot
        and plate crop each time were 1.7 GB a day on the SD card for a car parked there. Its
        repeats keep one a minute; a new passage always has its own."""
        if not again:
            return True
        now = time.monotonic()
        last = self._again_snapshot_at.get(lane)
        if last is not None and now - last < AGAIN_SNAPSHOT_EVERY_S:
            return False
        self._again_snapshot_at[lane] = now
        return True

    def exit_button(self, lane: str, device: str) -> bool:
        """Someone inside pressed the door's exit button (ExitButtons): let out like a card, on
        record with the lane's snapshot (who went out)."""
        snapshot = self._snapshot(lane, device)
        return self.present(Presented(lane, BUTTON, device, 1.0, self.now(), device, snapshot))

    def standing(self, lane: str, plate: str) -> bool:
        """A plate camera of the lane last decided this plate again (DecidedAgain.standing)."""
        return self._again.standing(lane, plate)

    def _patrol_tap(self, lane: str, device: str) -> Callable[[str, str, float], None]:
        cards = PatrolCards.of(self.site.config)  # whether a tap is a guard's, decided as it is written

        def tap(kind: str, value: str, confidence: float) -> None:
            at = self.now()
            try:
                card = canonical("card", value)
            except BadCredential as exc:
                self.rejected += 1
                log.warning("patrol tap ignored checkpoint=%s: %s", device, exc)
                return
            log.info("patrol tap checkpoint=%s card=%s", device, mask_card(card))
            self._record_in_turn(PatrolTap(at, uuid7(), device, lane, card, cards))

        return tap

    def _snapshot(self, lane: str, device: str) -> str | None:
        """Name the JPEG of the lane now; it is written in the background (None: no fresh frame)."""
        if self.snapshots is None:
            return None
        cameras = sorted(self.devices.lanes[lane].cameras, key=lambda c: c.health.device != device)
        for camera in cameras:
            quality = self.devices.snapshot_quality.get(camera.health.device)
            frame = camera.snapshot_frame() if quality else None
            if frame is not None:
                return self.snapshots.submit(frame, camera.health.device, quality or 85)
        return None
