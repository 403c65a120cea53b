"""A guard's correction of a plate the lane misread, written beside the access record it corrects.

The access record stays as it was decided (it is append-only, and it is what the lane did). The
correction says which plate the car really carried: the guard pages show it, `gateway
export-plates` labels the plate crop with it, and a temporary car's stay that was opened under
the misread plate moves onto the real one, with what it paid ahead at the booth, so that the car
is found when it leaves and pays for its stay, once; a car with no plate's stay, opened on its
ticket, moves so onto a registered plate too, under its holder, and off again gives up a shared
slot it was handed under it. An entry the misread took for a car already
inside (soft anti-passback: `already_inside`) closed that car's stay as a missed exit; moved off
the misread plate, it gives that stay back, open again, with any missed-exit charge it carried,
or charge it kept a booth payment against, undone;
corrected back to the plate it was read as (the camera was right after all), the entry takes that
stay back: closed again as the missed exit, its charge as it stood, what was paid at the booth on
it since going with the car onto the entry's stay; or, where that car has paid and left since
(the stay given back ended), the entry's own stay ends where that stay did, and nobody is left
inside on it (its car paid its whole stay there: the charge stays undone), what it paid ahead at
the booth kept against a settled charge of it, as an admin's close keeps it. A stay a correction
closed where the car it named had left opens again when the entry is corrected once more (it was
another car's, still parked), that close's charges put back, and moves as an open stay does. A
stay whose end a correction moves, on a day whose report is built already, has that report built
again (gateway/store/report_rebuilds.py). A car held at
an exit is decided again as it waits: the correction of one of its decisions there is its hold's,
written for each. Each correction is audited and goes upstream as a `plate_correction` record, one
per record.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime

from gateway.core import Holder
from gateway.core.model import NO_ENTRY_RECORD
from gateway.core.tickets import NO_PLATE
from gateway.errors import NotFound, Refused
from gateway.parking.fees import Tariff, tariff_of_stay
from gateway.parking.tariffs import known_since
from gateway.store.audit import audit, transaction
from gateway.store.config_seen import tariffs_first_seen, tariffs_gone, tariffs_seen
from gateway.store.flags_sql import has_flag_sql
from gateway.store.holds import hold_decisions
from gateway.store.lookup import plate_holder, stay_open
from gateway.store.outbox import enqueue
from gateway.store.parking import keep_paid_ahead, off_slots_not_theirs, stay_by_id, void_charge
from gateway.store.report_rebuilds import rebuild_reports_holding
from gateway.store.tickets import record_ticket
from gateway.timefmt import from_db, to_db

_LATEST = "SELECT plate FROM latest_plate_corrections WHERE event_id = ?"
_EVENT = "SELECT lane, kind, value, flags, at, reason FROM access_log WHERE event_id = ?"
_INSERT = "INSERT INTO plate_corrections (event_id, plate, previous, at, actor) VALUES (?, ?, ?, ?, ?)"
_ENTRY_STAY = "SELECT id, subject, billing FROM stays WHERE entry_event = ? AND exited_at IS NULL"
# The stay an entry closed as its car's missed exit: a `reentry` close names no exit event, so it is
# found by its plate and the entry's moment (a stay never ends before it began: gateway/store/record.py).
_CLOSED_AS_REENTRY = """
SELECT id, subject FROM stays
WHERE plate = :plate AND closed_by = 'reentry' AND exited_at >= :at AND exited_at = max(:at, entered_at)
ORDER BY id DESC LIMIT 1
"""
_REOPEN = "UPDATE stays SET exited_at = NULL, exit_event = NULL, closed_by = NULL WHERE id = ?"
# The charge that entry wrote for the stay it closed: the missed exit's fee carried to the car's
# next exit (policy.reentry = "charge", kind `reentry`), or what the stay paid ahead at the booth,
# kept against a settled charge of it ("void", kind `exit`: desk_base.py _missed_exit).
_MISSED_EXIT_CHARGE = """
SELECT id, kind, plate, settled_at FROM charges
WHERE at = ? AND event_id = ? AND stay_id = ? AND voided_at IS NULL
"""
# The stay an earlier correction of the entry gave back (_give_back), found as the entry is
# corrected back to the plate it was read as: nothing else reopens a stay closed as `reentry`, and it
# was the plate's last stay before the entry's own (the entry closed it and opened that one in one
# transaction: gateway/store/record.py). Taken back while it is its car's one open stay: the entry's
# stay then moves back onto the plate (_move_stay). Or ended since it was given back (no longer
# closed as the entry closed it): its car paid and left at an exit, or an admin closed it.
_GIVEN_BACK = """
SELECT g.id, g.exited_at IS NOT NULL FROM stays g
WHERE g.id = (SELECT max(s.id) FROM stays s WHERE s.plate = :plate AND s.id < :entry_stay)
  AND g.subject = :subject
  AND ((g.exited_at IS NULL AND NOT EXISTS (
          SELECT 1 FROM stays o WHERE o.subject = g.subject AND o.exited_at IS NULL AND o.id <> g.id))
       OR (g.exited_at IS NOT NULL
           AND NOT (g.closed_by IS 'reentry' AND g.exited_at = max(:at, g.entered_at))))
