"""Stays, charges and payments in the store: what a car owes, and settling it in the exit's transaction.

Every function here runs inside a transaction its caller owns (the decision worker's batch, or a
guard's action on the worker), so that a payment, the exit it pays for, the charge and a shared
slot's handover are stored together or not at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from gateway.errors import GatewayError
from gateway.parking.book import BILLABLE, Charge, Paid, Quote, Rules, StayFacts, quote
from gateway.store.charge_rows import (
    _charged_as_paid,
    _covered,
    _left_to_pay,
    _link_payments,
    _settle_carried,
    _spent_on_carried,
    charge_owed_sql,
    void_charge,
)
from gateway.store.exits_put_back import put_back
from gateway.store.outbox import enqueue
from gateway.store.slot_handover import HANDED_OVER_LATE, handover, off_slots_not_theirs, slot_left_to_hand_on
from gateway.store.slots_given_anew import HELD_BESIDE, SET_ASIDE, WANTED_BY_ITS_OLD_CAR, parked_as_listed
from gateway.store.stay_rows import open_stay, stay_by_id
from gateway.timefmt import from_db, to_db

__all__ = [
    "HANDED_OVER_LATE",
    "HELD_BESIDE",
    "SET_ASIDE",
    "WANTED_BY_ITS_OLD_CAR",
    "Owed",
    "ParkingError",
    "carry_reentry",
    "charge_owed_sql",
    "handover",
    "is_billable",
    "keep_paid_ahead",
    "keep_what_was_paid",
    "off_slots_not_theirs",
    "open_stay",
    "owed",
    "parked_as_listed",
    "put_back",
    "settle_exit",
    "slot_left_to_hand_on",
    "stay_by_id",
    "void_charge",
]

# A payment counts for its stay less what of it paid carried charges it settled (carried_fen, at
# a re-entry: carry_reentry, keep_what_was_paid); that part is only ever non-zero on one unlinked
# again by a correction.
_PAYMENTS = """
SELECT p.id, p.amount_fen - p.carried_fen, p.fee_until, p.at, g.grace_s FROM payments p
LEFT JOIN payment_graces g ON g.payment_id = p.id
WHERE p.subject = ? AND p.charge_id IS NULL AND (p.stay_id = ? OR p.at >= ?) ORDER BY p.id
"""


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


def _plate_of(subject: str) -> str | None:
    return subject.removeprefix("plate:") if subject.startswith("plate:") else None


def is_billable(billing: str | None) -> bool:
    return billing in BILLABLE
