"""Payments in the store: a payment the guard took, its receipt number (made if not given, checked
against one typed again), and the `payment` record sent upstream.

Like gateway/store/parking.py, every function here runs inside a transaction its caller owns.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, tzinfo

from gateway.core import TYPED_BY
from gateway.ids import uuid7
from gateway.parking.fees import yuan
from gateway.store.audit import audit
from gateway.store.holds import car_held_sql
from gateway.store.outbox import enqueue
from gateway.store.parking import ParkingError
from gateway.timefmt import to_db


def payment_record(
    at: datetime,
    plate: str | None,
    pass_id: int | None,
    stay_id: int | None,
    lane: str,
    amount_fen: int,
    method: str,
    receipt: str,
    actor: str,
) -> dict[str, object]:
    """The upstream `payment` record (docs/mqtt.md): sent when the money is taken, and again, with
    the same fields, when its time is corrected (gateway/store/redate.py)."""
    return {
        "at": at.isoformat(),
        "plate": plate,
        "pass_id": pass_id,
        "stay_id": stay_id,
        "lane": lane,
        "amount_fen": amount_fen,
        "method": method,
        "receipt": receipt,
        "actor": actor,
    }


def record_payment(
    conn: sqlite3.Connection,
    *,
    subject: str,
    plate: str | None,
    stay_id: int | None,
    lane: str,
    at: datetime,
    fee_until: datetime,
    amount_fen: int,
    method: str,
    receipt: str,
    actor: str,
    tz: object,
    pass_id: int | None = None,
    grace: timedelta | None = None,
) -> str:
    """A payment the guard took (cash, QR code, monthly account); the receipt number is made if not
    given. It is for the car with `plate`, or with none, the car let in on the pass `pass_id`, or
    on a resident's card that names no car (`subject`: resident:3)."""
    if not receipt:
        local = at.astimezone(tz)  # type: ignore[arg-type]
        day = to_db(local.replace(hour=0, minute=0, second=0, microsecond=0))
        n = conn.execute("SELECT count(*) FROM payments WHERE at >= ?", (day,)).fetchone()[0]
        receipt = f"{local:%Y%m%d}-{n + 1:04d}"
    try:
        cursor = conn.execute(
            "INSERT INTO payments (subject, plate, stay_id, lane, at, fee_until, amount_fen, method, "
            "receipt, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (subject, plate, stay_id, lane, to_db(at), to_db(fee_until), amount_fen, method, receipt, actor),
        )
    except sqlite3.IntegrityError as exc:
        raise _receipt_used(receipt) from exc
    if grace is not None:  # the grace its receipt's leave_by gave (schema migration 52)
        conn.execute(
            "INSERT INTO payment_graces (payment_id, grace_s) VALUES (?, ?)",
            (cursor.lastrowid, round(grace.total_seconds())),
        )
    paid_for = f"pass:{pass_id}" if pass_id is not None else f"plate:{plate}" if plate else subject
    audit(conn, at, actor, "payment.take", paid_for, f"{amount_fen} fen {method} {receipt} at {lane}")
    enqueue(
        conn,
        "payment",
        payment_record(at, plate, pass_id, stay_id, lane, amount_fen, method, receipt, actor),
        at,
        uuid7(),
    )
    return receipt