"""
# The entry's own stay, when the stay given back has ended since: the car was inside on it from
# the entry (a re-entry after all) and left when that stay ended, so it ends there too, moved onto
# the plate with its booth payments (_stay_to), closed by this correction. Moved back open, the car
# was inside again after it had left.
_CLOSE_WITH = """
UPDATE stays SET exited_at = max((SELECT g.exited_at FROM stays g WHERE g.id = :given_back), entered_at),
       exit_event = (SELECT g.exit_event FROM stays g WHERE g.id = :given_back), closed_by = 'correction'
WHERE id = :entry_stay
"""
_ENDED = "SELECT exited_at, exit_event FROM stays WHERE id = ?"
# Closed again as the entry closed it (record.py _CLOSE_STAY): at the entry, never before it began.
_CLOSE_AGAIN = """
UPDATE stays SET exited_at = max(?, entered_at), exit_event = NULL, closed_by = 'reentry' WHERE id = ?
"""
_VOIDED_CHARGE = """
SELECT id, kind, plate, amount_fen, settled_at FROM charges
WHERE at = ? AND event_id = ? AND stay_id = ? AND voided_at IS NOT NULL ORDER BY id DESC LIMIT 1
"""
# The void a restore ends is kept (schema migration 28): a report whose period ended while the
# charge was void left it out, and built again it still does (gateway/parking/report.py), and the
# report of the restore's period counts it then, or no report sent would.
_KEEP_VOID = """
INSERT INTO charges_restored (charge_id, voided_at, restored_at)
SELECT id, voided_at, ? FROM charges WHERE id = ?
"""
_RESTORE = "UPDATE charges SET voided_at = NULL WHERE id = ?"
# Its booth payments linked to it again as they were: linked when the entry wrote it
# (gateway/store/parking.py _link_payments at the charge's own time), unless linked to another since.
_TAKE_BACK_PAYMENTS = """
UPDATE payments SET charge_id = voided_charge_id, linked_at = ?, voided_charge_id = NULL
WHERE voided_charge_id = ? AND charge_id IS NULL
"""
# Less what of them paid the carried charges they settled as the entry wrote it (carried_fen:
# gateway/store/parking.py carry_reentry, keep_what_was_paid), as the entry sent it.
_PAID = "SELECT coalesce(sum(amount_fen - carried_fen), 0) FROM payments WHERE charge_id = ?"
# What was paid at the booth on the stay given back while it was open again (its quote asked its
# whole fee, the re-entry's hours in it), and not applied: the car was inside on the entry's stay
# all that time, so the money goes with it there, as the booth payments under the plate typed in
# between do (_move_stay), and the car, paid up, leaves within its grace period free, its exit
# charged what it paid (gateway/store/parking.py settle_exit). Left on the stay closed again, it
# stood against no charge of its own, and the receipt sent again was taken for another's.
_PAID_WHILE_GIVEN_BACK = """
UPDATE payments SET stay_id = :entry_stay WHERE stay_id = :given_back AND charge_id IS NULL
"""


@dataclass(frozen=True, slots=True)
class Correction:
    event_id: str
    lane: str
    read: str  # what the lane read
    previous: str  # the plate before this correction: the one decided on, or an earlier correction
    plate: str  # the plate the car carries, as the guard typed it
    holder: Holder | None  # who that plate is registered to, if anyone
    stay_moved: bool  # a temporary car's open stay now stands under the corrected plate
    given_back: GivenBack | None = None  # the stay of the car with the misread plate, open again
    taken_back: TakenBack | None = None  # that stay closed again: the entry corrected back to its plate
    hold: tuple[str, ...] = ()  # the other decisions of the hold at an exit it was one of, corrected with it


@dataclass(frozen=True, slots=True)
class GivenBack:
    """The stay a misread entry closed as a missed exit, open again: the car with the plate misread
    was parked all along. Its missed-exit charge, if the entry carried one or kept a booth payment
    against one, is undone (`voided`), or, paid already at the car's exit, kept (`paid`: the guard
    settles it with the driver)."""

    stay_id: int
    plate: str
    voided: int | None = None  # the charge id
    paid: int | None = None  # the charge id

    def said(self) -> str:
        """For the audit trail, after the correction's own words."""
        said = f", stay {self.stay_id} of {self.plate} open again"
        if self.voided is not None:
            said += f", its missed-exit charge {self.voided} undone"
        if self.paid is not None:
            said += f", its missed-exit charge {self.paid} was paid already: settle it with the driver"
        return said


@dataclass(frozen=True, slots=True)
class TakenBack:
    """The stay an earlier correction gave back, closed again as the entry's missed exit: the entry
    is corrected back to the plate it was read as, so the car it closed the stay of did come back
    in. The missed-exit charge that correction undid, if any, stands again (`restored`)."""

    stay_id: int
    plate: str
    restored: int | None = None  # the charge id
    # The entry's own stay, closed where the stay given back ended since (its car paid and left):
    # that stay is left as it ended, its missed-exit charge undone (the car paid its whole stay).
    entry_closed: int | None = None
    # The settled charge the entry's stay, so closed, keeps its booth payments against.
    kept: int | None = None

    def said(self) -> str:
        """For the audit trail, after the correction's own words."""
        if self.entry_closed is not None:
            said = (
                f", stay {self.stay_id} of {self.plate} had ended since:"
                f" the entry's stay {self.entry_closed} closed with it"
            )
            if self.kept is not None:
                said += f", what it paid ahead at the booth kept against charge {self.kept}"
            return said
        said = f", stay {self.stay_id} of {self.plate} closed again as its missed exit"
        if self.restored is not None:
            said += f", its missed-exit charge {self.restored} restored"
        return said


