"""Stays, charges and payments in the store: what a car owes, and settling it in the exit's transaction.

Every function here runs inside a transaction its caller owns (the decision worker's batch, or a
guard's action on the worker), so that a payment, the exit it pays for, the charge and a shared
slot's handover are stored together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from gateway.core.model import AGAIN
from gateway.errors import GatewayError
from gateway.parking.book import BILLABLE, Charge, Paid, Quote, Rules, StayFacts, quote
from gateway.parking.fees import tariff_of_stay
from gateway.store.outbox import enqueue
from gateway.timefmt import elapsed, from_db, later, to_db

# A monthly car's period as the register has it now (a renewal pushed while it is parked counts;
# the stay names the vehicle its plate names now, also one deleted and added again: migration 20),
# else as its stay kept it when the register stopped saying it: cleared, or the car struck off
# (schema migration 17). Neither, and the stay would be billed nothing however long it lasted. The
# same for the period a renewal while parked paid for: the stay is billed again from its end
# (gateway/parking/book.py), kept on the stay when a write ended it (gateway/store/renewals.py).
_STAY = """
SELECT s.id, s.subject, s.plate, s.class, s.billing, s.entered_at, s.billed_until, s.slot_id,
       v.stay_id IS NOT NULL, coalesce(vh.monthly_until, s.monthly_until),
       s.billed_until_cause IS 'renewal', s.handed_over_at, s.billed_again
FROM stays s LEFT JOIN validations v ON v.stay_id = s.id LEFT JOIN vehicles vh ON vh.id = s.vehicle_id
"""
_OPEN_STAY = _STAY + " WHERE s.subject = ? AND s.exited_at IS NULL ORDER BY s.id DESC LIMIT 1"
_STAY_BY_ID = _STAY + " WHERE s.id = ?"
# A payment counts for its stay less what of it paid carried charges it settled (carried_fen, at
# a re-entry: carry_reentry, keep_what_was_paid); that part is only ever non-zero on one unlinked
# again by a correction.
_PAYMENTS = """
SELECT p.id, p.amount_fen - p.carried_fen, p.fee_until, p.at, g.grace_s FROM payments p
LEFT JOIN payment_graces g ON g.payment_id = p.id
WHERE p.subject = ? AND p.charge_id IS NULL AND (p.stay_id = ? OR p.at >= ?) ORDER BY p.id
"""


def charge_owed_sql(linked_before: str = "") -> str:
    """What is still owed on a charge `c`: its amount less the payments linked to it. A charge
    carried to the next exit may have had a booth prepayment made during the stay whose exit was
    missed. Given `linked_before` (an SQL expression), as things stood then: the payments linked
    before it, and those of a charge voided since, which were linked to it from its writing until
    they went back to the stay (gateway/store/corrections.py). A payment counts less what of it
    paid the carried charges it settled as it was linked (carry_reentry, keep_what_was_paid):
    that went to them."""
    paid = "SELECT sum(p.amount_fen - p.carried_fen) FROM payments p WHERE p.charge_id = c.id"
    if not linked_before:
        return f"c.amount_fen - coalesce(({paid}), 0)"
    given_back = "SELECT sum(p.amount_fen - p.carried_fen) FROM payments p WHERE p.voided_charge_id = c.id"
    return (
        f"c.amount_fen - coalesce(({paid} AND coalesce(p.linked_at, p.at) < {linked_before}), 0) "
        f"- coalesce(({given_back}), 0)"
    )


# What a car still owes from before: its charges neither paid nor voided (a guard's plate
# correction undid them, gateway/store/corrections.py).
_CARRIED = f"""
SELECT c.id, {charge_owed_sql()} FROM charges c
WHERE c.subject = ? AND c.settled_at IS NULL AND c.voided_at IS NULL
"""
_CHARGE = """
INSERT INTO charges (stay_id, subject, plate, class, billing, kind, tariff_version, started_at, ended_at,
                     amount_fen, event_id, at, settled_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# How far a handover may be stamped before the entry of the car it hands the slot and still be
# taken as made as that car came in. The first car's exit can be stamped before the second car's
# entry yet decided after it: two camera threads stamp their readings and then queue them (tenths
# of a second), and a guard's opening by hand closes the first car's stay, at the moment it was
# pressed, only once its record is written (HAND_OPEN_WAIT_S, 2 s, or the database's 10 s busy
# timeout) and the relays have answered (a Modbus bus's answer_within_s: a few seconds). Half a
# minute covers those. A gap wider than that is a clock behind the entry (a Pi booted on
# fake-hwclock's stale time, minutes to an hour behind): the second car's stay cannot be timed and
# is held for a day's fee (UNTIMED), as before; taken as "on the slot as it came in", a car that
# was a second car for an hour left free.
HANDED_OVER_LATE = timedelta(seconds=30)
# A stay handed a slot: billing stops now unless it stopped before (a renewal: billed_until_cause),
# and the first handover's moment is kept for the daily report (a car never billed: none). A
# handover stamped at most HANDED_OVER_LATE before the car's entry is at its entry (`:late`, the
# handover's time plus that): billing stopped "before" it began reads as a clock behind the entry,
# charged a day, as renewals._RENEWED clamps a renewal. Stamped earlier still, it is left so.
_HANDED_AT = "CASE WHEN entered_at > :at AND entered_at <= :late THEN entered_at ELSE :at END"
_HANDED_OVER = f"""
UPDATE stays SET slot_id = :slot,
    billed_until = CASE WHEN billing = 'slot' THEN billed_until
        ELSE coalesce(billed_until, {_HANDED_AT}) END,
    handed_over_at = CASE WHEN billing = 'slot' THEN handed_over_at
        ELSE coalesce(handed_over_at, {_HANDED_AT}) END
WHERE id = :id
"""
# A car that pays for none of its stay from now on: it came in free on a slot (billing 'slot'), or
# was handed one (handed_over_at: its billing stopped then, and a slot taken from it does not start
# it again). A car still paying in the shared spaces is not one.
_PAYS_NOTHING = "(s.billing = 'slot' OR s.handed_over_at IS NOT NULL)"
# The car of a slot parked in the shared spaces, moved onto the slot when its car leaves (fixed
# slots are car slots: a motorcycle listed on the slot stays in its own spaces). One that pays
# nothing goes first, then the one waiting longest: handed to a paying second car, the slot stopped
# its billing, and the free car parked on beside it (one slot, two cars, neither paying).
# `:free_only`: only a car that pays nothing. Read from the slot's few cars to their open stays
# (CROSS JOIN keeps that order, INDEXED BY the open stays by car): left to itself, SQLite read every
# car in the zone's shared spaces (stays_open_shared) for each slot, and a delta handing 5,000 slots
# on while their cars were parked held the decision worker for seconds (review 59f).
_HANDOVER_CANDIDATE = f"""
SELECT s.id, s.subject, s.plate FROM slots sl
CROSS JOIN slot_vehicles sv ON sv.slot_id = sl.id
CROSS JOIN stays s INDEXED BY stays_open_vehicle ON s.vehicle_id = sv.vehicle_id
WHERE sl.id = :slot AND s.exited_at IS NULL AND s.slot_id IS NULL AND s.zone = sl.zone AND s.class = 'car'
  AND (:free_only = 0 OR {_PAYS_NOTHING})
ORDER BY {_PAYS_NOTHING} DESC, s.entered_at, s.id LIMIT 1
"""


# A car held at an exit to pay (payment_due) is decided again every few seconds while it stands at
class ParkingError(GatewayError):
    """A guard or admin action on parking that cannot be done as asked (the message says why).
    To an HTTP client it is 409 `refused` (the state does not allow it), or what the raiser says:
    404 (no such lane or stay) or 422 (a value that cannot be right). `fields`: the request's
    fields at fault, which the answer names (api/errors.py), so that a form marks them."""

    def __init__(
        self,
        message: str,
        *,
        fix: str = "",
        status: int = 409,
        code: str = "refused",
        data: Mapping[str, Any] | None = None,
        fields: list[str] | None = None,
    ):
        super().__init__(message, fix=fix, code=code, data=data)
        self.http_status = status
        self.fields = fields


@dataclass(frozen=True, slots=True)
class Owed:
    """A car's account at one moment: its open stay, what it owes, and the rows that would settle it."""

    subject: str
    stay: StayFacts | None
    quote: Quote
    payment_ids: tuple[int, ...]
    carried_ids: tuple[int, ...]
    vehicle_class: str = "car"  # what it is billed as when it has no stay (its stay's class otherwise)


def _stay(row: tuple[object, ...] | None) -> StayFacts | None:
    if row is None:
        return None
    sid, subject, plate, vclass, billing, entered, billed_until, slot_id, validated, monthly_until = row[:10]
    renewed, handed_over_at, billed_again = row[10:]
    return StayFacts(
        id=int(sid),  # type: ignore[call-overload]
        subject=str(subject),
        plate=plate,  # type: ignore[arg-type]
        vehicle_class=str(vclass),
        billing=billing,  # type: ignore[arg-type]
        entered_at=from_db(entered),  # type: ignore[arg-type]
        billed_until=from_db(billed_until),  # type: ignore[arg-type]
        validated=bool(validated),
        slot_id=slot_id,  # type: ignore[arg-type]
        monthly_until=from_db(monthly_until),  # type: ignore[arg-type]
        renewed=bool(renewed),
        handed_over_at=from_db(handed_over_at),  # type: ignore[arg-type]
        billed_again=_pieces(billed_again),  # type: ignore[arg-type]
    )


def _pieces(text: str | None) -> tuple[tuple[datetime, datetime], ...]:
    """A stay's times billed again (`from/until` pairs, `;` apart: gateway/store/renewals.py)."""
    pairs = (piece.split("/") for piece in (text or "").split(";") if piece)
    return tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in pairs)


