"""The records of lanes moved by hand (hand_lanes.py): checked, written before the relays move or kept
to wait for storage, told to the listeners; the relays driven, and a relay that fails on record."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar

from gateway.errors import GatewayError, NotFound, Refused
from gateway.runtime.devices import Devices
from gateway.runtime.hand_lane_records import OnWorkerNow
from gateway.runtime.hand_opens import Kept, LaneRecord, Recorded, WaitingRecords
from gateway.runtime.worker import StillRunning, wait_or_call_off
from gateway.site import Site
from gateway.store.database import transaction

log = logging.getLogger("gateway.runtime.hand_lanes")  # its journal lines stay hand_lanes.py's

T = TypeVar("T")

LANE_RECORD_WAIT_S = 10.0  # a lane held, released, closed by hand waits this long for its record


class LaneWrites:
    """HandLanes' records and relays (its attributes are set by HandLanes.__init__)."""

    site: Site
    devices: Devices
    now: Callable[[], datetime]
    _on_worker_now: OnWorkerNow
    _waiting: WaitingRecords
    _listeners: list[Callable[[LaneRecord, Recorded], None]]

    def subscribe(self, listener: Callable[[LaneRecord, Recorded], None]) -> None:
        """`listener(record, how it went)` for each lane record by hand as it is written, or kept to
        wait for storage: a guard's, the centre's (its commands), the gateway's own (a hold again at
        start). The live pages list each as it comes (gateway/api/guard.py), whoever did it: the
        centre's opening was listed only once the page was reloaded."""
        self._listeners.append(listener)

    def _made(self, record: LaneRecord, done: Recorded) -> Recorded:
        for listener in self._listeners:
            try:
                listener(record, done)
            except Exception:
                log.exception("lane record listener failed lane=%s action=%s", record.lane, record.action)
        return done

    def _on_record(
        self,
        lane: str,
        change: Callable[[sqlite3.Connection, datetime], None],
        if_not: str,
        then: Callable[[], None] | None = None,
    ) -> None:
        """A lane's mode changed on record after its relays moved: a failure is logged, not raised
        (the relays have done what was asked). `then`, on the worker once it is written."""

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                change(conn, self.now())
            if then is not None:
                then()

        try:
            _answer(self._on_worker_now(write), LANE_RECORD_WAIT_S)
        except (GatewayError, sqlite3.Error, TimeoutError) as exc:
            log.error("lane %s %s: %s", lane, if_not, exc)

    def _known_lane(self, lane: str) -> None:
        if lane not in self.site.lanes:
            raise NotFound(f"no lane {lane!r}", fix=f"use one of {sorted(self.site.lanes)}")

    def _check_lane(self, lane: str, action: str, reason: str, needs_relay: bool = True) -> None:
        self._known_lane(lane)
        if not reason.strip():
            raise Refused(f"a reason is needed to {action} a lane by hand", fix="say why, e.g. 救护车")
        if needs_relay and not self.devices.lanes[lane].relays:
            raise Refused(
                f"lane {lane} has no relay to {action}",
                fix="add a relay device for this lane to the site config",
                code="no_relay",
            )

    def _write_lane(
        self, record: LaneRecord, write: Callable[[sqlite3.Connection], int] | None = None
    ) -> Recorded:
        # Audited before any relay moves: a gate never opens by hand without its record on disk,
        # but for a single opening or a release when storage takes no writes (_write_or_keep). A
        # relay's failure is recorded after it moved, kept in memory too then (_drive).
        audit_id = _answer(self._on_worker_now(write or record.write), LANE_RECORD_WAIT_S)
        log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return self._made(record, Recorded(f"audit:{audit_id}", record.at))

    def _write_or_keep(self, record: LaneRecord) -> Recorded:
        """A record of what the relays do whether or not it can be written (WaitingRecords)."""
        done = self._waiting.write_or_keep(record, self._on_worker_now)
        if done.audit_id is not None:
            log.info("lane %s by hand lane=%s actor=%s", record.action, record.lane, record.actor)
        return self._made(record, done)

    def keep(self, record: Kept, why: object) -> None:
        """A record of a lane command (the central server's acceptance of it, hand_opens.Kept) that
        storage did not take: it waits in memory with the lane records, ahead of those it comes
        before (the opening's own), and is written in turn once storage takes writes."""
        self._waiting.keep(record, why)

    def call_off(self, record: Kept) -> bool:
        """A record kept (keep) taken back unwritten: True if it still waited
        (WaitingRecords.call_off)."""
        return self._waiting.call_off(record)

    def in_turn(self, record: Kept) -> Future[None]:
        """A record of a lane command (its answer) written behind the records that wait, or kept
        behind them (WaitingRecords.write_in_turn)."""
        return self._waiting.write_in_turn(record, self._on_worker_now)

    def unwritten(self) -> list[LaneRecord]:
        """The lane records by hand that still wait for storage, oldest first (their audit rows not
        written yet): the live pages list them as the stream's `action` did (gateway/api/lanes.py)."""
        return [r for r in self._waiting.kept_now() if isinstance(r, LaneRecord)]

    def unrecorded_opens(self) -> int:
        """Records that still wait for storage: lane records by hand (single opens, holds again at
        start, relays that failed: `<action>_failed`), and the alarms and patrol taps that wait in
        the same queue, in turn with them (kept_records.py)."""
        return self._waiting.waiting()

    def _drive(self, lane: str, actor: str, reason: str, action: str, act: Callable[[Any], None]) -> None:
        failed = []
        relays = self.devices.lanes[lane].relays
        for relay in relays:
            try:
                act(relay)
            except Exception as exc:
                relay.health.set_offline(f"{action} by hand failed: {exc}")
                failed.append(f"{relay.health.device}: {exc}")
        if failed:
            error = f"{action} on lane {lane} failed: {'; '.join(failed)}"
            fix = "check the relay's cable and power; the device list shows which one is offline"
            # On record with the guard's reason, as its attempt is: the guard pages list it. The
            # relay's error, for the installer, goes upstream with it and to the journal. Taken by
            # a relay of two, the barrier moved all the same: the reason says so, `(took=1 of 2)`
            # (a 纠正并重新判断 reads it: api/corrections.py, _OPENED).
            took = len(relays) - len(failed)
            said = f"{reason.strip()} (took={took} of {len(relays)})" if took else reason.strip()
            failure = LaneRecord(self.now(), lane, f"{action}_failed", actor, said, error)
            log.error(
                "lane %s by hand failed actor=%r reason=%r error=%s fix=%s", action, actor, reason, error, fix
            )
            self._write_or_keep(failure)
            raise GatewayError(error, fix=fix, code="relay_failed")  # worded on the pages: err.relay_failed


def _answer(future: Future[T], timeout_s: float) -> T:
    """The result of a write on the worker: one not begun within `timeout_s` is called off
    (wait_or_call_off), one under way is waited for (the busy timeout bounds it)."""
    try:
        return wait_or_call_off(future, timeout_s)
    except StillRunning:
        return future.result()