# A receipt number's payment, and whether the car has moved on from what it paid for: a stay of
# the car (by its plate, or by whom it was paid for: a pass without a plate, a resident's card
# that names no car) begun after the stay it paid (after the payment, for a car that had none); or,
# that stay closed, the car held to pay at an exit since (back in on an entry the camera missed):
# on its plate, the plate its stay carried, its resident's card or its pass's QR. A tablet sending a
# payment again is answered before either. By its plate alone, a pass's car back another day (its
# stay carries the plate the camera read, its payment none) was answered already_paid.
# "Since" and "after" are by record, not by time (docs/parking.md, *When the clock jumps*): NTP
# setting the clock back after the payment dates the car's return before it, and a day's fee held
# at 22:50 was taken for the 23:01 payment sent again. The record the car left on after it paid
# (`left_on`): its stay's exit (or the hold an opening by hand let it out on), or with no stay, the
# lane's decision the payment let it out on (its time and lane, typed by its guard); a hold or an
# entry newer than that row is after it. With none (a booth payment of charges carried, a stay an
# admin closed) and for a stay with no entry record (an admin's), by time as before.
# Both look forward from an hour before the payment on indexes (the stays' id or entry time, the
# holds' time): a clock set back more than an hour in between is not looked for (as for a hold,
# gateway/store/holds.py starts_hold_sql). The holds only when no later stay says so (SQLite's CASE
# stops at the first answer; OR does not). `left_on` is found once (materialized), not for each hold.
_PAID_STAY_PLATE = "(SELECT ps.plate FROM stays ps WHERE ps.id = p.stay_id)"
_LEFT_ON = f"""coalesce(
    (SELECT x.id FROM stays s JOIN access_log x ON x.event_id = s.exit_event WHERE s.id = p.stay_id),
    (SELECT max(x.id) FROM access_log x INDEXED BY access_log_at
     WHERE x.at = p.at AND x.lane = p.lane AND x.device = '{TYPED_BY}' || p.actor))"""
_AN_HOUR_BEFORE = "strftime('%Y-%m-%dT%H:%M:%f', p.at, '-1 hour')"
_ENTRY_ROW = "(SELECT e.id FROM access_log e WHERE e.event_id = s.entry_event)"
_RECEIPT = f"""
WITH p AS MATERIALIZED (SELECT p.*, {_LEFT_ON} AS left_on FROM payments p WHERE p.receipt = ?)
SELECT coalesce(p.plate, p.subject), p.amount_fen, p.at, CASE
    WHEN EXISTS (SELECT 1 FROM stays s WHERE (s.subject = p.subject OR s.plate = p.plate)
                 AND (s.id > p.stay_id
                      OR (p.stay_id IS NULL AND s.entered_at >= {_AN_HOUR_BEFORE}
                          AND coalesce({_ENTRY_ROW} > p.left_on, s.entered_at > p.at)))) THEN 1
    WHEN EXISTS (SELECT 1 FROM stays s WHERE s.id = p.stay_id AND s.exited_at IS NULL) THEN 0
    ELSE EXISTS (SELECT 1 FROM access_log a INDEXED BY access_log_held_at
                 WHERE a.at >= {_AN_HOUR_BEFORE} AND coalesce(a.id > p.left_on, a.at > p.at)
                 AND a.reason = 'payment_due'
                 AND ({car_held_sql("a")} IN (p.plate, p.subject, {_PAID_STAY_PLATE})
                      OR (a.kind = 'qr' AND a.holder_kind || ':' || a.holder_id = p.subject)))
END
FROM p
"""


def check_receipt(conn: sqlite3.Connection, receipt: str, paid_for: str, amount_fen: int, tz: tzinfo) -> None:
    """Before anything else about a payment: a receipt number already recorded is either this
    payment sent again (a tablet that lost the answer: it went through) or a typing mistake.
    It is sent again only for the same car, amount and stay (_RECEIPT): the same car owing the
    same fee for a later stay, and typed an old number, still owes it.
    `paid_for`: the car's plate, or for a car on a pass without a plate, the pass (visitor:12)."""
    if not receipt:
        return
    row = conn.execute(_RECEIPT, (receipt,)).fetchone()
    if row is None:
        return
    car, amount, paid_at, moved_on = row
    if (car, amount) != (paid_for, amount_fen) or moved_on:
        raise _receipt_used(receipt)
    at = datetime.fromisoformat(paid_at).astimezone(tz)
    raise ParkingError(
        "nothing is owed",
        fix=f"receipt {receipt} for {yuan(amount_fen)}元 went through on {at:%Y-%m-%d at %H:%M}: "
        "take nothing again",
        code="already_paid",
    )


def _receipt_used(receipt: str) -> ParkingError:
    return ParkingError(
        f"receipt {receipt!r} is already used", fix="give the receipt's own number", code="receipt_used"
    )