def open_stay(conn: sqlite3.Connection, subject: str) -> StayFacts | None:
    return _stay(conn.execute(_OPEN_STAY, (subject,)).fetchone())


def stay_by_id(conn: sqlite3.Connection, stay_id: int) -> StayFacts | None:
    return _stay(conn.execute(_STAY_BY_ID, (stay_id,)).fetchone())


def owed(
    conn: sqlite3.Connection,
    rules: Rules,
    subject: str,
    at: datetime,
    *,
    vehicle_class: str = "car",
    unregistered: bool = False,
    stay: StayFacts | None = None,
) -> Owed:
    """What `subject` owes at `at`: its open stay's fee, charges carried over, less payments made for it."""
    stay = stay or open_stay(conn, subject)
    # Payments count for the stay they were made in (also one dated before its entry by a clock
    # behind it); with no stay, only today's (a missed entry read).
    midnight = at.astimezone(rules.tz).replace(hour=0, minute=0, second=0, microsecond=0)
    since = stay.entered_at if stay else midnight
    stay_id = stay.id if stay else None
    pay_rows = conn.execute(_PAYMENTS, (subject, stay_id, to_db(since))).fetchall()
    carried = conn.execute(_CARRIED, (subject,)).fetchall()
    paid = [
        Paid(amount, from_db(until), from_db(paid_at), None if s is None else timedelta(seconds=s))  # type: ignore[arg-type]
        for _, amount, until, paid_at, s in pay_rows
    ]
    q = quote(
        stay,
        paid,
        sum(a for _, a in carried),
        rules,
        at,
        vehicle_class=vehicle_class,
        unregistered=unregistered,
    )
    payment_ids, carried_ids = tuple(r[0] for r in pay_rows), tuple(r[0] for r in carried)
    return Owed(subject, stay, q, payment_ids, carried_ids, vehicle_class)


def settle_exit(
    conn: sqlite3.Connection, rules: Rules, account: Owed, event_id: str, at: datetime, kind: str
) -> int | None:
    """The car has left: its charge is written with the tariff version, and what it paid is applied."""
    stay, charge = account.stay, account.quote.charge
    # Paid at the booth more than it owes now (*Paid, then free*: a renewal since; or a correction
    # that put the car back on its re-entry, the stay it paid for closed: gateway/store/
    # corrections.py _take_back), the money is kept, and linked to this exit's charge below: that
    # charge is what was paid beyond what the carried charges owed. Left at the fee, the payment
    # stood against a smaller charge, and the daily report's money did not add up.
    beyond = account.quote.paid_fen - account.quote.carried_fen
    if charge is None and not account.carried_ids and account.payment_ids:
        charge = _charged_as_paid(rules, stay, account.quote.paid_fen, at)
    elif account.payment_ids and beyond > (charge.amount_fen if charge is not None else 0):
        charge = (
            replace(charge, amount_fen=beyond)
            if charge is not None
            else _charged_as_paid(rules, stay, beyond, at)
        )
    return _apply(conn, rules, account, charge, kind, event_id, at, account.carried_ids)


def _apply(
    conn: sqlite3.Connection,
    rules: Rules,
    account: Owed,
    charge: Charge | None,
    kind: str,
    event_id: str | None,
    at: datetime,
    settles: tuple[int, ...],
) -> int | None:
    """A stay's account closed: its charge (if any) written settled, the carried charges it
    `settles` marked paid, and what it paid linked to the charge it paid. Shared by an exit
    (settle_exit: every carried charge) and a close with no exit to charge it (keep_what_was_paid:
    those its payments covered), so the same money is settled the same way either way."""
    charge_id = None
    if charge is not None:
        charge_id = _write_charge(
            conn, rules.tz, account.stay, account, charge, kind, event_id, at, settled=True
        )
    _settle_carried(conn, rules, settles, event_id, at)
    # What it paid goes to the charge it paid: this exit's, else the oldest carried one it settled
    # (a car now on its own slot paying a missed exit's charge). Unlinked, the report counted it
    # as paid by a car not seen leaving.
    paid_for = charge_id if charge_id is not None else min(settles, default=None)
    if paid_for is not None:
        _link_payments(conn, account.payment_ids, paid_for, at)
    return charge_id


