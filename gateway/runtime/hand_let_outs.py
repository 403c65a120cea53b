"""The car a single opening by hand lets out (hand_lanes.py): on record once a relay took the opening
and its arm rose, and passed over by the lane's next openings until its record is written."""

from __future__ import annotations

import logging
import sqlite3
import threading
from concurrent.futures import Future
from datetime import datetime

from gateway.runtime.hand_lane_records import LetOutByHand, OnWorkerNow
from gateway.runtime.hand_opens import WaitingRecords

log = logging.getLogger("gateway.runtime.hand_lanes")  # its journal lines stay hand_lanes.py's


class LetOutsByHand:
    """HandLanes' cars let out by a single opening (its attributes are set by HandLanes.__init__)."""

    _on_worker_now: OnWorkerNow
    _waiting: WaitingRecords
    _leaving: dict[str, list[LetOutByHand]]
    _leaving_lock: threading.Lock

    def _let_out_once_up(self, let_out: LetOutByHand, ref: str, rose: Future[bool]) -> None:
        """The car the opening lets out, let out once its arm rose where that is watched
        (LaneInputs.rising): on the relay's word alone, a guard's 开闸 at a dead barrier controller
        closed the stay of a car still sitting at the shut arm and ended its hold, and read again a
        minute on it was a car with no entry record (Review 57p). Not risen, it stays held, its
        stay open. Waiting for the arm (1-6 s), the lane's next openings pass over it already; the
        guard's answer does not wait for it (he sees the arm), nor for its record."""
        if rose.done():
            if rose.result():
                self._let_out(let_out, ref)
            return
        if let_out.opened.found == [None]:
            return  # none held there
        self._leave(let_out)

        def arm_known(up: Future[bool]) -> None:
            if up.result():
                self._write_let_out(let_out, wait=False)
            else:
                self._no_longer_leaving(let_out)

        rose.add_done_callback(arm_known)

    def _let_out(self, let_out: LetOutByHand, ref: str) -> None:
        """The car the opening let out, on record now that a relay took it. Its opening's record
        written, the guard's answer waits for this one too (at most HAND_OPEN_WAIT_S), so that the
        pages read the car as gone; the opening's record waiting for storage, this one waits in
        turn behind it (and any before it), and the guard is not kept waiting twice. Sent to the
        worker apart from the queue, it was written first once storage took writes again: before
        its opening's record, and, with the lane opened again meanwhile, by the later opening.
        Until it is written, the lane's next openings pass over the car (_leaving_cars)."""
        if let_out.opened.found == [None]:
            return  # none held there
        self._leave(let_out)
        self._write_let_out(let_out, wait=ref.startswith("audit:"))

    def _leave(self, let_out: LetOutByHand) -> None:
        with self._leaving_lock:
            self._leaving.setdefault(let_out.lane, []).append(let_out)

    def _write_let_out(self, let_out: LetOutByHand, wait: bool) -> None:
        """Written in turn, the guard not waiting for it, unless `wait` (its opening's record
        written, the guard not answered yet): its opening's record waits for storage, or the
        guard was answered already (the arm waited for)."""
        if not wait:
            # The car has gone through: read again as it pulls away, it is that passage, before
            # its record is written (as when the write is tried and fails: LetOutByHand.write).
            self._on_worker_now(lambda _conn: let_out.left())
            written = self._waiting.write_in_turn(let_out, self._on_worker_now)
            written.add_done_callback(
                lambda done: self._not_written(let_out, None if done.cancelled() else done.exception())
            )
            return
        try:
            self._waiting.write_or_keep(let_out, self._on_worker_now)
        except sqlite3.Error as exc:  # not storage: the barrier is up, the guard told it opened
            self._not_written(let_out, exc)

    def _not_written(self, let_out: LetOutByHand, exc: BaseException | None) -> None:
        """A let-out that failed for a reason other than storage's (not kept: it would fail again):
        the barrier is up, the guard told it opened, the car's stay left open."""
        if exc is None:
            return
        log.error(
            "%s not on record %s at=%s error=%s fix=%s",
            let_out.what,
            let_out.details(),
            let_out.at.isoformat(),
            exc,
            let_out.if_never() or "nothing to close: the car had no stay",
        )

    def _leaving_cars(self, lane: str) -> frozenset[tuple[str, datetime]]:
        """The cars earlier openings let out at `lane` whose records are not written yet, by their
        hold key and when their hold (or refusal) began (ParkingDesk.car_at_barrier)."""
        with self._leaving_lock:
            waiting = list(self._leaving.get(lane, ()))
        cars = (let_out.car() for let_out in waiting)
        return frozenset((found[0].car, found[0].at) for found in cars if found is not None)

    def _no_longer_leaving(self, let_out: LetOutByHand) -> None:
        with self._leaving_lock:
            waiting = self._leaving.get(let_out.lane, [])
            waiting[:] = [w for w in waiting if w is not let_out]