def lane_reading(value: str, flags: str) -> str:
    """What the lane read: the logged plate, unless a look-alike match noted its own reading."""
    return next((f[len("read:") :] for f in flags.split(",") if f.startswith("read:")), value)


def correct_plate(
    conn: sqlite3.Connection, event_id: str, plate: str, actor: str, at: datetime
) -> Correction:
    """Record that the car of plate event `event_id` carried `plate` (checked by the caller)."""
    with transaction(conn):
        row = conn.execute(_EVENT, (event_id,)).fetchone()
        if row is None:
            raise NotFound(
                f"no access record {event_id}",
                fix="correct a plate from the live page; records older than the retention period are gone",
            )
        lane, kind, value, flags, logged_at, reason = row
        if kind != "plate":
            raise Refused(
                f"record {event_id} is a {kind}, not a plate",
                fix="only plate readings can be corrected",
                code="not_a_plate_record",
            )
        read = lane_reading(value, flags)
        latest = conn.execute(_LATEST, (event_id,)).fetchone()
        # The record stands under the plate decided on (a look-alike's match, not the camera's own
        # reading), or its latest correction: a stranger taken for a resident is corrected to
        # what the camera read, which is then the plate on the car.
        previous = latest[0] if latest else value
        if plate == previous:
            raise Refused(
                f"{plate} is already the plate of this record",
                fix="type the plate as it is on the car (the reading is filled in: change what is wrong)",
                code="same_plate",
            )
        # The camera decides a car held at the barrier again every few seconds, and the guard
        # corrects the decision the live page shows: corrected alone, the others of its hold stood
        # under the misread plate, a second car shown held once this one had paid and gone.
        hold = hold_decisions(conn, event_id) if reason == "payment_due" else []
        holder = plate_holder(conn, plate)
        reentry = "already_inside" in flags
        # Corrected again after a correction closed the entry's stay where the car it named then had
        # left (_left_unrecorded, _take_back): that exit was that car's, not this one's. Left closed,
        # the entry's car, still parked, was refused at the exit with no entry record, and the stay
        # stood closed under the other plate. Open again (in a savepoint), it moves as an open stay
        # does, and may close at the new plate's own exit; where it cannot move (the plate a
        # registered car's, or inside already), the close stands, rolled back to as it was.
        reopened = _reopen_closed(conn, event_id, at)
        # Back to the plate the lane decided on, after a correction moved the entry's stay off it:
        # the entry was that car's after all, and the stay it closed a missed exit. Left open, the
        # stay given back kept the entry's stay from moving back, and its car was inside twice.
        taken_back = (
            _take_back(conn, event_id, plate, logged_at, at)
            if reentry and plate == value and holder is None
            else None
        )
        # On a ticket: decided on one, or given one by a correction to 无牌车 (a plate read off a car
        # that has none), its temporary stay moved onto it.
        on_ticket = NO_PLATE in flags.split(",")
        given_ticket = not on_ticket and record_ticket(conn, event_id) is not None
        stay_moved = _move_stay(conn, event_id, plate, holder, on_ticket=on_ticket, given_ticket=given_ticket)
        if reopened is not None:
            if stay_moved or (taken_back is not None and taken_back.entry_closed is not None):
                conn.execute("RELEASE reopen")
            else:
                conn.execute("ROLLBACK TO reopen")
                conn.execute("RELEASE reopen")
                reopened = taken_back = None
        # Moved off the car of a shared slot it was handed (一位多车), the stay is no car of that slot.
        slot_left = _off_a_slot_not_its(conn, event_id, at) if stay_moved else None
        # Moved onto a car seen leaving since with no entry on record: it left there.
        left = _left_unrecorded(conn, event_id, plate, at) if stay_moved else None
        # Moved off the misread plate, the entry was never that car's: the stay it closed was not
        # a missed exit. Left closed, that car, parked all along, was refused at the exit.
        given_back = (
            _give_back(conn, event_id, value, logged_at, at)
            if stay_moved and reentry and plate != value
            else None
        )
        # The days the stays' ends moved on: their reports, built already, are built again and sent.
        rebuild_reports_holding(
            conn, _ends_moved(conn, logged_at, reopened, taken_back, left, given_back), at
        )
        conn.execute(_INSERT, (event_id, plate, previous, to_db(at), actor))
        _tell_upstream(
            conn,
            at,
            (event_id, lane, read, previous, plate, actor),
            stay_moved=stay_moved,
            stay_reopened=given_back.stay_id if given_back else None,
            stay_closed_again=taken_back.stay_id if taken_back and not taken_back.entry_closed else None,
            entry_stay_closed=left.stay_id if left else taken_back.entry_closed if taken_back else None,
            hold_of=None,
        )
        others = tuple(
            e for e in hold if e != event_id and _correct_with(conn, e, event_id, plate, actor, at)
        )
        was = f", was {previous}" if previous != read else ""
        detail = f"{lane}: read {read}{was}, is {plate}" + (", stay moved" if stay_moved else "")
        detail += reopened.said() if reopened else ""
        detail += given_back.said() if given_back else ""
        detail += taken_back.said() if taken_back else ""
        detail += left.said() if left else ""
        detail += f", off slot {slot_left} it was handed, billed from its entry" if slot_left else ""
        detail += f", with {len(others)} more decisions of its hold" if others else ""
        audit(conn, at, actor, "plates.correct", event_id, detail)
    return Correction(
        event_id, lane, read, previous, plate, holder, stay_moved, given_back, taken_back, others
    )