def _settle_carried(
    conn: sqlite3.Connection, rules: Rules, settles: tuple[int, ...], event_id: str | None, at: datetime
) -> None:
    """The carried charges `settles` marked paid at `at`. They went upstream unsettled
    (carry_reentry): the central server hears that they are paid, with the figures they went up
    with, naming the decision `event_id` that settled them."""
    if not settles:
        return
    marks = ",".join("?" * len(settles))
    conn.execute(f"UPDATE charges SET settled_at = ? WHERE id IN ({marks})", (to_db(at), *settles))
    settled_at = at.astimezone(rules.tz).isoformat()  # in the site's offset, as every record's time
    for carried_id, carried_kind, plate, amount_fen, owed_fen in conn.execute(
        f"SELECT c.id, c.kind, c.plate, c.amount_fen, {charge_owed_sql()} FROM charges c "
        f"WHERE c.id IN ({marks}) ORDER BY c.id",
        settles,
    ).fetchall():
        carried = {"charge_id": carried_id, "kind": carried_kind, "plate": plate}
        money = _left_to_pay(amount_fen, amount_fen - owed_fen)
        change = {"at": settled_at, "change": "settled", **carried, **money, "settled": True}
        enqueue(conn, "charge", {**change, "access_event_id": event_id}, at)


def _charged_as_paid(rules: Rules, stay: StayFacts | None, paid_fen: int, at: datetime) -> Charge:
    """A stay that paid at the booth and then owed nothing (its monthly period renewed after the
    fee for the time past it was taken), or one closed with no exit to charge it
    (keep_what_was_paid): the money is kept, as there is no refund, and stands against a charge of
    what was paid. Left unapplied, the daily report counted it for ever as paid ahead by a car not
    seen leaving. It ends at `at`, or at the stay's entry where `at` is before it: a stay closed on a
    clock behind its entry (a Pi booted on fake-hwclock's stale time) ends there, as an exit's
    charge does (gateway/parking/book.py stay_charge); ended at `at`, it went to the centre ending
    before it began."""
    started = stay.entered_at if stay else None
    ended = started if started is not None and elapsed(started, at) < timedelta(0) else at
    priced = tariff_of_stay(rules.tariffs, (started or at).astimezone(rules.tz))
    return Charge(paid_fen, priced[0].version if priced else "", started, ended)


def keep_what_was_paid(
    conn: sqlite3.Connection, rules: Rules, account: Owed, event_id: str | None, at: datetime
) -> int | None:
    """A stay closed with no exit to charge it (let out by hand with its fee let go, closed by an
    admin, its car back in owing nothing on it) keeps what it paid ahead at the booth, as there is
    no refund. That money first paid the charges carried from a missed exit that the booth's quote
    asked with the fee: those it covers are settled (_covered), as at an exit, and the rest stands
    against a settled charge of the stay (_charged_as_paid), with the payments linked to it (to the
    oldest charge settled where nothing is left). A charge of the whole payment left the carried
    ones owed, and the car was asked them again at its next exit for money already taken; left
    unlinked, the daily report counted that money for ever as paid ahead by a car not seen leaving.
    `event_id`: the decision that let the car out, None for an admin's close. The stay's charge's
    id, None where it wrote none."""
    if not account.payment_ids:
        return None
    paid = account.quote.paid_fen
    settles, covered_fen = _covered(conn, account.carried_ids, paid)
    kept = paid - covered_fen
    charge = _charged_as_paid(rules, account.stay, kept, at) if kept > 0 or not settles else None
    if charge is not None:
        # Linked to the stay's own charge, which a guard's correction of a re-entry undoes (the car
        # was parked all along): what of them paid the carried charges settled here is kept on the
        # payments, so that, given back, they pay the stay the rest only, those charges staying
        # paid. Given back whole, the car was credited that money twice. Linked to a carried charge
        # (nothing left for the stay), no correction gives them back: that charge stays settled.
        _spent_on_carried(conn, account.payment_ids, covered_fen)
    return _apply(conn, rules, account, charge, "exit", event_id, at, settles)


def _covered(
    conn: sqlite3.Connection, carried_ids: tuple[int, ...], paid_fen: int
) -> tuple[tuple[int, ...], int]:
    """The carried charges `paid_fen` pays, oldest first, as far as it pays each one whole, and what
    they owed. A booth payment is what its quote asked, every charge carried then included; one
    it does not reach came onto the car after it (a stay given back by a correction, a plate that
    changed hands) and is still owed."""
    if not carried_ids:
        return (), 0
    marks = ",".join("?" * len(carried_ids))
    rows = conn.execute(
        f"SELECT c.id, {charge_owed_sql()} FROM charges c WHERE c.id IN ({marks}) ORDER BY c.at, c.id",
        carried_ids,
    ).fetchall()
    settles: list[int] = []
    covered = 0
    for charge_id, owed_fen in rows:
        if covered + owed_fen > paid_fen:
            break
        settles.append(int(charge_id))
        covered += int(owed_fen)
    return tuple(settles), covered


# Less what of each paid carried charges it settled (carried_fen): that money went to them.
_PAID_AHEAD = """
SELECT id, amount_fen - carried_fen FROM payments WHERE stay_id = ? AND charge_id IS NULL ORDER BY id
"""


def keep_paid_ahead(
    conn: sqlite3.Connection,
    stay: StayFacts,
    ended_at: datetime,
    tariff_version: str,
    event_id: str | None,
    at: datetime,
) -> int | None:
    """keep_what_was_paid for a stay that ended at `ended_at` with no charge of its own, its booth
    payments still unapplied: a re-entry's stay a correction closed where its car's earlier stay
    ended at an exit that charged that whole stay (gateway/store/corrections.py, _take_back). A
    settled charge of what those payments came to, under `tariff_version` (the version the stay
    pays, as every charge names its stay's), with them linked to it; written, and sent upstream,
    at `at` in its zone, as the correction's own records are."""
    rows = conn.execute(_PAID_AHEAD, (stay.id,)).fetchall()
    if not rows:
        return None
    ids, paid = tuple(int(r[0]) for r in rows), sum(int(r[1]) for r in rows)
    charge = Charge(paid, tariff_version, stay.entered_at, ended_at)
    account = Owed(stay.subject, stay, Quote(0, charge, 0, paid), ids, (), stay.vehicle_class)
    tz = at.tzinfo or UTC
    charge_id = _write_charge(conn, tz, stay, account, charge, "exit", event_id, at, settled=True)
    _link_payments(conn, ids, charge_id, at)
    return charge_id


