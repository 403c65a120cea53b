"""The car at an exit lane's barrier: the one held to pay that the lane shows, the one a guard's
opening by hand lets out, and a car back at an exit within the grace of an exit it settled."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from gateway.core import Billing, Decision, LaneRules, Presented, Reason
from gateway.parking.book import UNTIMED, Quote
from gateway.parking.desk_base import DeskBase
from gateway.parking.desk_checks import LONGEST_GRACE, fee_until, quote_json
from gateway.store.holds import PENDING_FOR, Held, holder_shown, holds_at_lane, refused_at_lane
from gateway.store.parking import Owed, owed
from gateway.timefmt import elapsed, from_db, later, to_db

# A car the exit's camera first reads (held or refused there) at least this long after a guard typed
# the car at the barrier, and still sees, has come up to the barrier: the typed car (which the
# camera cannot see) backed away meanwhile, its driver without the fee. One first read sooner is
# queued behind it as it pays (BarrierDesk._typed_last). No camera tells the two apart (a plate
# read behind a car with no plate is read as one at the barrier): a minute is about a guard's
# dealing with a car at the barrier, and a guard who sees the dialog name the other car types the
# one standing there again.
CAME_UP_AFTER = timedelta(minutes=1)

# The last exit a car settled (ParkingDesk.left_settled): paid for (its fee taken at the lane, or
# ahead at the booth: payments linked to that exit's charge), or a stay's exit that owed nothing (a
# temporary car out within its free minutes: its charge 0, nothing paid), let out there within the
# grace period before `:at`, no stay of its own begun since. A resident's exit writes no charge:
# never one. A free exit of a stay that began as a re-entry (closing another open stay of its
# subject: gateway/store/record.py, `reentry`, at the entry, never before that stay began) is
# not: two cars on one plate (a clone) made it, the other still about, and a free exit is no
# payment of that one's fee to let it out on. On the charges' time index: the last few minutes only.
# Looked for back to LONGEST_GRACE, each then judged by its own grace (ParkingDesk._within_its_grace).
_SETTLED_EXIT = """
SELECT a.event_id, a.at, a.lane, a.reason, a.billing, a.slot_id,
  (SELECT max(g.grace_s) FROM payments p JOIN payment_graces g ON g.payment_id = p.id
   WHERE p.charge_id = c.id) FROM charges c INDEXED BY charges_at
JOIN access_log a ON a.event_id = c.event_id
WHERE c.at > :since AND c.at <= :at AND c.subject = :subject AND c.kind IN ('exit', 'no_entry')
  AND c.voided_at IS NULL AND a.admitted = 1 AND a.direction = 'exit'
  AND (EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
       OR (c.kind = 'exit' AND c.amount_fen = 0 AND NOT EXISTS (
             SELECT 1 FROM stays r JOIN stays o ON o.subject = r.subject
             WHERE r.id = c.stay_id AND o.closed_by = 'reentry' AND o.exited_at >= r.entered_at
               AND o.exited_at = max(r.entered_at, o.entered_at))))
  AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.subject = c.subject AND s.entered_at > c.at)
ORDER BY c.at DESC, c.id DESC LIMIT 1
"""
# The exit a car with no entry record paid its day's fee for at a barrier that did not open, kept
# as put back with no stay (gateway/store/exits_put_back.py put_back), within a day of `:at` (the day it
# paid for), that it has not left on since: not let out by the guard's opening by hand on it or on
# a repeat of it (flag again: read again at the shut arm, its pulse taken by no relay either, kept
# put back too: store put_back), nor by a later exit of the same car (the car the record names, on
# the log's index of exits) whose barrier opened (not itself put back), no stay of its own begun
# since. The few exits put back are read, each with its charge on the charges' time index
# (written at the decision's moment).
_PAID_EXIT_WAITED_ON = """
SELECT a.event_id, a.at, a.lane, a.reason, a.billing, a.slot_id FROM exits_put_back x
JOIN access_log a ON a.event_id = x.event_id
JOIN charges c INDEXED BY charges_at ON c.at = a.at AND c.event_id = a.event_id
WHERE x.stay_id IS NULL AND a.at > :since AND a.at <= :at AND c.subject = :subject
  AND c.kind = 'no_entry' AND c.voided_at IS NULL
  AND EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM let_outs_by_hand o INDEXED BY let_outs_by_hand_at
                  JOIN exits_put_back h ON h.event_id = o.held_event AND h.stay_id IS NULL
                  JOIN access_log r ON r.event_id = h.event_id
                  WHERE o.at >= :since AND r.car = a.car AND r.id >= a.id)
  AND NOT EXISTS (SELECT 1 FROM access_log l INDEXED BY access_log_exits
                  WHERE l.car = a.car AND l.at > a.at AND l.at <= :at
                    AND l.admitted = 1 AND l.direction = 'exit' AND l.lane_type = 'vehicle'
                    AND NOT EXISTS (SELECT 1 FROM exits_put_back y WHERE y.event_id = l.event_id))
  AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.subject = c.subject AND s.entered_at > c.at)
