"""Recording a decision: the access log row, the outbox row and the stay change commit together.

The runtime commits several decisions in one transaction when they queue up (group commit): one
disk flush then covers them all, and none of their gates opens before it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from gateway.core.model import BUTTON, PASS_HOLDERS, is_passage
from gateway.events import AccessEvent
from gateway.store.database import transaction
from gateway.store.holds import car_of
from gateway.store.lookup import CHECKED_OUT, plate_of_pass
from gateway.store.outbox import enqueue
from gateway.timefmt import to_db

_LOG = """
INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
                        billing, flags, holder_kind, holder_id, vehicle_id, slot_id, snapshot, class,
                        direction, lane_type, car)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# A stay never ends before it began: an exit dated before the entry is a clock behind it (a Pi
# rebooted on fake-hwclock's stale time; the access log keeps the time the gate recorded).
_CLOSE_STAY = """
UPDATE stays SET exited_at = max(?, entered_at), exit_event = ?, closed_by = ?
WHERE subject = ? AND exited_at IS NULL
"""
_OPEN_STAY = """
INSERT INTO stays (subject, plate, vehicle_id, class, zone, slot_id, billing, entered_at, entry_event)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# A passage on foot. `people` counts those inside on the subject while `inside` is 1: a person is
# 1, a pass's party one more for each who walks in on its QR, up to its people count (人数, an
# entry past it is one of them come back: already_inside), one less for each who walks out. Checked
# out at the booth (gone_out), it keeps how many of them are still to walk out through the exit
# door, each a plain exit (lookup.py CHECKED_OUT), the pass seen as checked out till the last.
# An entry never lowers the count: a pass edited to fewer people while more are inside (the
# centre's delta) keeps those inside counted, and each walks out as an exit (review 60o).
_PRESENCE_IN = """
INSERT INTO presence (subject, inside, lane, at, people) VALUES (:subject, 1, :lane, :at, 1)
ON CONFLICT (subject) DO UPDATE SET inside = 1, lane = excluded.lane, at = excluded.at,
    people = CASE WHEN presence.inside = 1
        THEN max(presence.people, min(presence.people + 1, :party)) ELSE 1 END
"""
_STILL_CHECKED_OUT = f"presence.inside = 0 AND presence.lane = '{CHECKED_OUT}' AND presence.people > 1"
_PRESENCE_OUT = f"""
INSERT INTO presence (subject, inside, lane, at, people) VALUES (:subject, 0, :lane, :at, 1)
ON CONFLICT (subject) DO UPDATE SET
    inside = presence.inside = 1 AND presence.people > 1,
    people = max(presence.people - 1, 1),
    lane = CASE WHEN {_STILL_CHECKED_OUT} THEN presence.lane ELSE excluded.lane END,
    at = CASE WHEN {_STILL_CHECKED_OUT} THEN presence.at ELSE excluded.at END
"""
# The people count of the pass a passage on foot was on (1: a resident, or none found); a pass
# with a plate is the people in its car, on foot its holder alone (lookup.py _pass).
_PARTY = """SELECT CASE WHEN coalesce(plate, '') = '' THEN passengers ELSE 1 END
FROM passes WHERE id = ? AND kind = ?"""
_GONE = "UPDATE presence SET inside = 0, lane = ?, at = ? WHERE subject = ? AND inside = 1"
# An entry on foot taken back (not_through), only while the subject's presence is still the one it
# wrote (its lane and time): one moved since by a later passage stands. One fewer inside (out, with
# none left on the subject).
_NOT_IN = """UPDATE presence SET inside = people > 1, people = max(people - 1, 1)
WHERE subject = :subject AND inside = 1 AND lane = :lane AND at = :at"""
# What a stranger's plate has open, with the car when it turns out to be a pass's: its stay, the
# booth payments not yet applied and the charges still owed (as schema migration 17 moves a pass's).
_STRANGERS_OPEN = (
    ("payments", "charge_id IS NULL"),
    ("charges", "settled_at IS NULL"),
    ("stays", "exited_at IS NULL"),
)
# The plate the camera read on the car its pass's QR let in: on its stay, which carries none (a pass
# without a plate) or the plate registered with the pass, a car that never came (_plate_of_car).
_PLATE_ON_STAY = """
UPDATE stays SET plate = :plate WHERE subject = :car AND exited_at IS NULL AND (plate IS NULL OR plate = (
    SELECT nullif(p.plate, '') FROM passes p
    WHERE p.id = CAST(substr(:car, instr(:car, ':') + 1) AS INTEGER) AND :car = p.kind || ':' || p.id))