def _correct_with(
    conn: sqlite3.Connection, event_id: str, corrected: str, plate: str, actor: str, at: datetime
) -> bool:
    """Another decision of the hold whose decision `corrected` the guard corrected to `plate`,
    corrected with it: a plate reading not under `plate` already. It moves no stay (an exit's does
    not), and goes upstream naming the decision the guard corrected (`hold_of`)."""
    lane, kind, value, flags, _, _ = conn.execute(_EVENT, (event_id,)).fetchone()
    latest = conn.execute(_LATEST, (event_id,)).fetchone()
    previous = latest[0] if latest else value
    if kind != "plate" or previous == plate:
        return False
    conn.execute(_INSERT, (event_id, plate, previous, to_db(at), actor))
    _tell_upstream(
        conn,
        at,
        (event_id, lane, lane_reading(value, flags), previous, plate, actor),
        stay_moved=False,
        stay_reopened=None,
        stay_closed_again=None,
        entry_stay_closed=None,
        hold_of=corrected,
    )
    return True


def _tell_upstream(
    conn: sqlite3.Connection, at: datetime, what: tuple[str, str, str, str, str, str], **stays: object
) -> None:
    """The `plate_correction` record of one decision corrected: `what` is its event id, lane, the
    lane's reading, the plate it stood under, the plate it stands under now and who corrected it."""
    event_id, lane, read, previous, plate, actor = what
    payload: dict[str, object] = {
        "at": at.isoformat(),
        "access_event_id": event_id,
        "lane": lane,
        "read": read,
        "previous": previous,
        "plate": plate,
        "actor": actor,
    }
    enqueue(conn, "plate_correction", payload | stays, at)


def _move_stay(
    conn: sqlite3.Connection,
    event_id: str,
    plate: str,
    holder: Holder | None,
    *,
    on_ticket: bool,
    given_ticket: bool = False,
) -> bool:
    """A stay opened under an unknown plate (a temporary car) moves onto the corrected plate when
    that plate is unknown too and not inside already. A registered car's stay is the decision
    core's business (its slot, its billing), so it is left as decided; so is any other.

    A stay on a ticket (`on_ticket`: a car with no plate, flag no_plate; or `given_ticket` by a
    correction to 无牌车, its stay a temporary car's: one the lane decided a registered car's, the
    misread plate a resident's, is left as decided) was never a registered car's, so it moves
    whoever holds the corrected plate (a resident's new car on paper plates, registered at the
    office before the guard corrects its entry), under that holder as a stranger's stay follows
    its plate registered while parked (schema migration 20's triggers): it leaves as it came in, a
    temporary car paying for its stay. Left on the ticket, the car left on its plate with no entry
    record, free, and its ticket stayed inside for good."""
    row = conn.execute(_ENTRY_STAY, (event_id,)).fetchone()
    if row is None:
        return False
    a_ticket_car = on_ticket or (given_ticket and row[2] == "temporary")
    if not (a_ticket_car or (holder is None and row[1].startswith("plate:"))):
        return False
    subject = _subject_of(conn, plate)
    if stay_open(conn, subject):
        return False
    _stay_to(conn, row[0], plate, subject)
    return True


# The entry's open stay on a slot that does not list its car, its handover undone: a handover stopped
# its billing (store/parking.py _HANDED_OVER), which a renewal's stop outlives (billed_until_cause),
# as a car decided again as its slot's second car is billed on (parking/inside.py _SECOND_CAR).
_HANDOVER_UNDONE = """
UPDATE stays SET handed_over_at = NULL,
    billed_until = CASE WHEN billed_until_cause IS 'renewal' THEN billed_until END
WHERE entry_event = ? AND exited_at IS NULL AND slot_id IS NOT NULL AND handed_over_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM slot_vehicles sv
                  WHERE sv.slot_id = stays.slot_id AND sv.vehicle_id IS stays.vehicle_id)
RETURNING id, plate, slot_id
"""


def _off_a_slot_not_its(conn: sqlite3.Connection, event_id: str, at: datetime) -> int | None:
    """The entry's stay, moved onto a car its slot does not list, off that slot: a ticket's stay
    corrected to a car of a shared slot by mistake, and handed the slot as that car when the slot's
    other car left (一位多车), then corrected back to its ticket or to another plate. Its handover
    is undone (billed from its entry again, as the temporary car it is, and counted no handover by
    the daily report), a `stay` record `handover_undone` tells the centre so, and the slot passes
    on as when the register takes a slot from a parked car (off_slots_not_theirs: to a car of it
    parked in the shared spaces, sent as its `handover`). Left on it, the stranger left free, and
    the slot's own car coming home found it taken and paid as its second car. Returns the slot."""
    row = conn.execute(_HANDOVER_UNDONE, (event_id,)).fetchone()
    if row is None:
        return None
    stay_id, plate, slot_id = row
    undone = {"at": at.isoformat(), "change": "handover_undone", "stay_id": stay_id, "plate": plate}
    undone |= {"slot_id": slot_id, "handed_over_at": None, "access_event_id": event_id}
    enqueue(conn, "stay", undone, at)
    off_slots_not_theirs(conn, at, "?", (slot_id,), cause="correction")
    return int(slot_id)