def carry_reentry(
    conn: sqlite3.Connection,
    rules: Rules,
    stay: StayFacts,
    event_id: str,
    at: datetime,
    priced_until: datetime | None = None,
) -> int | None:
    """A car recorded inside came in again (its exit was missed): bill the old stay up to now, unpaid.

    What was paid during the old stay (at the booth) paid first the charges carried from before
    that its quote asked with the stay's fee: those it covers, oldest first, are settled now, as
    at an exit (_covered). The rest is what was paid ahead against this charge, and so taken off
    what is carried to the next exit; the payments are linked to it, less the part that settled
    the carried ones (_spent_on_carried). Put whole against this charge, a paid carried charge
    went to the centre unsettled and this one owed less than nothing, and a booth payment of what
    was left settled neither. `priced_until`: where the fee ends, if not at `at` (a car let out
    by hand pays to the start of its hold). The charge is written, and dated upstream, at `at`:
    dated at the hold, one let out just after the report hour fell in a day already reported.
    None, nothing written, for a stay that owes nothing: free, or paid up (ahead at the booth, or
    at the lane of an exit whose barrier did not open, put_back) with the charges it carried. Its
    caller keeps what it paid against a settled charge (keep_what_was_paid), as under "void";
    carried, a stay paid in full went upstream as a charge left to pay (owing nothing) for good."""
    account = owed(conn, rules, stay.subject, priced_until or at, vehicle_class=stay.vehicle_class, stay=stay)
    charge = account.quote.charge
    if charge is None or charge.amount_fen == 0 or account.quote.due_fen <= 0:
        return None
    settles, covered_fen = _covered(conn, account.carried_ids, account.quote.paid_fen)
    paid = account.quote.paid_fen - covered_fen  # what the payments linked to it below come to
    if paid > charge.amount_fen:
        # Paid more than the stay's fee now (lowered since: its monthly period's end moved on), the
        # money is kept, as there is no refund, and the charge is what was paid, as settle_exit
        # charges it. Left at the fee, it went upstream owing less than nothing, the daily report's
        # unpaid fell below nothing, and the car's next exit asked that much less.
        charge = replace(charge, amount_fen=paid)
    _settle_carried(conn, rules, settles, event_id, at)
    charge_id = _write_charge(
        conn, rules.tz, stay, account, charge, "reentry", event_id, at, settled=False, paid_fen=paid
    )
    _spent_on_carried(conn, account.payment_ids, covered_fen)
    _link_payments(conn, account.payment_ids, charge_id, at)
    return charge_id


def _spent_on_carried(conn: sqlite3.Connection, payment_ids: tuple[int, ...], covered_fen: int) -> None:
    """`covered_fen` of the payments `payment_ids` paid the carried charges they settled: kept on
    them (payments.carried_fen), from the first payment on, as the booth took each one for the
    charges carried then before the stay's fee. The charge they are linked to is owed the rest
    (charge_owed_sql); given back by a correction, they pay their stay the rest only, as the
    charges they settled stay paid."""
    if covered_fen <= 0:
        return
    left = covered_fen
    for payment_id, unspent_fen in _unspent(conn, payment_ids):
        part = min(unspent_fen, left)
        if part > 0:
            conn.execute("UPDATE payments SET carried_fen = carried_fen + ? WHERE id = ?", (part, payment_id))
            left -= part


def _unspent(conn: sqlite3.Connection, payment_ids: tuple[int, ...]) -> list[tuple[int, int]]:
    """Each payment of `payment_ids`, oldest first, with what of it is not spent on carried charges."""
    marks = ",".join("?" * len(payment_ids))
    return conn.execute(
        f"SELECT id, amount_fen - carried_fen FROM payments WHERE id IN ({marks}) ORDER BY id", payment_ids
    ).fetchall()


def _link_payments(
    conn: sqlite3.Connection, payment_ids: tuple[int, ...], charge_id: int, at: datetime
) -> None:
    if payment_ids:
        marks = ",".join("?" * len(payment_ids))
        conn.execute(
            f"UPDATE payments SET charge_id = ?, linked_at = ? WHERE id IN ({marks})",
            (charge_id, to_db(at), *payment_ids),
        )


def _write_charge(
    conn: sqlite3.Connection,
    tz: tzinfo,
    stay: StayFacts | None,
    account: Owed,
    charge: Charge,
    kind: str,
    event_id: str | None,
    at: datetime,
    *,
    settled: bool,
    paid_fen: int = 0,
) -> int:
    """The charge row and its upstream record. One left to pay (`settled` False) says what was
    paid ahead against it (`paid_fen`: the booth payments linked to it) and what is left: the
    centre's outstanding charges then add up to the daily report's unpaid (charge_owed_sql).
    Its times go up in the site's offset (`tz`), as every record's: a stay's, read back from the
    store, are UTC, and a centre filing records by their local date filed them a day early."""
    subject = account.subject
    plate = stay.plate if stay else _plate_of(subject)
    cur = conn.execute(
        _CHARGE,
        (
            stay.id if stay else None,
            subject,
            plate,
            stay.vehicle_class if stay else account.vehicle_class,
            stay.billing if stay else "temporary",
            kind,
            charge.tariff_version,
            to_db(charge.started_at) if charge.started_at else None,
            to_db(charge.ended_at),
            charge.amount_fen,
            event_id,
            to_db(at),
            to_db(at) if settled else None,
        ),
    )
    charge_id = int(cur.lastrowid or 0)
    enqueue(
        conn,
        "charge",
        {
            "at": at.astimezone(tz).isoformat(),
            "charge_id": charge_id,
            "kind": kind,
            "plate": plate,
            "stay_id": stay.id if stay else None,
            **({"amount_fen": charge.amount_fen} if settled else _left_to_pay(charge.amount_fen, paid_fen)),
            "tariff_version": charge.tariff_version,
            "started_at": charge.started_at.astimezone(tz).isoformat() if charge.started_at else None,
            "ended_at": charge.ended_at.astimezone(tz).isoformat(),
            "settled": settled,
            # Not "event_id": that is the message's own, and the central side drops a second
            # message with the access record's as a duplicate.
            "access_event_id": event_id,
        },
        at,
    )
    return charge_id


def _left_to_pay(amount_fen: int, paid_fen: int) -> dict[str, int]:
    """A carried charge's figures upstream: the charge, what was paid ahead against it, and what
    the car owes of it (what the daily report counts as unpaid until it is settled)."""
    return {"amount_fen": amount_fen, "paid_fen": paid_fen, "owed_fen": amount_fen - paid_fen}


def _plate_of(subject: str) -> str | None:
    return subject.removeprefix("plate:") if subject.startswith("plate:") else None