"""

# A pass's car listed inside by the plate its stay carries (read by the camera, or the pass's own),
# and the entry that opened that stay.
_PASS_CAR_LISTED = """
SELECT plate, entry_event FROM stays WHERE subject = ? AND exited_at IS NULL AND plate IS NOT NULL
ORDER BY id DESC LIMIT 1
"""


def record(conn: sqlite3.Connection, ev: AccessEvent, direction: str, lane_type: str) -> None:
    """One transaction: when it returns, the decision is on disk; if it raises, nothing is."""
    with transaction(conn):
        write_event(conn, ev, direction, lane_type)


def write_event(conn: sqlite3.Connection, ev: AccessEvent, direction: str, lane_type: str) -> None:
    """The log row, the outbox row and the stay change; the caller owns the transaction."""
    at = to_db(ev.at)
    # The car as a hold at an exit is keyed, as the register names it now: struck off or withdrawn
    # later, it was still that car's hold (store/holds.py car_held_sql). A car held on a plate
    # misread again as it waits, after the guard corrected its hold there: the corrected car, held
    # again or let out (its hold ends), as the decision names it (ParkingDesk.as_corrected: its
    # subject, the stay it leaves on, is that car's; its value the plate the lane read).
    held_at = ev.lane if direction == "exit" else None
    car = car_of(
        conn, ev.kind, ev.value, ev.holder_kind, ev.holder_id, ev.vehicle_id, lane_type, held_at, ev.at
    )
    conn.execute(
        _LOG,
        (
            ev.event_id,
            at,
            ev.lane,
            ev.device,
            ev.kind,
            ev.value,
            ev.confidence,
            int(ev.admitted),
            ev.reason,
            ev.billing,
            ",".join(ev.flags),
            ev.holder_kind,
            ev.holder_id,
            ev.vehicle_id,
            ev.slot_id,
            ev.snapshot,
            ev.vehicle_class if lane_type == "vehicle" else None,
            # The lane as configured at this decision: the daily report counts the passage by them
            # after the lane is renamed or removed in the site config.
            direction,
            lane_type,
            car,
        ),
    )
    enqueue(conn, "access", _sent(conn, ev), ev.at, ev.event_id)
    # A car decided again while still at the lane opened the gate once more: its passage was
    # recorded by the first decision, so no stay or presence changes.
    if ev.admitted and is_passage(ev.flags):
        _move(conn, ev, at, direction, lane_type)


def _sent(conn: sqlite3.Connection, ev: AccessEvent) -> dict[str, Any]:
    """`ev`'s access record for the centre. A pass's QR at a vehicle lane names the car registered
    with the pass by its plate, the plate its stay is recorded on (_plate_of_car): only a pass
    without a plate goes up with `vehicle.plate` null, as a card that names no car (docs/mqtt.md).
    Before, every pass's QR went up so, and the centre could not tell which car came in."""
    sent = ev.upstream()
    if sent["vehicle"] is not None and sent["vehicle"]["plate"] is None:
        sent["vehicle"]["plate"] = _plate_of_car(conn, ev)
    return sent


def _move(conn: sqlite3.Connection, ev: AccessEvent, at: str, direction: str, lane_type: str) -> None:
    if ev.kind == BUTTON:  # a door's exit button: someone went out, nobody known
        return
    if lane_type == "pedestrian":
        moved = {"subject": ev.subject, "lane": ev.lane, "at": at}
        if direction == "entrance":
            conn.execute(_PRESENCE_IN, {**moved, "party": _party(conn, ev)})
        else:
            conn.execute(_PRESENCE_OUT, moved)
        return
    if direction == "exit":
        conn.execute(_CLOSE_STAY, (at, ev.event_id, "exit", ev.subject))
        return
    if qr_over_listed_car(conn, ev):
        return
    # An entry while the car is still recorded inside means its exit was missed: close that stay.
    conn.execute(_CLOSE_STAY, (at, None, "reentry", ev.subject))
    conn.execute(
        _OPEN_STAY,
        (
            ev.subject,
            _plate_of_car(conn, ev),
            ev.vehicle_id,
            ev.vehicle_class,
            ev.zone,
            ev.slot_id,
            ev.billing,
            at,
            ev.event_id,
        ),
    )


def _party(conn: sqlite3.Connection, ev: AccessEvent) -> int:
    """How many people the holder let through on foot stands for (Holder.people, as decided). An
    entry flagged already_inside is one of them come back, or one past the holder alone while a
    closed-management period asks each person's ID (decide.py _party_still_coming): none more."""
    if "already_inside" in ev.flags or ev.holder_kind not in PASS_HOLDERS:
        return 1
    if ev.holder_id is None:
        return 1
    row = conn.execute(_PARTY, (ev.holder_id, ev.holder_kind)).fetchone()
    return max(int(row[0]), 1) if row is not None else 1


def _plate_of_car(conn: sqlite3.Connection, ev: AccessEvent) -> str | None:
    """The plate of the car an entry lets in: read, or its vehicle's; on a pass's QR, the pass's
    plate, so that the car's stay follows the plate to a renewal registered while it is parked (the
    schema's triggers) and the exit's camera finds it. None for a pass without a plate. The plate
    the lane's camera reads in the same passage replaces either (car_of_pass): the visitor came in
    another car."""
    if not _pass_qr(ev):
        return ev.plate
    return plate_of_pass(conn, ev.holder_id) if ev.holder_id is not None else None