# The first exit that let the car of `plate` out after the stay's entry with no entry on record
# (flagged no_entry_record: its entry was the one misread), not corrected to another car since and
# not put back (its barrier did not open), on the log's index of exits. Its no_entry charge, if any.
_LEFT_UNRECORDED = f"""
SELECT a.event_id, a.at, c.id, c.plate FROM stays s CROSS JOIN access_log a INDEXED BY access_log_exits
LEFT JOIN charges c ON c.event_id = a.event_id AND c.stay_id IS NULL AND c.kind = 'no_entry'
    AND c.voided_at IS NULL
WHERE s.id = :stay AND a.car = :plate AND a.at > s.entered_at
  AND a.admitted = 1 AND a.direction = 'exit' AND a.lane_type = 'vehicle'
  AND {has_flag_sql("a.flags", NO_ENTRY_RECORD)}
  AND coalesce((SELECT l.plate FROM latest_plate_corrections l WHERE l.event_id = a.event_id), a.car) = :plate
  AND NOT EXISTS (SELECT 1 FROM exits_put_back x WHERE x.event_id = a.event_id)
ORDER BY a.at, a.id LIMIT 1
"""
# The first opening by hand (开闸) that let the car of `plate` out after the stay's entry, ending a
# refusal or hold with no entry record there (exit_without_entry = "guard", the default): it wrote
# no admitted exit, the opening names the decision it ended (let_outs_by_hand), as corrected, as
# parking/inside.py _LET_OUT_BY_HAND reads it. Openings by hand are few: read on their time index.
_LET_OUT_UNRECORDED = f"""
SELECT o.held_event, o.at, NULL, NULL
FROM stays s CROSS JOIN let_outs_by_hand o INDEXED BY let_outs_by_hand_at
JOIN access_log a ON a.event_id = o.held_event
WHERE s.id = :stay AND o.at > s.entered_at AND {has_flag_sql("a.flags", NO_ENTRY_RECORD)}
  AND coalesce((SELECT l.plate FROM latest_plate_corrections l WHERE l.event_id = a.event_id), a.car) = :plate
ORDER BY o.at, o.id LIMIT 1
"""
_CLOSE_AT_EXIT = """
UPDATE stays SET exited_at = max(:left, entered_at), exit_event = :event, closed_by = 'correction'
WHERE id = :stay
"""
# What was paid at that exit, back unlinked from its no_entry charge (void_charge), on the stay.
_PAID_AT_EXIT_TO = (
    "UPDATE payments SET stay_id = :stay WHERE voided_charge_id = :charge AND charge_id IS NULL"
)


@dataclass(frozen=True, slots=True)
class LeftUnrecorded:
    """The entry's stay, moved onto the corrected plate, closed at that car's exit with no entry
    on record since (it had left already): `charge` its charge of what it paid (None: nothing),
    `voided` the exit's no_entry charge that money stood against (None: it wrote none)."""

    stay_id: int
    exit_event: str
    charge: int | None
    voided: int | None

    def said(self) -> str:
        """For the audit trail, after the correction's own words."""
        said = f", stay {self.stay_id} closed at its exit with no entry record ({self.exit_event})"
        if self.voided is not None:
            said += f", that exit's charge {self.voided} undone"
        if self.charge is not None:
            said += f", what it paid kept against charge {self.charge} of the stay"
        return said


def _left_unrecorded(
    conn: sqlite3.Connection, event_id: str, plate: str, at: datetime
) -> LeftUnrecorded | None:
    """The entry's stay, moved onto `plate`, closed at the first exit of `plate`'s car with no entry
    on record after the entry (_LEFT_UNRECORDED), or the guard's opening by hand of its refusal or
    hold there (_LET_OUT_UNRECORDED), whichever came first: the car had left there. Left open, the car, gone,
    was counted inside, a space taken, and back days later it was `already_inside`, billed again
    for the days it was away. What it paid there (a day's fee, exit_without_entry = "charge") is
    the stay's charge, not a second one: that exit's no_entry charge is undone (sent upstream
    voided) and its payments, with any the stay paid ahead at the booth, kept against a settled
    charge of kind `exit` of the stay naming that exit (keep_paid_ahead), as the exit would have
    charged the stay had it been found. None where there is no such exit."""
    entry = conn.execute(_ENTRY_STAY, (event_id,)).fetchone()
    if entry is None:
        return None
    named = {"stay": entry[0], "plate": plate}
    found = (conn.execute(sql, named).fetchone() for sql in (_LEFT_UNRECORDED, _LET_OUT_UNRECORDED))
    rows = [r for r in found if r is not None]
    if not rows:
        return None
    row = min(rows, key=lambda r: str(r[1]))  # stored times (to_db) sort as they fall
    stay_id = int(entry[0])
    exit_event, left, charge_id, charge_plate = row
    conn.execute(_CLOSE_AT_EXIT, {"left": left, "event": exit_event, "stay": stay_id})
    if charge_id is not None:
        void_charge(conn, (charge_id, "no_entry", charge_plate, None), exit_event, at)
        conn.execute(_PAID_AT_EXIT_TO, {"stay": stay_id, "charge": charge_id})
    # Dated now: the report of the day the no_entry charge was counted takes it off (冲红, docs/
    # parking.md *Daily report*) and counts this one. Dated as the charge it stands for (Review
    # 57j), a report of that day rebuilt counted both, and the one sent neither.
    kept = _keep_paid_ahead(conn, stay_id, at)
    _tell_closed(conn, stay_id, event_id, at, kept, charge_id)
    return LeftUnrecorded(stay_id, exit_event, kept, charge_id)


