"""A guard's shift (交班): when it began, what he took and did in it, and its handover.

The shift is read from what is recorded already, the payments (by their `actor`, a fee a booth
token took for him, `token:booth for guard1`, being his) and the audit trail (his logins, hand
openings, visitors); a handover adds its audit row (`shift.handover`) and its record for the centre
(`shift_handover`, docs/mqtt.md).

A shift begins at the guard's last handover: he may work on after it, log out and in again, and
the shift stays whole until his next one, however long it lasts. A guard who never handed over
begins at his first login of the last 36 hours (LOOK_BACK, real time: longer than the longest
shift, a 24-hour 做一休一 re-logged-in when its 12-hour session ended), and one with no login in
that window, or with fees a booth token took for him before that login (the night at the kiosk,
handed over in the morning), at the window's start: weeks of takings never add up, and the
kiosk's fees are in his first handover.

Where a shift begins and ends is by row order, not time (docs/parking.md, *When the clock jumps*):
the login or handover row keeps the id of the newest payment written before it (`shift_marks`), and
the shift holds his payments written after that and his audit rows after the row's own. A clock
set back dates the fees taken since before the login, and a fee the kiosk took while the handover
waited on the worker is dated before the handover but written after it: each is in one shift.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from gateway.errors import Conflict
from gateway.parking.desk_checks import METHODS, TAKEN_AT_THE_GATE
from gateway.privacy import mask_numbers_in
from gateway.store.audit import audit, done_already, transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import from_db, later, to_db

LOOK_BACK = timedelta(hours=36)
HANDOVER = "shift.handover"
# The audit actions a shift counts, by the name its summary gives them.
COUNTED = {
    "lane.open": "hand_opens",
    "lane.hold": "holds",
    "visitor.register": "visitors",
    "alarm.acknowledge": "alarms_acknowledged",
}

# Rows of the guard's own, or of a token that named him (`token:booth for guard1`, api/parking.py),
# without regard to case, as user names are. Names have no spaces, so ` for guard1` ends only his.
_HIS = (
    "(actor = :guard COLLATE NOCASE OR substr(actor, -length(:guard) - 5) = ' for ' || :guard COLLATE NOCASE)"
)


def _dated_from(table: str, at: str) -> str:
    """SQL for the id before the first row of `table` dated at or after `at` (an SQL expression),
    its newest id if none is: the mark of a start with no row of its own (the look-back's), or of a
    login written before shift_marks."""
    newest = f"(SELECT coalesce(max(id), 0) FROM {table})"
    # By its `at` index, among the rows dated from `at`: min(id) would otherwise walk the table from
    # its first row to the first dated so, a year of audit rows and every payment ever taken.
    return f"(SELECT coalesce(min(id) - 1, {newest}) FROM {table} INDEXED BY {table}_at WHERE at >= {at})"


@dataclass(frozen=True, slots=True)
class ShiftStart:
    at: datetime
    since: Literal["login", "handover", "look_back"]  # what began it
    payments_after: int  # the shift's payments are those of a higher id (written after its start)
    audit_after: int  # and its audit rows


@dataclass(frozen=True, slots=True)
class Payment:
    at: datetime
    plate: str | None
    amount_fen: int
    method: str
    receipt: str
    lane: str
    actor: str


@dataclass(frozen=True, slots=True)
class Shift:
    guard: str
    start: ShiftStart
    payments: list[Payment]  # oldest first
    by_method: dict[str, tuple[int, int]]  # method -> (count, total fen), every method listed
    counts: dict[str, int] = field(default_factory=dict)  # COUNTED's names -> rows

    @property
    def cash_fen(self) -> int:
        return self.by_method["cash"][1]

    @property
    def taken(self) -> tuple[int, int]:
        """(count, fen) of the money he took, cash and QR: the page's 合计. A fee put on a monthly
        account (月租) is no money, billed with the car's renewal, and not in it."""
        sums = [self.by_method[m] for m in TAKEN_AT_THE_GATE]
        return sum(n for n, _ in sums), sum(fen for _, fen in sums)

    @property
    def taken_fen(self) -> int:
        return self.taken[1]

    @property
    def total_fen(self) -> int:
        """Every fee recorded, monthly-account ones included, as the daily report's revenue_fen
        counts them (GET /api/shift `total_fen`): not the money taken (taken_fen)."""
        return sum(total for _, total in self.by_method.values())


def mark_payments(conn: sqlite3.Connection, audit_id: int) -> None:
    """Keep, for a login's or handover's audit row, the newest payment written before it: a shift
    begun there holds those after. In the transaction that writes the row."""
    conn.execute(
        "INSERT INTO shift_marks (audit_id, payment_id) SELECT ?, coalesce(max(id), 0) FROM payments",
        (audit_id,),
    )


def shift_start(conn: sqlite3.Connection, guard: str, now: datetime) -> ShiftStart:
    """Where `guard`'s shift began: his last handover; with none, his first login in LOOK_BACK, or
    the window's start where there is none or a fee was taken for him before it (a kiosk's token)."""
    # The marks newest first (a login's or a handover's), each's audit row by its id: the trail has
    # no index for an action or target, and joined the other way round all of it was read, a year.
    handed = conn.execute(
        "SELECT a.id, a.at, m.payment_id FROM shift_marks m CROSS JOIN audit a ON a.id = m.audit_id "
        "WHERE a.action = ? AND a.target = ? COLLATE NOCASE ORDER BY m.audit_id DESC LIMIT 1",
        (HANDOVER, guard),
    ).fetchone()
    if handed:
        return ShiftStart(_at(handed[1]), "handover", handed[2], handed[0])
    floor = later(now, -LOOK_BACK)
    payments_after, audit_after = conn.execute(
        f"SELECT {_dated_from('payments', ':at')}, {_dated_from('audit', ':at')}", {"at": to_db(floor)}
    ).fetchone()
    window = ShiftStart(floor, "look_back", payments_after, audit_after)
    login = conn.execute(
        f"SELECT a.id, a.at, coalesce(m.payment_id, {_dated_from('payments', 'a.at')}) "
        "FROM audit a INDEXED BY audit_at LEFT JOIN shift_marks m ON m.audit_id = a.id "
        "WHERE a.action = 'session.login' AND a.actor = ? COLLATE NOCASE AND a.at >= ? "
        "ORDER BY a.id LIMIT 1",
        (guard, to_db(floor)),
    ).fetchone()
    if login is None:
        return window
    # The night's fees a booth kiosk took for him before he logged in to hand them over are in no
    # handover of his if the shift began at the login: it begins at the window's start instead.
    taken_before = conn.execute(
        f"SELECT 1 FROM payments WHERE id > :after AND id <= :login AND {_HIS} LIMIT 1",
        {"after": payments_after, "login": login[2], "guard": guard},
    ).fetchone()
    return window if taken_before else ShiftStart(_at(login[1]), "login", login[2], login[0])


def shift_of(conn: sqlite3.Connection, guard: str, now: datetime) -> Shift:
    """`guard`'s shift as it stands at `now`."""
    start = shift_start(conn, guard, now)
    args = {"guard": guard, "payments_after": start.payments_after, "audit_after": start.audit_after}
    payments = [
        Payment(_at(at), plate, amount, method, receipt, lane, actor)
        for at, plate, amount, method, receipt, lane, actor in conn.execute(
            "SELECT at, plate, amount_fen, method, receipt, lane, actor FROM payments "
            f"WHERE id > :payments_after AND {_HIS} ORDER BY id",
            args,
        )
    ]
    by_method = {m: (0, 0) for m in METHODS}
    for p in payments:
        count, total = by_method.get(p.method, (0, 0))
        by_method[p.method] = (count + 1, total + p.amount_fen)
    actions = {f"a{i}": action for i, action in enumerate(COUNTED)}
    rows = conn.execute(
        f"SELECT action, count(*) FROM audit WHERE action IN ({', '.join(':' + a for a in actions)}) "
        f"AND id > :audit_after AND {_HIS} GROUP BY action",
        args | actions,
    )
    counts = dict.fromkeys(COUNTED.values(), 0) | {COUNTED[action]: n for action, n in rows}
    return Shift(guard, start, payments, by_method, counts)


@dataclass(frozen=True, slots=True)
class Handover:
    guard: str
    at: datetime
    start: ShiftStart
    recorded_cash_fen: int
    counted_cash_fen: int
    note: str
    audit_id: int
    by: str = ""  # who recorded it: the guard himself, or an admin for him (a dismissed guard's)

    @property
    def difference_fen(self) -> int:
        """Counted less recorded: below 0 the drawer is short (短款), above it over (长款)."""
        return self.counted_cash_fen - self.recorded_cash_fen


def hand_over(
    conn: sqlite3.Connection,
    guard: str,
    at: datetime,
    counted_cash_fen: int,
    note: str,
    tz: tzinfo,
    shown_cash_fen: int | None = None,
    shown_start: datetime | None = None,
    by: str | None = None,
) -> Handover:
    """Record `guard`'s handover: the cash his shift recorded, what he counted in the drawer, the
    difference; with its record for the centre. It covers the payments written before it: his
    next shift holds those after (shift_start). A phone number in the note is kept and sent masked.
    With `shown_start`, the start of the shift the guard was shown: that shift handed over since
    (he is logged in at two booths and pressed 交班 on both) is Conflict `already_done` naming the
    handover, nothing stored, rather than a second handover of the next, empty shift. With
    `shown_cash_fen`, the cash on record the guard was shown as he confirmed: a fee taken for him
    since (a booth's token) is Conflict `shift_changed`, nothing stored, rather than a difference
    he never saw. With `by`, an admin records it for the guard (one dismissed, his account disabled,
    or away): the audit row is the admin's, the guard its target, as a guard's own is his."""
    note = mask_numbers_in(note)
    by = by or guard
    with transaction(conn):
        shift = shift_of(conn, guard, at)
        if shown_start is not None and _handed_over_since(shift.start, shown_start):
            done_by, done_at = conn.execute(
                "SELECT actor, at FROM audit WHERE id = ?", (shift.start.audit_after,)
            ).fetchone()
            shown = shown_start.astimezone(tz).isoformat()
            raise done_already(conn, f"the shift begun at {shown} was handed over", done_by, done_at, by, at)
        recorded = shift.cash_fen
        if shown_cash_fen is not None and shown_cash_fen != recorded:
            raise Conflict(
                f"the cash on record is {recorded} fen now, not the {shown_cash_fen} fen confirmed: "
                "a fee was taken for this shift since",
                fix="check the drawer against the cash on record now and confirm again",
                code="shift_changed",
                data={"recorded_cash_fen": recorded},
            )
        detail = (
            f"cash recorded {recorded} fen, counted {counted_cash_fen} fen, "
            f"difference {counted_cash_fen - recorded:+d} fen"
        )
        row = audit(conn, at, by, HANDOVER, guard, f"{detail}; {note}" if note else detail)
        mark_payments(conn, row)
        made = Handover(guard, at, shift.start, recorded, counted_cash_fen, note, row, by)
        local = at.astimezone(tz)
        enqueue(conn, "shift_handover", handover_record(made, shift, tz), local)
    return made


def _handed_over_since(start: ShiftStart, shown: datetime) -> bool:
    """Whether the shift now began at a handover after the shift that began at `shown` (as
    GET /api/shift gives it, to the second). Only a handover begins a shift anew: a look-back's
    start moves on with the clock and a login's as its window does, and neither is a handover."""
    return start.since == "handover" and start.at.replace(microsecond=0) != shown


def handover_record(h: Handover, shift: Shift, tz: tzinfo) -> dict[str, Any]:
    """The `shift_handover` record for the centre (docs/mqtt.md): the guard by his user name alone,
    and who recorded it (`handed_over_by`: he, or an admin for him)."""
    return {
        "at": h.at.astimezone(tz).isoformat(),
        "guard": h.guard,
        "handed_over_by": h.by or h.guard,
        "shift_start": h.start.at.astimezone(tz).isoformat(),
        "since": h.start.since,
        "by_method": {m: {"count": n, "total_fen": fen} for m, (n, fen) in shift.by_method.items()},
        "recorded_cash_fen": h.recorded_cash_fen,
        "counted_cash_fen": h.counted_cash_fen,
        "difference_fen": h.difference_fen,
        "receipts": [p.receipt for p in shift.payments],
        "note": h.note,
    }


def _at(text: str) -> datetime:
    at = from_db(text)
    assert at is not None
    return at
