"""The records of lanes moved by hand that carry more than the record (hand_lanes.py): a single
opening of a vehicle exit and the car it lets out, found as the record is first tried
(OpenedByHand); that car let out on record once a relay took the opening (LetOutByHand); a release
that takes the hold off record with it, and only the hold it ended (ReleasedByHand). Each can wait
in memory while storage takes no writes (hand_opens.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from gateway.parking.service import ParkingDesk
from gateway.runtime.hand_opens import LaneRecord, storage_failure
from gateway.store.database import transaction
from gateway.store.holds import Held
from gateway.store.lanes import forget_hold
from gateway.store.parking import Owed

T = TypeVar("T")


class OnWorkerNow(Protocol):
    """DecisionWorker.submit_or_run: on the decision worker, or at once when called on it."""

    def __call__(self, run: Callable[[sqlite3.Connection], T]) -> Future[T]: ...


Found = tuple[Held, Owed]  # the car held to pay that an exit lane shows, and its account
Gone = Callable[[str, Held, Owed, datetime], None]  # DecidedAgain.let_out: the lane, the car, when


@dataclass(frozen=True, slots=True)
class OpenedByHand(LaneRecord):
    """A single opening by hand of a vehicle exit: its record, and the car it lets out (the car
    held there to pay that the lane shows, or else the car it refused a moment ago, at the opening's
    time: ParkingDesk.car_at_barrier), found as the record is first tried, also when it then waits
    in memory for storage (hand_opens.py), so that the lane's displays name it. The car is let out
    on record only once a relay took the opening (LetOutByHand)."""

    desk: ParkingDesk = field(kw_only=True)
    # The cars earlier openings of the lane let out whose records still wait (HandLanes._leaving):
    # gone, though still held on record, so not this opening's car.
    leaving: Callable[[str], Collection[tuple[str, datetime]]] = field(kw_only=True)
    # The car (None: none held), found at the first try to write the record, for the try that takes:
    # by then its repeat let through as it left (DecidedAgain.let_out) may have ended its hold, and
    # the lane show the car behind it held.
    found: list[Found | None] = field(default_factory=list, kw_only=True)
    # When the car the lane let out whose pulse still waited was let out (JoinedByHand.since): the
    # car at the barrier; none held or refused before it is this opening's car.
    since: datetime | None = field(default=None, kw_only=True)

    @classmethod
    def of(
        cls,
        record: LaneRecord,
        desk: ParkingDesk,
        leaving: Callable[[str], Collection[tuple[str, datetime]]],
        since: datetime | None = None,
    ) -> OpenedByHand:
        fields = (record.at, record.lane, record.action, record.actor, record.reason, record.error)
        return cls(*fields, desk=desk, leaving=leaving, since=since)

    def write(
        self, conn: sqlite3.Connection, with_it: Callable[[sqlite3.Connection], None] | None = None
    ) -> int:
        self.find(conn)
        return LaneRecord.write(self, conn, with_it)  # slots: no zero-argument super()

    def find(self, conn: sqlite3.Connection) -> Found | None:
        if not self.found:
            # Found before any transaction: a full disk, or a database another process holds
            # locked, still reads, and the car leaves then too.
            leaving = self.leaving(self.lane)
            self.found.append(self.desk.car_at_barrier(conn, self.lane, self.at, leaving, self.since))
        return self.found[0]


@dataclass(frozen=True, slots=True)
class ReleasedByHand(LaneRecord):
    """A held lane let down by hand: its record, and the hold off record with it. Like a single
    opening, it goes ahead while storage takes no writes, this record waiting in memory
    (hand_opens.py): a lane held again at start on a full disk was held all night, its release
    answered 503, though letting a barrier down is the safe way. Written later, it ends only the
    hold it ended: a hold written after it, once the disk had room, stands. Which came first is
    the order they were made in (`no_hold_since`, HandLanes._no_hold_since), not their times: a
    clock NTP stepped back between a hold and its release dated the release before the hold, and
    the hold, kept on record, raised the barrier again at the next start."""

    # Whether no hold of the lane was written on record since this release was made.
    no_hold_since: Callable[[], bool] = field(kw_only=True)

    def write(
        self, conn: sqlite3.Connection, with_it: Callable[[sqlite3.Connection], None] | None = None
    ) -> int:
        def off_record(conn: sqlite3.Connection) -> None:
            if self.no_hold_since():
                forget_hold(conn, self.lane)
            if with_it is not None:
                with_it(conn)

        return LaneRecord.write(self, conn, off_record)  # slots: no zero-argument super()

    def if_never(self) -> str:
        """Lost at a stop on a full disk, the hold is still on record: the next start holds it."""
        return (
            f"lane {self.lane} is still on record as held open and is held again at the next start; "
            "release it again then"
        )


@dataclass(frozen=True, slots=True)
class LetOutByHand:
    """The car a single opening of a vehicle exit let out (OpenedByHand), on record once a relay of the
    lane took the opening: its stay closed, its hold ended, upstream told, at the opening's time
    (ParkingDesk.let_out_by_hand). Let out with the opening's record, before the relay moved, a
    car whose barrier stayed down was out on record, its hold ended: the guard could not take its
    fee, and read again it was a car with no entry record. Written in a transaction of its own,
    after the opening's record, or kept in memory while storage takes no writes (hand_opens.py).
    The car leaves whether or not its record can be written: `gone` is told of it once written, or
    left to wait, so that the lane's camera reading it again as it pulls away takes it for that
    passage (DecidedAgain.let_out); `over` once it no longer waits (written, or dropped), so that
    the lane's next opening no longer passes over it (HandLanes._leaving)."""

    opened: OpenedByHand
    gone: Gone
    over: Callable[[LetOutByHand], None]
    told: list[bool] = field(default_factory=list)  # `gone` told once: a list, the dataclass frozen

    @property
    def at(self) -> datetime:
        return self.opened.at

    @property
    def what(self) -> str:  # as the log lines name it while it waits
        return "lane let_out by hand"

    def details(self) -> str:
        """The opening's, and the car and stay it let out: lost at a stop, this line is the only
        record of a stay left open (the car counted inside, its space taken, billed from that
        entry when it is back), and the installer closes it by its id."""
        found = self.car()
        if found is None:
            return f"{self.opened.details()} car=(found once the opening is written)"
        held, account = found
        # Never a QR or card: either opens the gate to whoever holds it.
        if held.plate:
            car = f"plate={held.plate!r}"
        else:
            car = f"{held.holder_kind}={held.holder_id}" if held.holder_kind else f"held_on={held.kind}"
        return f"{self.opened.details()} {car} stay={account.stay.id if account.stay else None}"

    def if_never(self) -> str:
        """What the installer does if this record is never written: close the stay by hand."""
        found = self.car()
        if found is None:
            return "close the stay of the car let out then by hand (POST /api/parking/stays/{id}/close)"
        stay = found[1].stay
        if stay is None:  # held with no entry record: no stay left open
            return ""
        return f"close stay {stay.id} by hand (POST /api/parking/stays/{stay.id}/close)"

    def car(self) -> Found | None:
        """The car let out, once its opening's record was tried (found then)."""
        return self.opened.found[0] if self.opened.found else None

    @property
    def lane(self) -> str:
        return self.opened.lane

    @property
    def actor(self) -> str:
        return self.opened.actor

    @property
    def reason(self) -> str:
        return self.opened.reason

    def write(self, conn: sqlite3.Connection) -> None:
        found = self.opened.find(conn)
        let_out = False
        try:
            if found is not None:
                # Read again there: a fee taken on another tablet while the relay answered let the
                # car out on its own record, which remembers that passage (not told twice).
                with transaction(conn):
                    let_out = self.opened.desk.let_out_by_hand(
                        conn, self.lane, *found, self.actor, self.reason, self.at
                    )
        except sqlite3.Error as exc:
            if storage_failure(exc):  # the barrier opened all the same, its record waiting
                self.left()
            else:  # dropped, logged by the caller (HandLanes._let_out) or the queue (hand_opens.py)
                self.over(self)
            raise
        self.over(self)
        if let_out:
            self.left()

    def left(self) -> None:
        """`gone` told of the car, once (on the decision worker)."""
        found = self.car()
        if found is not None and not self.told:
            self.told.append(True)
            self.gone(self.lane, *found, self.at)
