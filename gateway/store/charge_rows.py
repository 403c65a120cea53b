"""Charges and payments as rows: what a charge still owes, carried charges settled, payments linked to
the charge they paid (less what of them went to carried charges), and a charge undone (void_charge).

Like gateway/store/parking.py, every function here runs inside a transaction its caller owns.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from gateway.parking.book import Charge, Rules, StayFacts
from gateway.parking.fees import tariff_of_stay
from gateway.store.outbox import enqueue
from gateway.timefmt import elapsed, to_db


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


def _left_to_pay(amount_fen: int, paid_fen: int) -> dict[str, int]:
    """A carried charge's figures upstream: the charge, what was paid ahead against it, and what
    the car owes of it (what the daily report counts as unpaid until it is settled)."""
    return {"amount_fen": amount_fen, "paid_fen": paid_fen, "owed_fen": amount_fen - paid_fen}


# Undone, a charge is kept, marked void (schema migration 23): deleted, its id went to the next
# charge, another car's, and a report of the day it was owed, rebuilt, no longer said it was. Its
# payments go back to the stay, naming it: until the void they were paid against it.
_VOID_CHARGE = "UPDATE charges SET voided_at = ? WHERE id = ?"
_PAYMENTS_BACK = """
UPDATE payments SET charge_id = NULL, linked_at = NULL, voided_charge_id = charge_id WHERE charge_id = ?
"""


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