# The stay a correction closed, as it now stands, and whether the decision it ended at is one a
# guard's opening by hand let out (let_outs_by_hand) rather than an exit that let the car through.
_CLOSED = """
SELECT s.plate, s.class, s.exited_at, s.exit_event,
       EXISTS (SELECT 1 FROM let_outs_by_hand o WHERE o.held_event = s.exit_event)
FROM stays s WHERE s.id = ?
"""


def _tell_closed(
    conn: sqlite3.Connection,
    stay_id: int,
    event_id: str,
    at: datetime,
    charge_id: int | None,
    voided: int | None = None,
) -> None:
    """The `stay` record `closed_by_correction` of the stay of the entry `event_id`, closed by its
    correction where its car had left: when (`exited_at`, in the correction's zone: the site's),
    at which decision (`exit_event_id`: an exit that let it through, or the refusal or hold a
    guard's opening by hand let out, `by_hand`; null where an admin's close ended it), the settled
    charge of what it paid (`charge_id`) and the exit's no_entry charge undone (`voided_charge_id`).
    The plate_correction names the stay only (`entry_stay_closed`): the centre could not say when
    the car left, how long it stayed or at which decision, as closed_by_admin and closed_by_hand
    say them."""
    plate, vclass, exited_at, exit_event, by_hand = conn.execute(_CLOSED, (stay_id,)).fetchone()
    ended = from_db(exited_at) or at
    closed = {"at": at.isoformat(), "change": "closed_by_correction", "stay_id": stay_id, "plate": plate}
    closed |= {"class": vclass, "exited_at": ended.astimezone(at.tzinfo).isoformat()}
    closed |= {"exit_event_id": exit_event, "by_hand": bool(by_hand), "charge_id": charge_id}
    closed |= {"voided_charge_id": voided, "access_event_id": event_id}
    enqueue(conn, "stay", closed, at)


# A stay moved onto another plate takes with it what it paid at the booth and has not yet had
# applied: the exit finds a car's payments by its subject (gateway/store/parking.py _PAYMENTS), so
# left under the misread plate, the car paid up was asked the whole fee again and the money stood
# for ever as paid ahead by a car never seen leaving. The payment keeps the plate it was taken
# under, as its receipt and its `payment` record say. An open stay has no charge of its own yet
# (one is written as it closes), and the charges its misread plate still owes are that plate's car's.
# It names the plate's vehicle, if any, as migration 20's triggers name it (a temporary stay has no
# period of its own to keep).
_STAY_TO = """
UPDATE stays SET subject = :subject, plate = :plate,
       vehicle_id = (SELECT c.vehicle_id FROM credentials c WHERE c.kind = 'plate' AND c.value = :plate)
WHERE id = :stay
"""
_PAYMENTS_TO = "UPDATE payments SET subject = :subject WHERE stay_id = :stay AND charge_id IS NULL"
_SUBJECT_OF = "SELECT subject FROM plate_subjects WHERE plate = ?"


def _subject_of(conn: sqlite3.Connection, plate: str) -> str:
    """Whose a stay under `plate` is: its holder's (plate_subjects), or the plate's own."""
    row = conn.execute(_SUBJECT_OF, (plate,)).fetchone()
    return str(row[0]) if row else f"plate:{plate}"


def _stay_to(conn: sqlite3.Connection, stay_id: int, plate: str, subject: str | None = None) -> None:
    """The car's stay `stay_id`, with its booth payments not yet applied, under `plate`: the
    unregistered plate's own (`subject` None), or its holder's."""
    moved = {"subject": subject or f"plate:{plate}", "plate": plate, "stay": stay_id}
    conn.execute(_STAY_TO, moved)
    conn.execute(_PAYMENTS_TO, moved)


def _give_back(
    conn: sqlite3.Connection, event_id: str, misread: str, logged_at: str, at: datetime
) -> GivenBack | None:
    """The stay the entry `event_id` closed as a missed exit of the car with the `misread` plate,
    open again, unless that plate has a stay open now; the charge the entry wrote for it, if any,
    undone (the booth payments it took in go back to the stay) and sent upstream as voided: the
    missed-exit charge it carried, unless paid already at the car's exit, or the settled one it
    kept a booth payment against."""
    row = conn.execute(_CLOSED_AS_REENTRY, {"plate": misread, "at": logged_at}).fetchone()
    if row is None or stay_open(conn, row[1]):
        return None
    stay_id = row[0]
    conn.execute(_REOPEN, (stay_id,))
    charge = conn.execute(_MISSED_EXIT_CHARGE, (logged_at, event_id, stay_id)).fetchone()
    if charge is None:
        return GivenBack(stay_id, misread)
    charge_id, kind, charge_plate, settled_at = charge
    if kind == "reentry" and settled_at is not None:  # paid at the car's exit since
        return GivenBack(stay_id, misread, paid=charge_id)
    # A kept booth payment's charge is settled as it is written; left, the stay open again had a
    # settled charge upstream, and its car, paid up, was asked the money again at its exit.
    void_charge(conn, (charge_id, kind, charge_plate, stay_id), event_id, at)
    return GivenBack(stay_id, misread, voided=charge_id)


def _keep_paid_ahead(conn: sqlite3.Connection, entry_stay: int, at: datetime) -> int | None:
    """The entry's stay, closed where the stay given back ended: what it paid ahead at the booth
    (under the plate typed in between, moved with it) kept against a settled charge of kind `exit`
    of what was paid, naming the exit that ended it and the tariff version the entry's stay pays,
    as an admin's close keeps it (there is no refund). Left unlinked, the daily report counted that
    money for ever as paid ahead by a car not seen leaving, though the car's every stay was closed,
    and the centre had a payment for a stay that never had a charge."""
    stay = stay_by_id(conn, entry_stay)
    if stay is None:
        return None
    exited_at, exit_event = conn.execute(_ENDED, (entry_stay,)).fetchone()
    version = _version_of_stay(conn, stay.entered_at, at) or ""
    return keep_paid_ahead(conn, stay, from_db(exited_at) or at, version, exit_event, at)


