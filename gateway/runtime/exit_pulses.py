"""The passages of cars let out at vehicle exits, judged by their relays' pulses (ExitPulses).

A decision that lets a car out at a vehicle exit pulses the lane's relays, and so may a guard's
opening by hand; the car has left once one pulse of its passage was taken (the arm rose where that
is watched), and has not while none was: its stay is put back open. So, at an entrance door, a
person let in whose lock no relay opened has not come in: her entry on foot is taken back. Kept
apart from the gateway, which builds it with what it works on: the exits' memory of passages
(ExitPassages), the lanes' boards, and the worker's connection and turn.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from functools import partial
from pathlib import Path

from gateway.core import LaneRules
from gateway.core.model import is_passage
from gateway.events import AccessEvent
from gateway.parking.service import ParkingDesk
from gateway.runtime.lane_boards import ExitPassages, JoinedByHand, LaneBoards, PassagePulses, Pulsed, settled
from gateway.runtime.texts import fault_lines
from gateway.site import Site
from gateway.store.audit import audit
from gateway.store.database import storage_cause, storage_fix, transaction
from gateway.store.parking import handover, slot_left_to_hand_on
from gateway.store.record import not_through

log = logging.getLogger(__name__)

Work = Callable[[sqlite3.Connection], None]


def _nothing_to_do(took: bool) -> None:
    """A decision's pulses known where no passage hangs on them (an entrance, a door, a repeat of
    a passage judged already)."""
    return None


class ExitPulses:
    def __init__(
        self,
        site: Site,
        exits: ExitPassages[AccessEvent],
        boards: LaneBoards,
        rising: Callable[[str, list[Pulsed]], list[Pulsed]],
        conn: sqlite3.Connection,
        on_worker: Callable[[Work], object],
        data_dir: Path,
        desk: ParkingDesk,
        forget: Callable[[AccessEvent, Sequence[AccessEvent]], None],
    ):
        self.site = site
        self._exits = exits  # cars let out, their pulses to come
        self.boards = boards
        self._rising = rising  # a pulse taken once the lane's arm rose (LaneInputs.rising)
        self.conn = conn  # the worker's: used on the thread that decided, between transactions
        self._on_worker = on_worker
        self.data_dir = data_dir
        self.parking = desk
        self._forget = forget  # a passage's decisions, no longer passages (DecidedAgain.not_let_out)

    def pulses_known(self, ev: AccessEvent, lane: LaneRules) -> Callable[[bool], None]:
        """What to do once `ev`'s pulses are known (taken or not). At a vehicle exit, judge the
        car's passage by all its pulses (PassagePulses): `ev`'s own, where it lets the car out,
        or, for a repeat of it (flag again: the camera deciding the car still at the barrier
        before a Modbus module answered), the passage's it repeats (judged already: the repeat's
        own, ExitPassages.repeated). None of them taken, the car has not left (_not_let_out); one
        taken, the arm rose and it drove out. At an entrance door, none of `ev`'s taken, the
        person did not come in (_door_known); at an exit door she is out on record whatever its
        lock did (not_through says why)."""
        if lane.type == "pedestrian":
            if lane.direction != "entrance":
                return _nothing_to_do
            return partial(self._door_known, ev, threading.current_thread())
        if lane.direction != "exit" or lane.type != "vehicle":
            return _nothing_to_do
        if is_passage(ev.flags):
            passage: PassagePulses[AccessEvent] | None = self._exits.begin(ev.lane, ev.subject, ev, ev.at)
        else:
            passage = self._exits.repeated(ev.lane, ev.subject, ev, ev.at)
        if passage is None:
            return _nothing_to_do
        return partial(self._passage_known, passage, threading.current_thread())

    def _door_known(self, ev: AccessEvent, deciding: threading.Thread, took: bool) -> None:
        """The pulses of `ev`, an entry on foot, known: none taken (the lock's relay board unplugged
        or without power; the door shows 门禁故障 请联系保安), she did not come in, and her entry
        is taken back (_not_through). Unlike a car at a vehicle entrance (kept inside on record:
        docs/parking.md, *Let out by hand*), nothing hangs on it: no stay, no fee, and a door lets
        anyone out, one with no entry on record too. Kept inside, hard anti-passback refused her
        重复入场 at the door that never let her in, also once the board was back."""
        if not took:
            self._in_turn(deciding, lambda conn: self._not_through(conn, ev))

    def _not_through(self, conn: sqlite3.Connection, ev: AccessEvent) -> None:
        """`ev`'s entry on foot taken back (store not_through), audited by the gateway with why, in
        a transaction of its own after the decision's. Not stored, she stays inside on record, as
        the decision put her: said, with the fix, never raised into the lane's other work."""
        try:
            with transaction(conn):
                if not not_through(conn, ev):
                    return
                why = f"not let in at {ev.lane}: its lock did not open (no relay took the pulse)"
                audit(conn, ev.at, "gateway", "presence.not_through", ev.subject, f"{ev.holder_name}: {why}")
        except Exception as exc:
            cause = storage_cause(exc, self.data_dir)
            log.error(
                "person let in at %s through a lock that did not open is still inside on record event=%s "
                "subject=%s error=%s fix=%s",
                ev.lane,
                ev.event_id,
                ev.subject,
                exc,
                storage_fix(cause, self.data_dir),
                exc_info=cause == "fault",  # a bug: its traceback
            )
            return
        log.warning(
            "person not let in at %s: its lock did not open; the entry taken back subject=%s "
            "fix=check the door's relay board and its power; the next tap is decided afresh",
            ev.lane,
            ev.subject,
        )

    def opened_by_hand(self, lane: str) -> JoinedByHand:
        """An opening or a hold by hand of `lane` about to drive its relays (HandLanes): at a
        vehicle exit, a pulse of each passage there still being judged (ExitPassages.opened_by_hand),
        its outcome to tell once the relays answered, taken or not. Joined before the opening looks
        for the car it lets out: the car let out already, the decision's pulse, answered "not taken"
        meanwhile, would put it back while the guard's raised the arm; and the opening lets out no
        car held or refused there before it (JoinedByHand.since)."""
        rules = self.site.lanes[lane]
        if rules.direction != "exit" or rules.type != "vehicle":
            return JoinedByHand(_nothing_to_do)
        passages = self._exits.opened_by_hand(lane)
        told = [partial(self._passage_known, passage, None) for passage in passages]

        def tell_all(took: bool) -> None:
            for tell in told:
                tell(took)

        def arm_known(rose: Future[bool]) -> None:
            if not rose.result():  # its 一路平安 (HandLanes) hid the decision's fault
                plate = passages[-1].exit.plate
                self.boards.show(lane, fault_lines(plate, self.site.config.site.language, rules.type))
            tell_all(rose.result())

        def opened(took: bool) -> Future[bool]:
            # Where the lane's arm is watched, taken only once it rose (LaneInputs.rising), as the
            # decision's pulse is: taken on the relay's word, a guard's 开闸 at a dead barrier
            # controller booked out the car still sitting at the shut arm, the board greeting it
            # (Review 57n: a joined passage; Review 57p: the car held there, HandLanes). The
            # guard's own answer stays the relay's: he sees the arm.
            if not took:
                tell_all(took)
                return settled(took)
            [(rose, _)] = self._rising(lane, [(settled(True), True)])
            if told:
                rose.add_done_callback(arm_known)
            return rose

        def known(took: bool) -> None:  # a hold's: checked as an opening's only if it joined one
            if told:
                opened(took)

        since = max((passage.at for passage in passages), default=None)
        return JoinedByHand(known, since, opened)

    def _passage_known(
        self, passage: PassagePulses[AccessEvent], deciding: threading.Thread | None, took: bool
    ) -> None:
        """One of the passage's pulses known: none of them taken and none waiting, the car has not
        left (_not_let_out); this one taken, it drove out. `deciding`: the thread of the decision
        that pulsed (None for an opening by hand: the worker does the work)."""
        if passage.known(took):
            self._not_let_out(passage, deciding)
        elif took:
            self._in_turn(deciding, lambda conn: self._slot_handed_on(conn, passage.exit))

    def _not_let_out(self, passage: PassagePulses[AccessEvent], deciding: threading.Thread | None) -> None:
        """No relay of the lane took a pulse of the passage that was to let its car out (neither
        its exit's nor a repeat's). Where the exit's decision closed the car's stay, the car has
        not left: the stay is put back open (ParkingDesk.not_let_out), as an opening by hand no
        relay took lets no car out. In a transaction of its own after the decision's: at once on
        the thread that decided (it owns the connection, between transactions), or on the worker
        when a relay written later (a Modbus module) answers on its bus's thread."""
        self._in_turn(deciding, lambda conn: self._put_back(conn, passage))

    def _in_turn(self, deciding: threading.Thread | None, work: Callable[[sqlite3.Connection], None]) -> None:
        """`work` after a decision's transaction: at once on the thread that decided (it owns the
        connection, between transactions), or on the worker from a relay's bus thread."""
        if threading.current_thread() is deciding:
            work(self.conn)
        else:
            self._on_worker(work)

    def _slot_handed_on(self, conn: sqlite3.Connection, ev: AccessEvent) -> None:
        """A relay took a pulse of the passage the exit `ev` let its car out on: the car drove out.
        A car of the slot it left that came in before that was known was decided as the slot's
        second car (CarsLeaving): it is handed the slot now, as the exit hands it to one already
        inside, its billing stopped at its entry (HANDED_OVER_LATE). Not stored, it pays as the
        second car: said, never raised into the lane's other work."""
        try:
            slot = slot_left_to_hand_on(conn, ev.event_id, ev.at)
            if slot is not None:
                with transaction(conn):
                    handover(conn, slot, ev.at, "exit")
        except Exception as exc:
            log.error(
                "slot left by the car let out at %s not handed to the car of it that came in meanwhile "
                "event=%s error=%s fix=%s; that car pays as the slot's second car",
                ev.lane,
                ev.event_id,
                exc,
                storage_fix(storage_cause(exc, self.data_dir), self.data_dir),
            )

    def _put_back(self, conn: sqlite3.Connection, passage: PassagePulses[AccessEvent]) -> None:
        """The stay the passage's exit closed, open again (not_let_out), the repeats that joined it
        put back with it, and the decision forgotten as a passage (DecidedAgain.not_let_out),
        unless a repeat of it pulsed meanwhile (its outcome judges the passage then). Not stored,
        the car stays out on record: said, with the fix, never raised into the lane's other work
        (its listeners, the next decisions). The car is leaving (Gateway.stays_leaving) till the put-back
        has committed (PassagePulses.put_back), and where it could not be stored, till a repeat of
        the exit (the camera reading it at the shut arm) has it put back, its next passage at an
        exit begins or the gateway stops (ExitPassages.waiting): counted inside by the
        entrance and the figures, where it is. Let go before the transaction, a reader whose view
        began before its commit counted the car nowhere, and, not stored, the next stranger was let
        into the shared space it holds."""
        if not passage.not_left():
            return
        ev = passage.exit
        try:
            with transaction(conn):
                stay = self.parking.not_let_out(conn, ev, [again.event_id for again in passage.repeats])
            passage.put_back()
        except Exception as exc:
            cause = storage_cause(exc, self.data_dir)
            log.error(
                "car let out at %s on a barrier that did not open is still out on record "
                "event=%s plate=%s error=%s fix=%s; the car is inside: record it inside "
                "(docs/parking.md, Cars already inside) or let it out at the lane once its relay works",
                ev.lane,
                ev.event_id,
                ev.plate,
                exc,
                storage_fix(cause, self.data_dir),
                exc_info=cause == "fault",  # a bug: its traceback
            )
            return
        if stay is not None:
            self._forget(ev, passage.repeats)