# The stay an exit's decision closed (gateway/store/record.py names it as the stay's exit_event),
# and that exit's own charge (settle_exit), for a car whose barrier did not open (put_back).
_CLOSED_BY_EXIT = "SELECT id, subject, plate, class FROM stays WHERE exit_event = ? AND closed_by = 'exit'"
_OPEN_AGAIN = "UPDATE stays SET exited_at = NULL, exit_event = NULL, closed_by = NULL WHERE id = ?"
# The slot the stay was on, where no other car holds it now: the exit handed it to the slot's
# second car (settle's handover), and that car keeps it (docs/parking.md, *Let out by hand*).
_SLOT_STILL_ITS = """
SELECT s.slot_id FROM stays s WHERE s.id = :id AND NOT EXISTS (
    SELECT 1 FROM stays o WHERE o.slot_id = s.slot_id AND o.exited_at IS NULL AND o.id <> s.id)
"""
_OFF_ITS_SLOT = "UPDATE stays SET slot_id = NULL WHERE id = ?"
# The exit, kept as the attempt (schema migration 49): a guard's opening by hand of its lane lets the
# car out as one refused there (gateway/store/holds.py), and the daily report counts it as no exit.
_EXIT_PUT_BACK = "INSERT INTO exits_put_back (event_id, stay_id) VALUES (?, ?)"
_EXIT_CHARGE = """
SELECT id, plate FROM charges WHERE event_id = ? AND stay_id = ? AND kind = 'exit' AND voided_at IS NULL
"""
# The day's fee an exit that closed no stay charged its car with no entry record (settle_exit's
# `no_entry` charge, written at the decision's moment: on the charges' time index), paid there.
_PAID_WITH_NO_STAY = """
SELECT c.subject, c.plate, c.class FROM charges c INDEXED BY charges_at
WHERE c.at = :at AND c.event_id = :event AND c.stay_id IS NULL AND c.kind = 'no_entry'
  AND c.voided_at IS NULL AND EXISTS (SELECT 1 FROM payments p WHERE p.charge_id = c.id)
"""
# The exit a repeat (flag again) repeats, where that exit is kept put back: the car's last exit let
# out before it (by record) that is no repeat, with none let out since whose barrier opened (each
# since kept put back too), on the log's index of exits; with the stay it closed and was put back on
# (None: it closed none). The moment of one that closed no stay is its charge's (_PAID_WITH_NO_STAY).
_EXIT_REPEATED_PUT_BACK = f"""
SELECT a.event_id, a.at, x.stay_id FROM access_log r
JOIN access_log a INDEXED BY access_log_exits ON a.car = r.car AND a.at <= r.at AND a.id < r.id
JOIN exits_put_back x ON x.event_id = a.event_id
WHERE r.event_id = :event AND instr(',' || r.flags || ',', ',{AGAIN},') > 0
  AND a.admitted = 1 AND a.direction = 'exit' AND a.lane_type = 'vehicle'
  AND instr(',' || a.flags || ',', ',{AGAIN},') = 0
  AND NOT EXISTS (SELECT 1 FROM access_log l INDEXED BY access_log_exits
                  WHERE l.car = r.car AND l.at >= a.at AND l.at <= r.at AND l.id > a.id AND l.id < r.id
                    AND l.admitted = 1 AND l.direction = 'exit' AND l.lane_type = 'vehicle'
                    AND NOT EXISTS (SELECT 1 FROM exits_put_back y WHERE y.event_id = l.event_id))
ORDER BY a.at DESC, a.id DESC LIMIT 1
"""
_LINKED_TO = "SELECT id FROM payments WHERE charge_id = ? ORDER BY id"
# The charges carried from a missed exit that the exit settled (_settle_carried, at its moment):
# paid with the money taken then, they stay settled.
_SETTLED_AT_EXIT = f"""
SELECT coalesce(sum({charge_owed_sql()}), 0) FROM charges c
WHERE c.subject = ? AND c.settled_at = ? AND c.kind = 'reentry' AND c.voided_at IS NULL
"""
# Undone, a charge is kept, marked void (schema migration 23): deleted, its id went to the next
# charge, another car's, and a report of the day it was owed, rebuilt, no longer said it was. Its
# payments go back to the stay, naming it: until the void they were paid against it.
_VOID_CHARGE = "UPDATE charges SET voided_at = ? WHERE id = ?"
_PAYMENTS_BACK = """
UPDATE payments SET charge_id = NULL, linked_at = NULL, voided_charge_id = charge_id WHERE charge_id = ?
"""


@dataclass(frozen=True, slots=True)
class PutBack:
    """A stay open again: its car was let out on record at a barrier that did not open."""

    stay_id: int | None  # None: the exit closed no stay (a day's fee paid, kept: _paid_exit_waited_on)
    subject: str
    plate: str | None
    vehicle_class: str
    voided: int | None  # the exit's charge, undone (None: it wrote none)
    slot_id: int | None = None  # the slot it is back on (None: in the shared spaces)


def put_back(
    conn: sqlite3.Connection, event_id: str, at: datetime, tz: tzinfo, repeats: Sequence[str] = ()
) -> PutBack | None:
    """The stay the exit decision `event_id` closed, open again: its car never left (no relay of
    the exit took the pulse). The exit's charge is undone and sent upstream voided, and what was
    paid for it (at the lane, or ahead at the booth) goes back to the stay, as paid ahead: the car
    leaves within the grace period of that payment free, later it pays the rest (book.fee_end).
    What of that money paid charges carried from before that the exit settled is kept on the
    payments (_spent_on_carried): those stay settled, and are not asked again. The exit is kept as
    put back (exits_put_back): its record, admitted, reads as a passage, and a guard's opening by
    hand of the lane found no car at the barrier, letting out a car whose stay then stayed open
    for good, and the daily report counted the car's exit twice. A decision that closed no stay
    but took a day's fee for a car with no entry record is kept so too, that fee standing
    (_paid_exit_waited_on). None where the decision closed no stay and took no such fee, or the
    car has a stay open again since. Its slot, handed at that exit to the slot's
    second car (settle's handover), stays with that car (_back_on_its_slot_if_free). `repeats`:
    the decisions of the exit's passage that repeated it (flag again) before a relay answered,
    none of whose pulses was taken either: kept as put back with the exit (_keep_put_back)."""
    row = conn.execute(_CLOSED_BY_EXIT, (event_id,)).fetchone()
    if row is None:
        return _paid_exit_waited_on(conn, event_id, at, repeats)
    if open_stay(conn, row[1]) is not None:
        return None
    stay_id, subject, plate, vehicle_class = row
    conn.execute(_OPEN_AGAIN, (stay_id,))
    slot_id = _back_on_its_slot_if_free(conn, stay_id)
    _keep_put_back(conn, (event_id, *repeats), stay_id)
    charge = conn.execute(_EXIT_CHARGE, (event_id, stay_id)).fetchone()
    if charge is None:
        return PutBack(stay_id, subject, plate, vehicle_class, None, slot_id)
    charge_id, charge_plate = charge
    payment_ids = tuple(int(r[0]) for r in conn.execute(_LINKED_TO, (charge_id,)).fetchall())
    if payment_ids:
        settled_then = conn.execute(_SETTLED_AT_EXIT, (subject, to_db(at))).fetchone()[0]
        _spent_on_carried(conn, payment_ids, int(settled_then))
    void_charge(conn, (charge_id, "exit", charge_plate, stay_id), event_id, at.astimezone(tz))
    return PutBack(stay_id, subject, plate, vehicle_class, charge_id, slot_id)