def _version_of_stay(conn: sqlite3.Connection, entered: datetime, at: datetime) -> str | None:
    """The tariff version a stay that began at `entered` pays (fees.tariff_of_stay), stamped on its
    charge as every charge is (docs/parking.md, *Fees*). A correction has the store and no site
    config: the config's versions are those its starts kept (config_seen: each seen, less those a
    start found gone since), by their first day as first seen, each known from when it was first
    seen, as the fees read them (ParkingDesk.tariffs). Taken from the stay given back's charge
    instead, the charge named another stay's version, or none ("") where that stay had none.
    None for a site with no tariff."""
    seen = tariffs_seen(conn)
    gone = tariffs_gone(conn)
    first_days = {
        version: date.fromisoformat(json.loads(value)["from"])
        for version, (value, _) in seen.items()
        if version not in gone
    }
    in_order = sorted(first_days, key=lambda version: (first_days[version], seen[version][1]))
    every = tuple(Tariff(version, first_days[version]) for version in in_order)
    local = entered.astimezone(at.tzinfo or UTC)  # the correction's time is the site's (Gateway.now)
    priced = tariff_of_stay(known_since(every, tariffs_first_seen(conn, at)), local)
    return priced[0].version if priced else None


def _take_back(
    conn: sqlite3.Connection, event_id: str, plate: str, logged_at: str, at: datetime
) -> TakenBack | None:
    """The stay of `plate` that an earlier correction of the entry `event_id` gave back (the entry
    read as `plate`, moved off it), closed again as the entry closed it, when the entry's stay is
    to move back onto `plate`; the missed-exit charge that correction undid, if any, restored with
    the booth payments it took in, and sent upstream as restored (its void kept for the reports);
    the booth payments made on it while it was open again, onto the entry's stay. Ended since (its
    car paid and left), that stay is left as it ended, and the entry's own stay, moved onto
    `plate`, ends with it, what it paid ahead at the booth kept (_keep_paid_ahead)."""
    entry = conn.execute(_ENTRY_STAY, (event_id,)).fetchone()
    if entry is None or not entry[1].startswith("plate:") or entry[1] == f"plate:{plate}":
        return None
    params = {"plate": plate, "entry_stay": entry[0], "subject": f"plate:{plate}", "at": logged_at}
    row = conn.execute(_GIVEN_BACK, params).fetchone()
    if row is None:
        return None
    stay_id, ended = row
    if ended:
        _stay_to(conn, entry[0], plate)
        conn.execute(_CLOSE_WITH, {**params, "given_back": stay_id})
        kept = _keep_paid_ahead(conn, entry[0], at)
        _tell_closed(conn, entry[0], event_id, at, kept)
        return TakenBack(stay_id, plate, entry_closed=entry[0], kept=kept)
    conn.execute(_CLOSE_AGAIN, (logged_at, stay_id))
    charge = conn.execute(_VOIDED_CHARGE, (logged_at, event_id, stay_id)).fetchone()
    if charge is None:
        conn.execute(_PAID_WHILE_GIVEN_BACK, {"entry_stay": entry[0], "given_back": stay_id})
        return TakenBack(stay_id, plate)
    charge_id = charge[0]
    conn.execute(_KEEP_VOID, (to_db(at), charge_id))
    conn.execute(_RESTORE, (charge_id,))
    conn.execute(_TAKE_BACK_PAYMENTS, (logged_at, charge_id))
    # Once the payments the charge took in are linked to it again: the rest were paid since.
    conn.execute(_PAID_WHILE_GIVEN_BACK, {"entry_stay": entry[0], "given_back": stay_id})
    _tell_restored(conn, charge, stay_id, event_id, at)
    return TakenBack(stay_id, plate, restored=charge_id)


def _tell_restored(
    conn: sqlite3.Connection,
    charge: tuple[int, str, str | None, int, str | None],
    stay_id: int | None,
    event_id: str,
    at: datetime,
) -> None:
    """The `charge` record `restored` of the charge (id, kind, plate, amount, settled_at) a
    correction of the entry `event_id` made stand again, its payments linked to it again."""
    charge_id, kind, charge_plate, amount, settled_at = charge
    paid = conn.execute(_PAID, (charge_id,)).fetchone()[0]
    settled = settled_at is not None
    # As the entry sent it, after the void: a centre keeping each charge's newest record owes it again.
    restored = {"charge_id": charge_id, "kind": kind, "plate": charge_plate, "stay_id": stay_id}
    money = {"amount_fen": amount, "paid_fen": paid, "owed_fen": 0 if settled else amount - paid}
    enqueue(
        conn,
        "charge",
        {
            "at": at.isoformat(),
            "change": "restored",
            **restored,
            **money,
            "settled": settled,
            "access_event_id": event_id,
        },
        at,
    )