def _pass_qr(ev: AccessEvent) -> bool:
    """`ev` let a visitor's or contractor's pass in on its QR, no plate read with it."""
    return ev.plate is None and ev.kind == "qr" and ev.holder_kind in PASS_HOLDERS


def qr_over_listed_car(conn: sqlite3.Connection, ev: AccessEvent) -> bool:
    """A pass's QR let it in again (already_inside) while its car is listed inside by the plate
    its stay carries: a QR forwarded to a second car (WeChat), whose plate, read in its passage,
    is a car of its own (Gateway._pass_car). The car inside stays listed as it is, on its stay and
    its entry time, and nothing of it is settled (Gateway._decide_one): closed as a missed exit and
    opened anew, it lost the time parked before (`policy.reentry = "void"`: 3 h parked billed from
    the second scan, Review 59n). The car back itself, its exit missed, is a reentry as any car's,
    on its plate's decision: read before its QR, or after it (own_car_back)."""
    return _pass_qr(ev) and conn.execute(_PASS_CAR_LISTED, (ev.subject,)).fetchone() is not None


def own_car_back(conn: sqlite3.Connection, subject: str, qr_event: str | None, plate: str) -> bool:
    """`plate`, read in the passage of the QR `qr_event` that let the pass `subject` in again over
    its car listed inside (qr_over_listed_car: no stay moved), is the plate that car's stay carries:
    the pass's own car at the entrance again, its exit missed, not a second car on a forwarded QR.
    Its plate is decided as itself (Gateway._same_passage): the re-entry it is, the old stay closed
    under policy.reentry and one opened with the plate, as when the plate is read first. Taken for
    the QR's passage, the car stayed on its first stay, billed from its first entry (15元 where
    the reentry it is cost 5元, Review 59n). Not when the QR's entry opened the stay (one that
    carried no plate closed at the QR, the new one carrying the pass's): that is the re-entry."""
    row = conn.execute(_PASS_CAR_LISTED, (subject,)).fetchone()
    return row is not None and row[0] == plate and row[1] != qr_event


def car_of_pass(conn: sqlite3.Connection, subject: str, plate: str, opened_by: str | None) -> None:
    """The car of a pass (`subject`: visitor:12) is the car read as `plate` in the passage its QR
    let it through (gateway/runtime/again.py, other_half), whether the pass has no plate or was
    registered with another car's: the stay its QR opened carries the plate read, never one the
    camera did not see, and the stay the plate's decision `opened_by` (its event id; None: the QR
    came first) opened a moment before as a stranger's is the pass's, with what that plate owes or
    paid ahead. One stay, found at the exit on the plate or the QR."""
    named = {"car": subject, "plate": plate, "stranger": f"plate:{plate}", "opened_by": opened_by}
    for table, still_open in _STRANGERS_OPEN:
        # A stay an earlier entry of the plate opened (its exit missed) stays the stranger's, billed
        # from then: on the pass, the visitor's exit would close it with no charge.
        only = " AND entry_event = :opened_by" if table == "stays" else ""
        conn.execute(
            f"UPDATE {table} SET subject = :car WHERE subject = :stranger AND {still_open}{only}", named
        )
    conn.execute(_PLATE_ON_STAY, named)


def gone_out(conn: sqlite3.Connection, subject: str, at: datetime) -> None:
    """The person is no longer inside on foot though no exit reader saw them go (a visitor checked
    out at the booth): the people-inside count and anti-passback must not keep them in. Marked as
    checked out (CHECKED_OUT), not as gone through a door: the exit door they may still walk out
    through lets them out as a plain exit, not as one with no entry record."""
    conn.execute(_GONE, (CHECKED_OUT, to_db(at), subject))


def not_through(conn: sqlite3.Connection, ev: AccessEvent) -> bool:
    """The entry on foot `ev` let through at a door whose lock did not open (no relay took the
    pulse: ExitPulses.pulses_known), taken back: she is still out on record (one fewer inside on a
    pass for several people), so that her next tap is decided afresh: kept inside, hard
    anti-passback refused her 重复入场 at the door that never let her in (Review 64D). An exit is
    never taken back: an exit door lets anyone out, and she leaves by the guard's opening, his key
    or the car gate, none of which counts her out; kept inside, she was refused 重复入场 at her own
    door coming home (Review 64Rb). Counted out, a later tap out at the exit door is let through
    flagged no_entry_record. An entry that moved nobody (flagged already_inside, an entry button's)
    has nothing to take back. False where nothing was (or a later passage of hers has moved her
    since); the caller owns the transaction."""
    if ev.kind == BUTTON or not (ev.admitted and is_passage(ev.flags)) or "already_inside" in ev.flags:
        return False
    moved = {"subject": ev.subject, "lane": ev.lane, "at": to_db(ev.at)}
    return conn.execute(_NOT_IN, moved).rowcount > 0
