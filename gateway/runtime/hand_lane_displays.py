"""What a lane's displays are told after it is moved by hand (hand_lanes.py): let through or the
barrier's fault, its idle line or closed, and what the car at an exit's barrier is asked again."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.core.tickets import NO_PLATE
from gateway.parking.book import month_ran_out
from gateway.parking.service import ParkingDesk
from gateway.runtime.devices import Devices
from gateway.runtime.hand_lane_records import OnWorkerNow
from gateway.runtime.hand_lane_writes import LANE_RECORD_WAIT_S, _answer
from gateway.runtime.lane_boards import LaneBoards
from gateway.runtime.texts import (
    closed_lines,
    fault_lines,
    idle_lines,
    let_through_lines,
    pay_lines,
    refusal_lines,
)
from gateway.site import Site
from gateway.store.holds import Held, Told, last_told
from gateway.store.parking import Owed

log = logging.getLogger("gateway.runtime.hand_lanes")  # its journal lines stay hand_lanes.py's


class LaneDisplays:
    """HandLanes' displays (its attributes are set by HandLanes.__init__)."""

    site: Site
    devices: Devices
    now: Callable[[], datetime]
    _on_worker_now: OnWorkerNow
    _boards: LaneBoards
    _desk: ParkingDesk
    lane_modes: dict[str, str]

    if TYPE_CHECKING:  # hand_let_outs.py

        def _leaving_cars(self, lane: str) -> frozenset[tuple[str, datetime]]: ...

    def _arm_known(self, lane: str, ticket: int, plate: str | None, rose: Future[bool]) -> None:
        """An opening the relay took whose arm never rose (its contact watched: LaneInputs.rising,
        which raised barrier_no_response): the board sends the driver to the guard, as a
        decision's does, unless something newer was shown meanwhile (Review 57p)."""
        if not rose.result():
            language, kind = self.site.config.site.language, self.site.lanes[lane].type
            self._boards.show_unless_newer(lane, ticket, fault_lines(plate, language, kind))

    def _tell_lane(self, lane: str, opened: bool, plate: str | None, *, once: bool = True) -> int:
        """The lane's displays after an opening by hand: left as they were, the driver let out
        was still asked for the fee (临时车 请缴费 7元), a car let in still read 禁止入内. A
        barrier that did not open sends him to the guard, as a decision's does (Gateway._act).
        Displays return at once (a serial board writes on its own thread): the guard waits for none.
        A single opening's (`once`) gives way to the idle line once its barrier is down again, as
        a decision's greeting does (LaneBoards.arm_down); a hold's stays while it is held."""
        rules, language = self.site.lanes[lane], self.site.config.site.language
        if opened:
            lines = let_through_lines(plate, language, rules.direction)
        else:
            lines = fault_lines(plate, language, rules.type)
        return self._boards.show(lane, lines, going=opened and once)

    def _tell_shut(self, lane: str, closed: bool = False) -> None:
        """The lane's displays once its barrier is down again by hand (a release, a closed lane
        reopened: idle_lines) or it is closed (closed_lines, what its decisions tell everyone now).
        Left reading 请通行 (一路平安 at an exit) from the hold, the board told the next driver to
        go at a lowered arm, as a failed hold's would (_hold)."""
        self._boards.show(lane, self._shut_lines(lane, closed))

    def tell_at_start(self) -> None:
        """At start, once the lanes held open are held again (they show their hold's words, or its
        fault: LaneBoards.show_at_start keeps them): every other lane is sent what it shows with
        nobody being decided, its closed line or its idle line, not said. Sent nothing until the
        first car, a lane the guard closed before a restart (or a box put in its place) kept what
        its board showed: blank after a power cut, or a greeting of the stopped gateway's over the
        lowered arm (Review 66L). An exit whose car is still at its barrier being asked
        (_car_asked: held to pay, refused) is sent what it is asked, as a release's is
        (_tell_released): a restart while a driver waited to pay replaced 临时车 请缴费 9元 with
        一车一杆 减速慢行 over the lowered arm, though the gateway still asked him (Review W)."""
        for lane in self.site.lanes:
            closed = self.lane_modes.get(lane) == "closed"
            asked = None if closed else self._asked_at_start(lane)
            self._boards.show_at_start(lane, asked or self._shut_lines(lane, closed))

    def _asked_at_start(self, lane: str) -> list[str] | None:
        try:
            return _answer(self._car_asked(lane), LANE_RECORD_WAIT_S)
        except Exception as exc:  # the words only: the gateway starts all the same
            log.warning("lane %s at start: its barrier's car not looked for (%s): idle line shown", lane, exc)
            return None

    def _shut_lines(self, lane: str, closed: bool = False) -> list[str]:
        rules, language = self.site.lanes[lane], self.site.config.site.language
        return closed_lines(language, rules.direction) if closed else idle_lines(language, rules.type)

    def _tell_released(self, lane: str) -> None:
        """The lane's displays once a release by hand is taken: the idle line (_tell_shut), unless
        a car is at its barrier being asked (_car_asked): a car held behind a convoy to pay, the
        guard releasing the lane so that it pays, was told 一车一杆 减速慢行 as if nobody were being
        decided, and no longer asked for its fee. It is told again what it is asked: the hold's
        一路平安 replaced what it was told before the hold, and stayed over the lowered arm."""
        try:
            asked = _answer(self._car_asked(lane), LANE_RECORD_WAIT_S)
        except Exception as exc:  # the words only: the release is done, its barrier down
            log.warning("lane %s released: its barrier's car not looked for (%s): idle line shown", lane, exc)
            asked = None
        self._boards.show(lane, asked or self._shut_lines(lane))

    def _car_asked(self, lane: str) -> Future[list[str] | None]:
        """What the car at the barrier of the exit `lane` is asked, now (on the worker), in its
        decision's words (_asked_lines); None: nobody is asked. The car there held to pay, or
        refused a moment ago (ParkingDesk.car_at_barrier, the car an opening by hand would let
        out), while it still owes: one that paid at the booth since is asked nothing (still told
        请缴费 7元, its driver would pay twice), its next decision lets it out. So is a car let out
        at a barrier that did not open (道闸故障, its stay put back), which was never refused: it is
        asked what its stay owes now, if anything (told 禁止通行 临时车 by its exit's reason, a
        driver owing nothing was refused). A car its camera watching the lane no longer sees has
        gone, through the barrier held up (still held on record for a while): nobody is asked."""
        rules, at = self.site.lanes[lane], self.now()
        if rules.direction != "exit" or rules.type != "vehicle":
            none: Future[list[str] | None] = Future()
            none.set_result(None)
            return none

        def asked(conn: sqlite3.Connection) -> list[str] | None:
            found = self._desk.car_at_barrier(conn, lane, at, self._leaving_cars(lane))
            if found is None or not self._still_seen(lane, found[0]):
                return None
            held, account = found
            told = last_told(conn, lane, held, self.site.lanes)
            if told is None:
                return None
            if not _refused(held, told) and account.quote.due_fen <= 0:
                return None  # paid since it was held (at the booth), or put back owing nothing
            return self._asked_lines(lane, held, account, told, at)

        return self._on_worker_now(asked)

    def _still_seen(self, lane: str, car: Held) -> bool:
        """Whether the car found at the barrier is still there: seen by the lane's camera (by the
        text it read), or the lane has none watching it to tell."""
        plate = car.plate_read or car.plate
        return not self.devices.watches(lane) or (plate is not None and self.devices.sees(lane, plate))

    def _asked_lines(self, lane: str, held: Held, account: Owed, told: Told, at: datetime) -> list[str]:
        """What its decision's display told the car at the barrier (texts.display_lines), built
        again from what the desk finds now: a refusal's words, or the fee it still owes (less what
        it paid at the booth since) as whose car it is, 月租到期 for a month that has run out."""
        rules, language = self.site.lanes[lane], self.site.config.site.language
        if _refused(held, told):
            return refusal_lines(told.reason, held.plate, language, rules.direction)
        # As Gateway._monthly_ended tells it at its decision: its stay's period, the register's now.
        until = account.stay.monthly_until if account.stay is not None else None
        lapsed = "monthly_expired" in told.flags or month_ran_out(told.billing, until, at) is not None
        no_plate = NO_PLATE in told.flags
        return pay_lines(
            account.quote.due_fen, held.plate, told.holder_kind, language, lapsed=lapsed, no_plate=no_plate
        )

    def _tell_written(self, lane: str, ticket: int, asked: Future[list[str] | None]) -> None:
        """A release written later (_down_later), once its barrier's car was looked for: what that
        car is asked (_car_asked), else the idle line, or what the lane is then, closed, under the
        ticket reserved when the release failed."""
        closed = self.lane_modes.get(lane) == "closed"
        lines = None if closed else _asked(asked)
        self._boards.show_unless_newer(lane, ticket, lines or self._shut_lines(lane, closed))


def _asked(found: Future[list[str] | None]) -> list[str] | None:
    """_car_asked's answer; not known (storage failed, the gateway stopping): nobody asked, the
    idle line shown, as before a car could be asked."""
    return None if found.cancelled() or found.exception() is not None else found.result()


def _refused(held: Held, told: Told) -> bool:
    """Whether the car at the barrier was refused there (car_at_barrier), not held to pay nor let
    out at a barrier that did not open (its exit admitted it: its stay put back, its fee asked)."""
    return held.refused is not None and not told.admitted