ORDER BY a.at DESC, a.id DESC LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class SettledExit:
    """An exit a car settled (paid for, or owed nothing on) and was let out on
    (ParkingDesk.left_settled): its decision's record."""

    event_id: str
    lane: str
    at: datetime
    decision: Decision


class BarrierDesk(DeskBase):
    def left_settled(self, conn: sqlite3.Connection, subject: str, at: datetime) -> SettledExit | None:
        """The exit `subject` (a car not recorded inside) settled and was let out on less than the
        grace period (parking.grace_minutes) before `at`: paid for, its fee taken at the lane, or
        ahead at the booth (its payments linked to that exit's charge), also a day's fee for a car
        with no entry record; or a stay's exit that owed nothing (out within its free minutes, fee
        0). Its driver turned back under the raised arm (the car in front stalled, a passenger
        forgotten) and is at an exit again: that same passage (Gateway._turned_back), as the grace
        after paying promises (缴费后请在 15 分钟内离场). Decided afresh, it was a car with no entry
        record: refused (禁止通行 未登记), or asked a day's fee, the car that left free as much as
        the one that paid. A free exit has no payment to have kept a grace: it has the config's
        (parking.grace_minutes), the grace a payment taken at that moment would have been given,
        so a car that left free is let back out for as long as one that paid 5元 then. So is, later
        than that, a car with no entry record that paid its day's fee at a barrier that did not
        open and has not left on it (_PAID_EXIT_WAITED_ON): still at the shut arm once the relay
        works, or back at the barrier, within the day it paid for. Once an exit lets it out there
        (its barrier opened), it has left on it: read again later, it is a car with no entry record
        again. None for any other car."""
        args = {"since": to_db(later(at, -LONGEST_GRACE)), "at": to_db(at), "subject": subject}
        row = self._within_its_grace(conn.execute(_SETTLED_EXIT, args).fetchone(), at)
        if row is None:
            args["since"] = to_db(later(at, -UNTIMED))
            row = conn.execute(_PAID_EXIT_WAITED_ON, args).fetchone()
        if row is None:
            return None
        event_id, left_at, lane, reason, billing, slot_id = row[:6]
        decision = Decision(Reason(reason), Billing(billing) if billing else None, slot_id)
        return SettledExit(event_id, lane, from_db(left_at) or at, decision)

    def _within_its_grace(self, row: Any, at: datetime) -> Any:
        """The settled exit `row` if `at` is within its grace: the longer of the one its payment was
        given (its receipt's leave_by) and the config's now, as fee_end judges it (a free exit, no
        payment: the config's). With the config's
        alone, a grace lowered since held a driver who turned back within his receipt's time for a
        day's fee (30元 on top of the 9元 paid)."""
        if row is None:
            return None
        grace = max(self.rules.grace, timedelta(seconds=row[6] or 0))  # none kept: paid before 52
        left_at = from_db(row[1])
        return row if left_at is not None and at - left_at < grace else None

    def lane_quote(self, conn: sqlite3.Connection, lane_id: str, at: datetime) -> dict[str, Any] | None:
        """The car held at an exit lane for payment, and what it owes (held_car). A car held on the
        QR of a pass without a plate is named by that pass (`pass`: its id, holder and unit visited;
        `plate` null), one held on a resident's card that names no car by that resident
        (`resident`), never by the QR or card (holder_shown). `hold_ends_in_s`: in how many seconds
        the hold ends by itself, PENDING_FOR after the lane last decided the car (it backed away,
        unseen since): a guard's page asks again then, and takes its 收费放行 away."""
        found = self.held_car(conn, lane_id, at)
        if found is None:
            return None
        held, account = found
        shown = holder_shown(conn, held)
        decided = held.decided_at or held.at
        return {
            "lane": lane_id,
            **quote_json(account, held.plate, held.at, self.site.tz),
            "pass": shown if held.kind == "qr" else None,
            "resident": shown if held.kind == "card" else None,
            "hold_ends_in_s": _hold_ends_in_s(decided, at),
        }

    def held_car(self, conn: sqlite3.Connection, lane_id: str, at: datetime) -> tuple[Held, Owed] | None:
        """The car held at an exit lane for payment that the lane shows, and what it owes (as of when
        it was read there). Two cars held there at once (a queue, or a car that backed away from the
        barrier and the next one): the one a guard typed last, where the lane's camera watches
        (_typed_last); else the first held that the lane's camera still sees, usually the car at
        the barrier (one held earlier that came back behind it counts from its first hold: the
        guard checks the plate the dialog names); if it sees none of them (no camera, or a plate a
        guard typed), the last held."""
        lane = self._exit_lane(lane_id)
        held = self._shown(lane.id, holds_at_lane(conn, lane.id, at, self.site.lanes))
        return None if held is None else (held, self._account(conn, lane, held, at))

    def car_at_barrier(
        self,
        conn: sqlite3.Connection,
        lane_id: str,
        at: datetime,
        leaving: Collection[tuple[str, datetime]] = (),
        since: datetime | None = None,
    ) -> tuple[Held, Owed] | None:
        """The car a guard's single opening by hand of an exit lane at `at` lets out, and what it
        owes (let_out_by_hand): of the cars held there to pay and those the lane refused a moment
        ago (refused_at_lane: outside the lane's hours, the lane closed, the car blocked; or let
        through on record at its barrier that did not open, 道闸故障, its stay put back:
        not_let_out), the one at the barrier, which the guard opens for and which drives out. A
        hold does not beat a fresh refusal: a car held that backed away is still held for half an
        hour (PENDING_FOR), and the guard opening for the resident refused behind it let out that
        car on record instead.
        The one a guard typed last, where the lane's camera watches (_typed_last); else the first
        that the lane's camera still sees (in the order held, or first refused of those
        refused again and again: the car standing at the barrier, not the one refused behind it);
        if it sees none (no camera, or cars it did not read), the one decided last: the car held
        that the lane shows (held_car, so that the guard's "Take the fee" quote names the car an
        opening lets out) or the last refused, whichever the lane decided more recently. A refusal
        the lane's camera read is of a car at the barrier only while that camera still sees it
        (_still_there); the camera is asked about the text it read (`plate_read`: a misread plate a
        guard corrected since, a look-alike taken for a registered plate), the one it holds.
        `leaving`: the cars (hold key, and when their hold or refusal began: Held.car, Held.at) an
        earlier opening let out whose record waits in memory for storage (hand_lanes.py): gone
        through the barrier, still held on record. Picked again, the next opening let that car out
        once more, on its own record and reason, and the lane's display named its plate.
        `since`: when the lane let out a car whose pulse still waits (a Modbus module), the opening
        made for it (JoinedByHand): a car held or refused there before is not at the barrier (it
        backed away, or waits behind), so not this opening's car."""
        lane = self._exit_lane(lane_id)

        def there(car: Held) -> bool:
            return (car.car, car.at) not in leaving and (since is None or (car.decided_at or car.at) >= since)

        held = [h for h in holds_at_lane(conn, lane.id, at, self.site.lanes) if there(h)]
        refused = [
            r for r in refused_at_lane(conn, lane.id, at) if there(r) and self._still_there(lane.id, r)
        ]
        car = self._typed_last(lane.id, [*held, *refused])
        if car is None:
            seen = [h for h in [*held, *refused] if self._sees_car(lane.id, h)]
            if seen:
                car = min(seen, key=lambda h: h.at)  # the first held or refused of them
            else:
                car = max(held[-1:] + refused[-1:], key=lambda h: h.decided_at or h.at, default=None)
        return None if car is None else (car, self._account(conn, lane, car, at))

    def _still_there(self, lane: str, refused: Held) -> bool:
        """Whether a car refused at an exit a moment ago may still be at its barrier. Refused on its
        plate as the lane's camera read it, only while that camera still sees it: the car that
        backed away seconds after it was refused (the camera forgets a plate unread for 3 s) is not
        the one the guard opens for (a tricycle). Refused on a card or QR, or on a plate a guard
        typed (one the camera could not read), or at a lane with no plate camera: the camera cannot
        tell, and the refusal stands for REFUSED_JUST_NOW."""
        if not (refused.plate_read and self._watches(lane)):
            return True
        return self._sees(lane, refused.plate_read)

    def _sees_car(self, lane: str, car: Held) -> bool:
        """Whether the lane's camera sees the car held or refused there: by the text it read
        (`plate_read` of a refusal, or of a hold's last decision: a look-alike's own reading, the
        plate before a guard corrected it), else by the car's plate."""
        plate = car.plate_read or car.plate
        return plate is not None and self._sees(lane, plate)

    def _shown(self, lane: str, cars: list[Held]) -> Held | None:
        """Of the cars held at an exit lane (in the order held), the one at the barrier: the one a
        guard typed last (_typed_last); else the first that the lane's camera still sees; if it
        sees none of them, the last."""
        typed = self._typed_last(lane, cars)
        if typed is not None:
            return typed
        seen = [h for h in cars if self._sees_car(lane, h)]
        return seen[0] if seen else cars[-1] if cars else None

    def _typed_last(self, lane: str, cars: list[Held]) -> Held | None:
        """Of the cars held or refused at an exit lane whose camera watches it, the one whose last
        decision there was on a plate or ticket a guard typed (Held.typed), the latest typed: the
        guard typed the car at the barrier, which the camera could not read (a car with no plate
        on its ticket, a plate covered or on paper). The camera cannot tell about it: it keeps a
        typed text in mind for 3 s only (PlateReader.hold), and a car it reads behind it, or the
        same car's own plate read before the guard typed its ticket, was taken for the car at the
        barrier: its fee asked, the opening by hand booked to it. Until a car the camera still sees
        came up after it (_came_up): then the typed car backed away, and held for half an hour
        (PENDING_FOR) it took the fee and the opening from the car standing there, which left
        unpaid and stayed inside for good. None then, if no car there was typed, or at a lane with
        no camera watching (nothing is seen: the last held or decided is)."""
        typed = [h for h in cars if h.typed]
        if not typed or not self._watches(lane):
            return None
        car = max(typed, key=lambda h: h.decided_at or h.at)
        return None if any(self._came_up(lane, h, car) for h in cars) else car

    def _came_up(self, lane: str, car: Held, typed: Held) -> bool:
        """Whether `car`, held or refused at the exit `lane`, came up to its barrier after the guard
        typed `typed` there: read by the camera, which still sees it, its hold (or refusals in a row)
        begun CAME_UP_AFTER or more after that typing. One begun before it (the typed car's own
        plate, a car queued behind read already) or sooner after it is queued behind the typed car;
        one a guard typed is not read (the one typed last is the car at the barrier)."""
        if car.typed or elapsed(typed.decided_at or typed.at, car.at) < CAME_UP_AFTER:
            return False
        return self._sees_car(lane, car)

    def _account(self, conn: sqlite3.Connection, lane: LaneRules, held: Held, at: datetime) -> Owed:
        """What the car `held` at the exit `lane` owes at `at`: to the start of its hold (fee_until).
        Nothing for a car with no stay that is let out again on an exit it settled (left_settled: one
        that paid its day's fee at a barrier that did not open): asked it, its driver paid twice."""
        p = Presented(lane.id, held.kind, held.value, 1.0, held.at, "quote", vehicle_class=held.vehicle_class)
        subject, vclass, unregistered = self._who(conn, p, lane)
        until = fee_until(held, at)
        rules = self._rules(conn, at)
        account = owed(conn, rules, subject, until, vehicle_class=vclass, unregistered=unregistered)
        if account.stay is None and account.quote.due_fen > 0 and self.left_settled(conn, subject, at):
            return replace(account, quote=Quote(0, None, 0, 0), payment_ids=(), carried_ids=())
        return account


def _hold_ends_in_s(decided: datetime, at: datetime) -> float:
    """In how many seconds a hold last decided at `decided` ends by itself (PENDING_FOR after it),
    at most PENDING_FOR: a hold dated ahead of a clock set back is not said to last a month."""
    left = elapsed(at, later(decided, PENDING_FOR))
    return round(min(max(left, timedelta(0)), PENDING_FOR).total_seconds(), 1)