# The entry's stay an earlier correction of it closed (closed_by 'correction': _left_unrecorded at
# its car's exit with no entry record, or _take_back where the stay given back ended), with the lane
# of the decision it ended at.
_CLOSED_BY_CORRECTION = """
SELECT s.id, s.plate, s.class, s.slot_id, s.exited_at, s.exit_event,
       (SELECT a.lane FROM access_log a WHERE a.event_id = s.exit_event)
FROM stays s WHERE s.entry_event = ? AND s.closed_by = 'correction' AND s.exited_at IS NOT NULL
"""
# The settled charge that close kept what the stay paid against (_keep_paid_ahead): an open stay
# has no charge of its own, so the stay's one standing `exit` charge is that close's.
_KEPT_BY_CLOSE = (
    "SELECT id, kind, plate FROM charges WHERE stay_id = ? AND kind = 'exit' AND voided_at IS NULL"
)
# The no_entry charge of the exit it closed at, voided by that correction (its money in the kept one).
_VOIDED_BY_CLOSE = """
SELECT c.id, c.kind, c.plate, c.amount_fen, c.settled_at, c.at FROM charges c
WHERE c.event_id = :exit AND c.kind = 'no_entry' AND c.stay_id IS NULL AND c.voided_at IS NOT NULL
  AND c.voided_at IN (SELECT p.at FROM plate_corrections p WHERE p.event_id = :entry)
"""
# Its payments, made at that exit, moved onto the stay as the charge was voided (_PAID_AT_EXIT_TO)
# and kept against the close's charge: linked to the no_entry charge again, with no stay, as paid.
_BACK_TO_NO_ENTRY = """
UPDATE payments SET charge_id = :charge, voided_charge_id = NULL, stay_id = NULL, linked_at = :linked
WHERE stay_id = :stay AND voided_charge_id = :charge
"""


@dataclass(frozen=True, slots=True)
class Reopened:
    """The entry's stay an earlier correction of it closed where the car it named then had left,
    open again: that exit was that car's. `voided` the charge that close kept what the stay paid
    against, undone; `restored` that exit's no_entry charge the close had undone, standing again."""

    stay_id: int
    plate: str
    exited_at: str  # where the close had ended it, as stored
    voided: int | None = None
    restored: int | None = None

    def said(self) -> str:
        """For the audit trail, after the correction's own words."""
        said = f", stay {self.stay_id} closed at {self.plate}'s exit by the correction before open again"
        if self.voided is not None:
            said += f", its charge {self.voided} undone"
        if self.restored is not None:
            said += f", that exit's charge {self.restored} restored"
        return said


def _reopen_closed(conn: sqlite3.Connection, event_id: str, at: datetime) -> Reopened | None:
    """The entry's stay an earlier correction of it closed (_CLOSED_BY_CORRECTION), open again,
    after a SAVEPOINT `reopen` the caller releases or rolls back to (the stay could not move): that
    close's charges put back as they were before it, its kept charge (of what the stay paid)
    undone and sent `voided`, what was paid at that exit linked to the exit's no_entry charge again,
    sent `restored` (its void kept for the reports, as _take_back keeps one), and a `stay` record
    `reopened` (reason `correction`). None, no savepoint, where there is no such stay."""
    row = conn.execute(_CLOSED_BY_CORRECTION, (event_id,)).fetchone()
    if row is None:
        return None
    stay_id, plate, vclass, slot_id, exited_at, exit_event, exit_lane = row
    conn.execute("SAVEPOINT reopen")
    kept = conn.execute(_KEPT_BY_CLOSE, (stay_id,)).fetchone()
    no_entry = conn.execute(_VOIDED_BY_CLOSE, {"exit": exit_event, "entry": event_id}).fetchone()
    if no_entry is not None:
        back = {"charge": no_entry[0], "linked": no_entry[5], "stay": stay_id}
        conn.execute(_BACK_TO_NO_ENTRY, back)
    if kept is not None:
        void_charge(conn, (kept[0], kept[1], kept[2], stay_id), event_id, at)
    if no_entry is not None:
        conn.execute(_KEEP_VOID, (to_db(at), no_entry[0]))
        conn.execute(_RESTORE, (no_entry[0],))
        _tell_restored(conn, no_entry[:5], None, event_id, at)
    conn.execute(_REOPEN, (stay_id,))
    voided = kept[0] if kept else None
    said = {"at": at.isoformat(), "change": "reopened", "stay_id": stay_id, "plate": plate, "class": vclass}
    said |= {"slot_id": slot_id, "lane": exit_lane, "reason": "correction", "charge_id": voided}
    said |= {"restored_charge_id": no_entry[0] if no_entry else None, "access_event_id": event_id}
    enqueue(conn, "stay", said, at)
    return Reopened(stay_id, plate, exited_at, voided, no_entry[0] if no_entry else None)


def _ends_moved(
    conn: sqlite3.Connection,
    logged_at: str,
    reopened: Reopened | None,
    taken_back: TakenBack | None,
    left: LeftUnrecorded | None,
    given_back: GivenBack | None,
) -> list[datetime]:
    """Where the correction moved stays' ends from or to: the entry's stay's close undone, or made at
    its car's exit or where the stay given back ended; a missed exit at the entry (`logged_at`,
    never before its stay began: the entry's day) given back, or closed again."""
    ends = [reopened.exited_at] if reopened else []
    closed = left.stay_id if left else taken_back.entry_closed if taken_back else None
    if closed is not None:
        ends.append(conn.execute(_ENDED, (closed,)).fetchone()[0])
    if given_back is not None or (taken_back is not None and taken_back.entry_closed is None):
        ends.append(logged_at)
    return [datetime.fromisoformat(end) for end in ends if end]