def void_charge(
    conn: sqlite3.Connection,
    charge: tuple[int, str, str | None, int | None],
    event_id: str | None,
    at: datetime,
) -> None:
    """The charge (its id, kind, plate and stay) undone at `at` (in the site's zone), kept marked
    void, its payments back unlinked naming it (voided_charge_id), and sent upstream `voided`
    naming `event_id` (the decision it was undone for, None where none: an admin's record): an
    exit whose barrier did not open (put_back), a guard's plate correction
    (gateway/store/corrections.py), a car recorded inside again from before an admin's close
    (gateway/parking/inside.py). The caller says where the payments go from there."""
    charge_id, kind, plate, stay_id = charge
    conn.execute(_PAYMENTS_BACK, (charge_id,))
    conn.execute(_VOID_CHARGE, (to_db(at), charge_id))
    voided = {"charge_id": charge_id, "kind": kind, "plate": plate, "stay_id": stay_id}
    money = {"amount_fen": 0, "paid_fen": 0, "owed_fen": 0, "settled": False}
    said = {"at": at.isoformat(), "change": "voided", **voided, **money}
    enqueue(conn, "charge", {**said, "access_event_id": event_id}, at)


def _keep_put_back(conn: sqlite3.Connection, event_ids: Sequence[str], stay_id: int | None) -> None:
    """The decisions `event_ids` of one passage at a barrier that did not open (its exit, and the
    repeats of it that joined the passage before a relay answered: ExitPassages.repeated), each
    kept as put back with the stay the exit closed (or none: a day's fee paid, kept). Each is
    read so on its own record (gateway/store/holds.py _put_back_sql, gateway/parking/service.py
    _PAID_EXIT_WAITED_ON): a repeat not kept read as the car let out on a barrier that opened, so
    the guard's opening by hand found no car at the barrier, and a car with no entry record was
    taken for gone on what it paid. A repeat whose own pulse a relay took is no part of it: the
    car drove out on it."""
    conn.executemany(_EXIT_PUT_BACK, [(event_id, stay_id) for event_id in event_ids])


def _paid_exit_waited_on(
    conn: sqlite3.Connection, event_id: str, at: datetime, repeats: Sequence[str] = ()
) -> PutBack | None:
    """The exit decision `event_id` at `at` closed no stay: a car with no entry record that paid the
    day's fee there (exit_without_entry = "charge"), still at the shut arm. Kept as put back with no
    stay (exits_put_back, stay_id NULL), its fee and payment standing as they are: the car leaves
    on that exit, let out again on it when it is read again, nothing charged (ParkingDesk.
    left_settled), or by the guard's opening by hand (the car refused there a moment ago: holds.py
    refused_at_lane), and the daily report counts that exit as its one passage. Not kept, the car
    read again once the relay worked was asked the day's fee again, and paid it twice. So is a
    repeat of such an exit (flag again: the car read again at the shut arm, let out again on what
    it paid) whose pulse no relay took either (_EXIT_REPEATED_PUT_BACK): the car has still not
    left on it; and the repeats `repeats` of the exit that joined its passage (put_back). None for
    any other exit that closed no stay (let out free: decided afresh, it is let out free again)."""
    repeated = conn.execute(_EXIT_REPEATED_PUT_BACK, {"event": event_id}).fetchone()
    if repeated is not None and repeated[2] is not None:
        _repeat_of_stay_put_back(conn, (event_id, *repeats), int(repeated[2]))
        return None
    paid_on, paid_at = (repeated[0], repeated[1]) if repeated is not None else (event_id, to_db(at))
    row = conn.execute(_PAID_WITH_NO_STAY, {"at": paid_at, "event": paid_on}).fetchone()
    if row is None or open_stay(conn, row[0]) is not None:
        return None
    subject, plate, vehicle_class = row
    _keep_put_back(conn, (event_id, *repeats), None)
    return PutBack(None, subject, plate, vehicle_class, None)


def _repeat_of_stay_put_back(conn: sqlite3.Connection, event_ids: Sequence[str], stay_id: int) -> None:
    """A repeat (flag again) of an exit put back on its stay, whose own pulse no relay took either,
    judged after the exit's passage was put back (the exit and the repeat decided together, the
    relay failing at once): kept put back with that stay while it is open, nothing said again (the
    stay was reopened, audited and sent up with the exit). Not kept, it read as the car let out on
    a barrier that opened: the guard's 开闸 found no car, and the car that drove out under it stayed
    inside on record."""
    if conn.execute("SELECT 1 FROM stays WHERE id = ? AND exited_at IS NULL", (stay_id,)).fetchone():
        _keep_put_back(conn, event_ids, stay_id)


# The slot the stay closed by the exit `:event` (at `:at` or later) was on, free now, with a car of
# it parked in the shared spaces (_HANDOVER_CANDIDATE).
_SLOT_LEFT_TO_HAND_ON = """
SELECT s.slot_id FROM stays s
WHERE s.exited_at >= :at AND s.exit_event = :event AND s.closed_by = 'exit' AND s.slot_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM stays o WHERE o.exited_at IS NULL AND o.slot_id = s.slot_id)
  AND EXISTS (SELECT 1 FROM stays w JOIN slot_vehicles sv ON sv.vehicle_id = w.vehicle_id
              WHERE sv.slot_id = s.slot_id AND w.exited_at IS NULL AND w.slot_id IS NULL AND w.class = 'car')
"""


def slot_left_to_hand_on(conn: sqlite3.Connection, event_id: str, at: datetime) -> int | None:
    """The slot the car let out by the exit `event_id` at `at` left, where a car of it came in
    while that exit's barrier had not confirmed yet: counted as its slot's second car then (the
    leaving car might be put back on it: CarsLeaving), and, the barrier confirmed, to
    be handed the slot (handover) as if it had come in just after the exit. None where there is
    none (the exit handed the slot at once, or no car of it came in meanwhile)."""
    row = conn.execute(_SLOT_LEFT_TO_HAND_ON, {"event": event_id, "at": to_db(at)}).fetchone()
    return None if row is None else int(row[0])


def _back_on_its_slot_if_free(conn: sqlite3.Connection, stay_id: int) -> int | None:
    """The slot the stay `stay_id`, open again, is on: its own, unless another car holds it now
    (the exit handed it to the slot's second car, which keeps it). Then the car is in the shared
    spaces, as off_slots_not_theirs moves a car whose slot was handed on, and keeps its billing (a
    resident's car on its own slot still leaves free). Left on the slot, two cars held it, and the
    occupancy counted a shared space free that one of them took: a full car park let a stranger in."""
    row = conn.execute(_SLOT_STILL_ITS, {"id": stay_id}).fetchone()
    if row is None:
        conn.execute(_OFF_ITS_SLOT, (stay_id,))
        return None
    return None if row[0] is None else int(row[0])


