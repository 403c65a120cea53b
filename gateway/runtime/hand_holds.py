"""A lane held open by hand (hand_lanes.py), and let down again: its relays, its mode on record, a
release its relays did not take, written once they answer again, and one that waits for the car
on the lane's loop to leave before the arm comes down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from typing import Any

from drivers.relays.control import WrittenLater
from gateway.errors import Conflict, GatewayError
from gateway.runtime.hand_lane_displays import LaneDisplays
from gateway.runtime.hand_lane_records import ReleasedByHand
from gateway.runtime.hand_lane_writes import LaneWrites
from gateway.runtime.hand_opens import Recorded
from gateway.runtime.lane_boards import held, released
from gateway.runtime.lanes import BarrierWatch
from gateway.runtime.loops_on import RELEASE_WAITS_FOR_CAR_S
from gateway.store.lanes import forget_hold

log = logging.getLogger("gateway.runtime.hand_lanes")  # its journal lines stay hand_lanes.py's


@dataclass(slots=True)
class ReleaseAfterCar:
    """A release on record whose relays wait for the car under the arm to leave (_down_after_car):
    who released it and why (its relays' failure recorded so), whether its displays are told."""

    actor: str
    reason: str
    tell: bool
    done: Recorded


class LaneHolds(LaneDisplays, LaneWrites):
    """HandLanes' holds and releases (its attributes are set by HandLanes.__init__)."""

    barriers: BarrierWatch
    held: dict[str, str]
    _held_lock: threading.Lock
    _releasing: dict[str, object]
    _turns: dict[str, threading.RLock]
    _holds_written: dict[str, int]
    _after_car: dict[str, ReleaseAfterCar]

    def _hold_written(self, lane: str) -> None:
        """A hold of the lane is on record (on the decision worker, once its transaction is
        committed): a release made before it and written after it leaves it there."""
        self._holds_written[lane] = self._holds_written.get(lane, 0) + 1

    def _no_hold_since(self, lane: str) -> Callable[[], bool]:
        """Whether no hold of the lane has been written on record since now (read on the worker,
        where holds are counted: _hold_written). Made in the lane's turn, after any hold made
        before it was written or refused."""
        seen = self._holds_written.get(lane, 0)
        return lambda: self._holds_written.get(lane, 0) == seen

    def _hold(self, lane: str, holder: str, reason: str) -> None:
        self.barriers.commanded(lane, time.monotonic())

        def hold(relay: Any) -> None:
            # Not held (a Modbus module that did not take the write), it fails as a hold that
            # raised does: lane.hold_failed, and the guard (or the centre's command reply) is told.
            if not held(relay):
                raise OSError(f"did not take the hold: {relay.health.last_error or 'no answer'}")

        try:
            self._drive(lane, holder, reason, "hold", hold)
        except GatewayError:
            if lane not in self.held:
                self._let_go(lane)
                # A convoy told 一路平安 at a barrier held by no relay would drive into it: sent to
                # the guard, as a single opening that did not open is (_tell_lane). A standing hold
                # keeps what its lane shows.
                self._tell_lane(lane, False, None)
            raise
        with self._held_lock:
            self.held[lane] = holder
            self._releasing.pop(lane, None)  # held again: a release written later no longer ends it
        self._after_car.pop(lane, None)  # nor one waiting for a car to leave (in the lane's turn)
        self.barriers.held(lane, True, time.monotonic())
        # Opened for whoever is there, as a single opening is: a board left reading 禁止入内 (the
        # card refused before) would tell every walker through the open door to stay out.
        self._tell_lane(lane, True, None, once=False)

    def _let_go(self, lane: str) -> None:
        """A hold that failed is not held on the relays either. A relay wants its state before it
        writes it, so that a board replugged is sent what it should be (drivers/relays/control.py):
        a hold whose write failed (an LCUS board not back yet after a power cut), or that one relay
        of two took, would raise the barrier of a lane held nowhere on record once the board is back."""
        for relay in self.devices.lanes[lane].relays:
            try:
                relay.release()
            except Exception as exc:  # wanted "off" all the same: sent when the board is back
                log.warning(
                    "lane %s relay %s not released after a failed hold: %s", lane, relay.health.device, exc
                )

    def _forget_hold(self, lane: str) -> None:
        """A hold that did not take (or cannot at start) is off record: not tried at every start."""
        # Kept on record, it is tried again (and fails again) at start.
        self._on_record(
            lane,
            lambda conn, _at: forget_hold(conn, lane),
            "not held, but still on record as held (tried again at start)",
        )

    def release_lane(self, lane: str, actor: str, reason: str) -> Recorded:
        """Let a held lane's barrier down. Judged as a hold is (lane_boards.released: a Modbus
        module never raises, its adapter unplugged): a relay that did not take it fails it
        (`lane.release_failed`), and the lane is still shown held, its barrier up, until that
        relay writes the release, still wanted, once it answers again (_down_later). On a disk that
        takes no writes it goes ahead as a single opening does, its record (the hold off record with
        it) waiting in memory (ReleasedByHand). A lane not held open (released meanwhile on another
        tablet) is 409 already_done, nothing written (_still_held). Returns how its record went, as
        open_lane does."""
        self._check_lane(lane, "release", reason)
        with self._turns[lane]:  # read once a hold or release under way is done
            self._still_held(lane)
            return self._release(lane, actor, reason)

    def _release(
        self, lane: str, actor: str, reason: str, stored_first: bool = False, tell: bool = True
    ) -> Recorded:
        """release_lane; `stored_first`: its record written before any relay moves, or refused
        (sqlite3.Error) with nothing moved, as a close's is (_set_mode). `tell`: the lane's displays
        told once it is down (_tell_released); not by a close, which tells them it is closed, one
        announcement, not the idle line and then the closed one. A release not taken, written
        later, is told once written whatever `tell` says: its close is refused (_down_later). A vehicle
        lane whose loop sees a car keeps its relays held until the car has left (_down_after_car):
        a close then finds it released already."""
        self._check_lane(lane, "release", reason)
        with self._turns[lane]:  # after a hold under way: the release is the last word
            waiting = self._after_car.get(lane)
            if waiting is not None:  # a close of a lane whose release waits for a car: released already
                waiting.tell = waiting.tell and tell
                return waiting.done
            record = ReleasedByHand(
                self.now(), lane, "release", actor, reason.strip(), no_hold_since=self._no_hold_since(lane)
            )
            done = self._write_lane(record) if stored_first else self._write_or_keep(record)
            if self.site.lanes[lane].type == "vehicle" and self.barriers.loops.car_on(lane):
                self._down_after_car(lane, ReleaseAfterCar(actor, reason, tell, done))
                return done
            self._drop(lane, actor, reason, tell)
        return done

    def _drop(self, lane: str, actor: str, reason: str, tell: bool) -> None:
        """The held lane's relays let go, in its turn (the release on record already)."""
        not_taken: list[WrittenLater] = []
        unknown: list[Any] = []

        def release(relay: Any) -> None:
            try:
                took = released(relay)
            except Exception:
                unknown.append(relay)
                raise
            if not took:  # only a relay written later answers so (lane_boards.released)
                not_taken.append(relay)
                raise OSError(f"did not take the release: {relay.health.last_error or 'no answer'}")

        try:
            self._drive(lane, actor, reason, "release", release)
        except GatewayError:
            if not_taken and not unknown:  # a relay that raised says nothing of a later write
                # Told once written, whoever asked: a close that began with this release is
                # refused with it, and would tell the board nothing ever (一路平安 for good).
                self._down_later(lane, not_taken)
            raise
        with self._held_lock:
            self.held.pop(lane, None)
            self._releasing.pop(lane, None)
            self.barriers.held(lane, False, time.monotonic())
        if tell:
            self._tell_released(lane)

    def _down_after_car(self, lane: str, waiting: ReleaseAfterCar) -> None:
        """A release (on record already) of a vehicle lane whose loop sees a car: the arm would come
        down on it wherever the barrier controller has no anti-smash loop or radar of its own. The
        relays stay held, the lane still shown held with the car under its arm (`car_under_arm`:
        the guard's answer and his page say 车辆在道闸下，车离开后落杆), and let go once the lane's
        last loop goes off; a loop still on after RELEASE_WAITS_FOR_CAR_S is stuck, and the barrier
        comes down all the same (logged): kept up for ever, it let every car in unseen. A hold
        meanwhile keeps the lane held (_hold drops the wait); a gateway stopping drops it too."""
        self._after_car[lane] = waiting
        log.warning(
            "lane %s release by %r waits: a car is on the loop under the arm; the barrier comes down once "
            "it has left (at most %.0f s)",
            lane,
            waiting.actor,
            RELEASE_WAITS_FOR_CAR_S,
        )

        def wait() -> None:
            clear = self.barriers.loops.wait_clear(lane, RELEASE_WAITS_FOR_CAR_S)
            if clear is None:
                return  # the gateway stops
            with self._turns[lane]:
                if self._after_car.get(lane) is not waiting:
                    return  # held again meanwhile
                del self._after_car[lane]
                if not clear:
                    log.warning(
                        "lane %s released after %.0f s although its loop still sees a car: the loop is "
                        "taken for stuck (check the loop detector: a stuck relay, something metal over "
                        "the loop); released by %r",
                        lane,
                        RELEASE_WAITS_FOR_CAR_S,
                        waiting.actor,
                    )
                try:
                    self._drop(lane, waiting.actor, waiting.reason, waiting.tell)
                except GatewayError as exc:  # on record as lane.release_failed (_drive)
                    log.error("lane %s not let down once the car had left: %s", lane, exc)

        threading.Thread(target=wait, name=f"release-after-car-{lane}", daemon=True).start()

    def car_under_arm(self, lane: str) -> bool:
        """Whether the lane's release waits for the car on its loop to leave (_down_after_car)."""
        return lane in self._after_car

    def _still_held(self, lane: str) -> None:
        """A release of a lane not held open (released meanwhile on another tablet, or on a page
        drawn before) is said so (Conflict already_done), nothing written nor moved, as a close of a
        lane closed already is (_set_mode): done again, it was a second lane.release row and
        lane_action record upstream, the centre counting two releases of one hold. A release its
        relays did not take, still wanted (_down_later), may be pressed again. Not asked of a close
        that lets a hold down (_set_mode): its relays' late release meanwhile is no reason to refuse it.
        Its `state` says why, for the pages to word it (通道未处于常开状态): a lane never held open was
        released by nobody, and 已由他人处理 was false."""
        with self._held_lock:
            standing = lane in self.held or lane in self._releasing
        if not standing:
            raise Conflict(
                f"lane {lane} is not held open: there is nothing to release",
                fix="nothing to do",
                code="already_done",
                data={"state": "not_held"},
            )

    def _down_later(self, lane: str, relays: list[WrittenLater]) -> None:
        """A release its relays written later did not take (a Modbus adapter unplugged, an LCUS
        board that takes no data) is still wanted, and written once they answer again: the lane is
        then no longer held, in `held` (the pages: 常开中, the centre's lane_modes) nor in the
        barrier watch. Kept held, a barrier down and its
        hold off record (a restart showed it normal) was shown held by the guard for good, and a car
        forcing the arm up raised no forced_open alarm. Unless the lane was held again meanwhile
        (a hold that took), or released again (this release's wait is then that one's). Told on the
        relays' bus thread: the turns are not taken there (a hold under way waits on that thread).
        Its displays are told once it is written, as a release's (_tell_released), the car at the
        barrier looked for then, the bus thread not waiting for the worker (_tell_written): also
        after a close refused because of it, which told them nothing."""
        token = object()
        with self._held_lock:
            self._releasing[lane] = token
        offs = [relay.off_written() for relay in relays]
        # Shown once written, unless a car decided meanwhile has been told something since.
        ticket = self._boards.reserve(lane)

        def written(_: Future[bool]) -> None:
            if not all(off.done() and not off.cancelled() and off.result() for off in offs):
                return  # another relay still to write it (or closed: the gateway stops)
            with self._held_lock:
                if self._releasing.get(lane) is not token:
                    return
                del self._releasing[lane]
                was = self.held.pop(lane, None)
                self.barriers.held(lane, False, time.monotonic())
            self._car_asked(lane).add_done_callback(partial(self._tell_written, lane, ticket))
            log.warning(
                "lane %s released after all: its relays took the release once they answered again "
                "(held by %r until then; lane.release_failed on record)",
                lane,
                was,
            )

        for off in offs:
            off.add_done_callback(written)
