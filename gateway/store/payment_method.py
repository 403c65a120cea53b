"""A payment's method corrected: the guard tapped 扫码已付 (paid by QR) for a fee the driver paid in
cash, or the reverse. His 交班 then showed the drawer over (or short), and the daily report's revenue
by method and the centre's `payment` record said QR: the QR reconciliation was wrong.

Only the method changes, between cash and QR: the amount, the car, the time and the receipt stay as
they were taken. The payment row says the method now; the audit trail keeps the one it was taken
with (`payment.take`, append-only) and the correction beside it (`payment.method`: before -> after,
the reason), and the centre gets the payment again (`"change": "method_corrected"`), as a re-dated
one is sent (gateway/store/redate.py): the newest record of a receipt holds. A daily report kept
for the payment's day has the amount moved between its methods and is sent again, its other figures
as built (gateway/parking/report.py, move_method_in_kept_reports).

Who may: an admin, any payment; a guard, a payment of his own (or a token's for him, as his shift
counts it) taken in his shift as it stands (gateway/store/shifts.py): once handed over, the drawer
counted against it, only an admin may change what it held.

Like gateway/store/payments.py, this runs on the decision worker, in one transaction of its own."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from gateway.errors import Conflict, Forbidden, NotFound, Refused
from gateway.parking.report import move_method_in_kept_reports
from gateway.privacy import mask_numbers_in
from gateway.store.audit import audit, transaction
from gateway.store.outbox import enqueue
from gateway.store.payments import payment_record
from gateway.store.shifts import shift_of
from gateway.timefmt import from_db

CORRECTABLE = ("cash", "qr")  # a monthly account's payment is not money in a drawer or a QR account
ACTION = "payment.method"
# A pass's subject (visitor:12) names the pass its car was let in on (docs/mqtt.md `payment`).
_PASS_KINDS = ("visitor", "contractor")


@dataclass(frozen=True, slots=True)
class MethodCorrected:
    receipt: str
    amount_fen: int
    taken_at: datetime
    taken_by: str  # the payment's actor
    previous_method: str
    method: str
    by: str
    at: datetime
    reason: str
    audit_id: int
    reports: list[date]  # the days whose kept report had the amount moved and was sent again


_COLUMNS = "id, subject, plate, stay_id, lane, at, amount_fen, method, receipt, actor"


def find_payment(conn: sqlite3.Connection, ref: str) -> tuple[Any, ...]:
    """The payment `ref` names: its receipt number (what the guard handed the driver, and what the
    centre keys payments by), or else, all digits, its id. 404 unknown_payment for neither."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM payments WHERE receipt = ?", (ref,)).fetchone()
    if row is None and ref.isdigit() and len(ref) < 19:
        row = conn.execute(f"SELECT {_COLUMNS} FROM payments WHERE id = ?", (int(ref),)).fetchone()
    if row is None:
        raise NotFound(
            f"no payment with receipt or id {ref!r}",
            fix="give the receipt number as the 交班 page or the receipt shows it",
            code="unknown_payment",
        )
    return tuple(row)


def correct_method(
    conn: sqlite3.Connection,
    ref: str,
    method: str,
    reason: str,
    *,
    by: str,
    admin: bool,
    now: datetime,
    tz: tzinfo,
    max_bytes: int,
) -> MethodCorrected:
    """Change the method of the payment `ref` names to `method` (cash or qr), for `by` (an admin, or
    the guard who took it, within his shift), with the audit row, the upstream record and the kept
    report of its day moved and sent again (cut to `max_bytes`), in one transaction. A phone number
    in the reason is kept and sent masked."""
    reason = mask_numbers_in(reason)
    with transaction(conn):
        pid, subject, plate, stay_id, lane, at_text, amount, before, receipt, actor = find_payment(conn, ref)
        taken_at = from_db(at_text)
        assert taken_at is not None
        if not admin:
            _may_correct(conn, by, receipt, actor, now)
        if before not in CORRECTABLE:
            raise Refused(
                f"receipt {receipt} was paid {before}, not in cash or by QR code: its method stays",
                fix="only a fee paid in cash or by QR code can be changed between the two",
                code="method_not_correctable",
                data={"method": before},
            )
        if before == method:
            raise Conflict(
                f"receipt {receipt} is recorded as {method} already",
                fix="nothing to do",
                code="already_done",
                data={"method": method},
            )
        conn.execute("UPDATE payments SET method = ? WHERE id = ?", (method, pid))
        row = audit(
            conn, now, by, ACTION, f"receipt:{receipt}", f"{amount} fen {before} -> {method}; {reason}"
        )
        kind, _, number = subject.partition(":")
        pass_id = int(number) if plate is None and kind in _PASS_KINDS and number.isdigit() else None
        local = now.astimezone(tz)
        record = payment_record(
            taken_at.astimezone(tz), plate, pass_id, stay_id, lane, amount, method, receipt, actor
        )
        extra = {
            "change": "method_corrected",
            "previous_method": before,
            "corrected_by": by,
            "reason": reason,
        }
        enqueue(conn, "payment", {**record, **extra}, local)
        days = move_method_in_kept_reports(conn, taken_at, amount, before, method, local, max_bytes)
    return MethodCorrected(receipt, amount, taken_at, actor, before, method, by, now, reason, row, days)


def _may_correct(conn: sqlite3.Connection, guard: str, receipt: str, actor: str, now: datetime) -> None:
    """A guard corrects a payment his shift holds, as the 交班 page lists it: the one whose drawer he
    is about to count. Before it began (handed over), or another's, an admin does."""
    shift = shift_of(conn, guard, now)
    if any(p.receipt == receipt for p in shift.payments):
        return
    # Whose the payment is as his shift reads `actor`: his own, or a token's for him (`token:booth
    # for guard1`), without regard to case, as user names are.
    name, taker = guard.casefold(), actor.casefold()
    if taker != name and not taker.endswith(f" for {name}"):
        raise Forbidden(
            f"receipt {receipt} was taken by {actor}, not by {guard}",
            fix="ask the guard who took it, or an admin, to correct it",
            code="not_your_payment",
        )
    raise Forbidden(
        f"receipt {receipt} was taken before this shift began "
        f"({shift.start.at.astimezone(now.tzinfo):%Y-%m-%d %H:%M}): its drawer was handed over",
        fix="ask an admin to correct it",
        code="not_this_shift",
    )