def handover(
    conn: sqlite3.Connection,
    slot_id: int,
    at: datetime,
    cause: str,
    *,
    free_only: bool = False,
    entered_within: timedelta = HANDED_OVER_LATE,
) -> int | None:
    """一位多车: the car on the slot has gone; another car of the slot still inside moves onto it now.

    Its billing stops at this moment (at its entry, where this moment is at most HANDED_OVER_LATE
    before it), unless it stopped before (a renewal while parked, which keeps its moment); it pays
    for the time before at its exit. Returns its stay id. The daily report counts the handover by
    handed_over_at, the first one's moment (schema migration 28), also for a car renewed before
    it. A car that came in free on a slot (billing "slot") and was moved off it since (struck off,
    its slot handed on) is put back on one: never billed, it has no billing to stop, and the report
    counts none (no second car was involved). Such a car, or one handed a slot before, is put on
    before a car paying, even one that came in before it: handed to the paying one, the slot stopped its
    billing and left the free one parked beside it for nothing (review 57c).
    `free_only`: only such a car, or one handed a slot before (its billing stopped then, and kept
    stopped: it is the slot's car), is put back (a slot an admin adds again is new to a paying car).
    `entered_within`: a car that came in at most that long after `at` is handed the slot at its
    entry (_HANDED_AT); an admin's close at the exit a car was seen leaving on, found later
    (ParkingDesk.close_stay), hands it so to a car that came in since.
    """
    row = conn.execute(_HANDOVER_CANDIDATE, {"slot": slot_id, "free_only": int(free_only)}).fetchone()
    if row is None:
        return None
    stay_id, subject, plate = row
    moment = {"at": to_db(at), "late": to_db(later(at, entered_within))}
    conn.execute(_HANDED_OVER, {"slot": slot_id, **moment, "id": stay_id})
    enqueue(
        conn,
        "stay",
        {
            "at": at.isoformat(),
            "change": "handover",
            "stay_id": stay_id,
            "plate": plate,
            "slot_id": slot_id,
            "cause": cause,
        },
        at,
    )
    return int(stay_id)


_SLOTS_OF_THE_CAR = """
SELECT sv.slot_id FROM slot_vehicles sv JOIN stays s ON s.vehicle_id = sv.vehicle_id WHERE s.id = ?
"""
_SLOT_TAKEN = "SELECT 1 FROM stays WHERE exited_at IS NULL AND slot_id = ?"
# The open stays on the slots `{slots}` (SQL for their ids) of cars those slots no longer list.
_ON_A_SLOT_NOT_THEIRS = """
SELECT id, slot_id FROM stays WHERE exited_at IS NULL AND slot_id IN ({slots}) AND NOT EXISTS (
    SELECT 1 FROM slot_vehicles sv WHERE sv.slot_id = stays.slot_id AND sv.vehicle_id = stays.vehicle_id)
"""


def off_slots_not_theirs(
    conn: sqlite3.Connection,
    at: datetime,
    slots: str,
    params: Sequence[Any] | Mapping[str, Any],
    *,
    cause: str = "reassigned",
) -> None:
    """Slots deleted or handed to other cars (an admin, the central server, an import) while a car
    they no longer list is parked on one: that car is still in the garage, so it takes one of the
    zone's shared spaces now (or the zone would take one car too many), and leaves as it came in
    (its stay keeps its billing: a resident's car on its own slot leaves free). Left on the slot,
    it made the slot's new car a second car that pays or is refused until it left. A car of the
    slot already parked in the shared spaces moves onto it at once, as at an exit (handover).
    `slots`: SQL for the slots' ids, with `params`; `cause` the handovers' (a plate correction's
    stay moved off a slot it was handed: `correction`).

    All the cars are moved off first, and then each slot left free, and each slot that now lists a
    car moved off, takes its car: two neighbours' slots swapped (in one step, or in two steps of a
    snapshot) put each car on its new slot, where one handed over before the other car had left it.
    A car that pays nothing (one moved off, or handed a slot before) is put on before one paying
    (handover): B001 renumbered B101 for the same two cars, B101 went to the household's second car
    waiting longest, paying, which stopped its billing, and the car moved off B001 parked free
    beside it (one slot, two cars, neither paying)."""
    moved = conn.execute(_ON_A_SLOT_NOT_THEIRS.format(slots=slots), params).fetchall()
    freed = {slot_id for _, slot_id in moved}
    for stay_id, _ in moved:
        conn.execute("UPDATE stays SET slot_id = NULL WHERE id = ?", (stay_id,))
        freed.update(slot for (slot,) in conn.execute(_SLOTS_OF_THE_CAR, (stay_id,)))
    for slot_id in sorted(freed):
        if conn.execute(_SLOT_TAKEN, (slot_id,)).fetchone() is None:
            handover(conn, slot_id, at, cause)


# The pairs a change's first pass sets aside (parked_as_listed's `going`), as SQL on the
# slot_vehicles row `sv` of a car the change takes off its slot: those of a car inside, and every
# one of a slot a car is parked on (that car may be moved off it).
SET_ASIDE = """(EXISTS (SELECT 1 FROM stays t WHERE t.vehicle_id = sv.vehicle_id AND t.exited_at IS NULL)
    OR EXISTS (SELECT 1 FROM stays t WHERE t.slot_id = sv.slot_id AND t.exited_at IS NULL))"""
_PUT_BACK = "INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)"
_PARKED_ON = """SELECT slot_id, vehicle_id FROM stays
    WHERE exited_at IS NULL AND slot_id IN (SELECT value FROM json_each(?))"""
# Whether the car of the slot_vehicles row `n` needs n's slot, of the zone `{zone}`: arriving, it
# parks on it or on none. It has no other slot in the zone, or none that no other car is on while
# the change gives it a slot it is not on yet ({moving_in}: SQL on `n`, true where a row further on
# lists the car): R1's second car B, listed on B001 (A parked there) and B003, which the change
# gives a neighbour and R1 B002 a row further on, needs B003 till B002 is in (B003 handed to the
# neighbour's car at once, B was refused slot_occupied). A car whose household loses the slot, with
# none to come, does not: held for it, the car moving onto the slot stayed on its old one, and its
# household's second car came in free on the new one (two cars free, one slot before and after).
_NEEDS_ITS_SLOT = """(NOT EXISTS (SELECT 1 FROM slot_vehicles o JOIN slots os ON os.id = o.slot_id
        WHERE o.vehicle_id = n.vehicle_id AND o.slot_id != n.slot_id AND os.zone = {zone})
    OR (NOT EXISTS (SELECT 1 FROM slot_vehicles o JOIN slots os ON os.id = o.slot_id
            WHERE o.vehicle_id = n.vehicle_id AND o.slot_id != n.slot_id AND os.zone = {zone}
              AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = o.slot_id
                  AND t.vehicle_id != n.vehicle_id))
        AND {moving_in}))"""
# The (slot, car) pairs of the cars parked on the slots `?` (json) and the free slots of their zone
# that also list them, where such a slot lists a car outside that needs it (_NEEDS_ITS_SLOT). Read
# before the change's pairs are set aside, so that a car listed beside the parked one on the slot
# it leaves (its household's second car) has that slot still, and is not one of them.
_HELD_FOR_ANOTHER = f"""SELECT sv.slot_id, p.vehicle_id FROM stays p
    JOIN slot_vehicles sv ON sv.vehicle_id = p.vehicle_id AND sv.slot_id != p.slot_id
    JOIN slots s ON s.id = sv.slot_id AND s.zone = p.zone
    WHERE p.exited_at IS NULL AND p.slot_id IN (SELECT value FROM json_each(?))
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.slot_id = sv.slot_id)
      AND EXISTS (SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
          WHERE n.slot_id = sv.slot_id AND v.class = 'car'
            AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.vehicle_id = n.vehicle_id)
            AND {_NEEDS_ITS_SLOT.format(zone="s.zone", moving_in="{moving_in}")})"""
# Whether the slot `sl` lists a car outside that the change takes off it ({{taken_off}}: SQL on its
# slot_vehicles row `n`, true where the change's row for the slot does not list it) and that needs
# it still (_NEEDS_ITS_SLOT, with {{moving_in}}): arriving, it parks on `sl` (as it was) or on none.
# Such a slot is not handed meanwhile to a car the change gives it that pays in the shared spaces:
# R2's only car on B002, which the change gives R5's Y and R2 B003 further on, was refused
# slot_occupied till B003 was in. Y is handed it in the step that writes B003 or in the second pass.
WANTED_BY_ITS_OLD_CAR = f"""EXISTS (SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
    WHERE n.slot_id = sl.id AND v.class = 'car'
      AND NOT EXISTS (SELECT 1 FROM stays t WHERE t.exited_at IS NULL AND t.vehicle_id = n.vehicle_id)
      AND ({{taken_off}}) AND {_NEEDS_ITS_SLOT.format(zone="sl.zone", moving_in="{moving_in}")})"""
# The cars parked on a slot that a free slot also lists beside one of the cars `{cars}` (SQL for
# their ids, those a change's rows give): as (car, the slot it is on). One held on its old slot for
# that car (_HELD_FOR_ANOTHER) is placed anew in the step that gives the car its new slot, not left
# there till the second pass (its household's second car meanwhile free on the slot held).
HELD_BESIDE = """SELECT t.vehicle_id, t.slot_id FROM slot_vehicles c
        JOIN slot_vehicles h ON h.slot_id = c.slot_id AND h.vehicle_id != c.vehicle_id
        JOIN stays t ON t.vehicle_id = h.vehicle_id AND t.exited_at IS NULL
            AND t.slot_id IS NOT NULL AND t.slot_id != c.slot_id
        WHERE c.vehicle_id IN ({cars})
          AND NOT EXISTS (SELECT 1 FROM stays u WHERE u.exited_at IS NULL AND u.slot_id = c.slot_id)"""
# A car the slot lists that needs it (_NEEDS_ITS_SLOT): arriving, it parks on this one or on none.
_NEEDS_IT = f"""SELECT 1 FROM slot_vehicles n JOIN vehicles v ON v.id = n.vehicle_id
    JOIN slots s ON s.id = n.slot_id
    WHERE n.slot_id = ? AND v.class = 'car'
      AND {_NEEDS_ITS_SLOT.format(zone="s.zone", moving_in="{moving_in}")}"""
_BACK_ON = "UPDATE stays SET slot_id = ? WHERE exited_at IS NULL AND vehicle_id = ? AND slot_id IS NULL"


@contextmanager
def parked_as_listed(
    conn: sqlite3.Connection, at: datetime, going: list[tuple[int, int]], moving_in: str
) -> Iterator[None]:
    """The first of two passes over slots a snapshot, delta or import gives their cars anew (the
    second takes off each slot the cars it no longer lists), around the block in which the caller
    hands its free slots on. The cars parked are placed as the change has them now: one parked on a
    slot the change takes it off (`going`: the (slot, car) pairs that it takes off, SET_ASIDE)
    moves off it, onto a slot that lists it and no car is on, or, where a car the slot lists needs
    it (_NEEDS_IT), into the shared spaces (it still leaves free); else it stays on it till the
    second pass, as it was. Left on its slot, the car made the slot's new car its second car
    (refused, or paying); left on B001 while B101 was sent for it, B101 went to the household's
    second car paying in the shared spaces (one slot, two cars, neither paying). A free slot that
    lists it is not handed to it while another car outside needs that slot (_HELD_FOR_ANOTHER: its
    household's only car, or its second car whose other slot its first car is on, moved to a slot
    further on): it stays on its old slot (or waits in the shared spaces) till that car's new slot
    is in (HELD_BESIDE) or the second pass. `moving_in`: SQL on the slot_vehicles row `n`, true
    where the change gives its car a slot of n's zone that does not list it yet (_NEEDS_ITS_SLOT).

    The pairs are set aside meanwhile, so that no slot is handed to a car the change takes off it,
    and put back for the second pass (a car arriving until then parks on its old slot as before),
    but those of a slot its parked car has left: its other cars the change takes off it were its
    second cars, and left on it they came in free on the slot their household's car had just left,
    while that car parked free on its new slot or in the shared spaces (one slot, two cars free, for
    the whole stay). The car that left loses its own pair on it too, also while it waits in the
    shared spaces (its stay still leaves free): the slot is another car's from this step, and kept
    on it, the waiting car was handed it back at that car's exit, or came back onto it, free, after
    going out, and the car the slot was written for was refused slot_occupied at it."""
    moved: list[tuple[int, int]] = []
    aside = list(going)
    if going:
        slots = json.dumps(sorted({slot_id for slot_id, _ in going}))
        pairs = set(going)
        moved = [pair for pair in conn.execute(_PARKED_ON, (slots,)).fetchall() if pair in pairs]
        aside += _held_for_another(conn, slots, {car for _, car in moved}, pairs, moving_in)
    conn.executemany("DELETE FROM slot_vehicles WHERE slot_id = ? AND vehicle_id = ?", aside)
    if going:
        off_slots_not_theirs(conn, at, "SELECT value FROM json_each(?)", (slots,))
    yield
    left = {slot_id for slot_id, car in moved if not _back_on_its_slot(conn, slot_id, car, moving_in)}
    conn.executemany(_PUT_BACK, [pair for pair in aside if pair[0] not in left])


def _held_for_another(
    conn: sqlite3.Connection, slots: str, cars: set[int], going: set[tuple[int, int]], moving_in: str
) -> list[tuple[int, int]]:
    """The pairs of `cars` (parked on `slots`, moved off them) on a free slot that a car outside
    needs (_HELD_FOR_ANOTHER), set aside with `going` so that the slot is not handed to them this
    step: R2's only car on B002, which the change gives R1 and moves R2 to B003 further on, was
    refused slot_occupied at B002 (R1's car parked on B001 moved onto it at once) till B003 was in."""
    rows = conn.execute(_HELD_FOR_ANOTHER.format(moving_in=moving_in), (slots,)).fetchall()
    return [pair for pair in rows if pair[1] in cars and pair not in going]


def _back_on_its_slot(conn: sqlite3.Connection, slot_id: int, car: int, moving_in: str) -> bool:
    """Whether `car`, moved off `slot_id` by parked_as_listed, goes back onto it: it found no other
    slot, and no car took the slot or needs it. Kept in the shared spaces for nothing, it left the
    slot to its household's second car, which then came in on no slot (or on the slot, free)."""
    if conn.execute(_SLOT_TAKEN, (slot_id,)).fetchone():
        return False
    if conn.execute(_NEEDS_IT.format(moving_in=moving_in), (slot_id,)).fetchone():
        return False
    return conn.execute(_BACK_ON, (slot_id, car)).rowcount > 0


def is_billable(billing: str | None) -> bool:
    return billing in BILLABLE
