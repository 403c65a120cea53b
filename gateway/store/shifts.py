"""A guard's shift (交班): when it began, what he took and did in it, and its handover.

Nothing new is stored for a shift but its handover's audit row (`shift.handover`): the shift is read
from what is recorded already, the payments (by their `actor`, a fee a booth token took for him,
`token:booth for guard1`, being his) and the audit trail (his logins, hand openings, visitors).

A shift begins at the guard's first login after his last handover; a guard who handed over and
went on working without logging out begins his next at the handover. It is looked for in the last
24 hours only (LOOK_BACK): a guard who never hands over does not get weeks of takings, and one
with no login in that window (a booth token takes his fees) begins at the window's start.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from gateway.parking.desk_checks import METHODS
from gateway.store.audit import audit, transaction
from gateway.timefmt import from_db, to_db

LOOK_BACK = timedelta(hours=24)
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
    "(actor = :guard COLLATE NOCASE"
    " OR substr(actor, -length(:guard) - 5) = ' for ' || :guard COLLATE NOCASE)"
)
# A start that is a handover is after it: what was taken at its very time was handed over.
_SINCE = "(at > :at OR (at = :at AND :inclusive))"


@dataclass(frozen=True, slots=True)
class ShiftStart:
    at: datetime
    since: Literal["login", "handover", "look_back"]  # what began it
    inclusive: bool  # a payment at `at` itself is this shift's (not for a handover)


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
    def total_fen(self) -> int:
        return sum(total for _, total in self.by_method.values())


def shift_start(conn: sqlite3.Connection, guard: str, now: datetime) -> ShiftStart:
    """When `guard`'s shift began: his first login after his last handover, within LOOK_BACK."""
    floor = to_db(now - LOOK_BACK)
    handed = conn.execute(
        "SELECT id, at FROM audit WHERE action = ? AND target = ? COLLATE NOCASE AND at >= ? "
        "ORDER BY id DESC LIMIT 1",
        (HANDOVER, guard, floor),
    ).fetchone()
    after_id, after_at = handed if handed else (0, floor)
    login = conn.execute(
        "SELECT at FROM audit WHERE action = 'session.login' AND actor = ? COLLATE NOCASE "
        "AND at >= ? AND id > ? ORDER BY id LIMIT 1",
        (guard, after_at, after_id),
    ).fetchone()
    if login:
        return ShiftStart(_at(login[0]), "login", True)
    if handed:
        return ShiftStart(_at(handed[1]), "handover", False)
    return ShiftStart(now - LOOK_BACK, "look_back", True)


def shift_of(conn: sqlite3.Connection, guard: str, now: datetime) -> Shift:
    """`guard`'s shift as it stands at `now`."""
    start = shift_start(conn, guard, now)
    args = {"guard": guard, "at": to_db(start.at), "inclusive": start.inclusive}
    payments = [
        Payment(_at(at), plate, amount, method, receipt, lane, actor)
        for at, plate, amount, method, receipt, lane, actor in conn.execute(
            "SELECT at, plate, amount_fen, method, receipt, lane, actor FROM payments "
            f"WHERE {_SINCE} AND {_HIS} ORDER BY at, id",
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
        f"AND {_SINCE} AND {_HIS} GROUP BY action",
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

    @property
    def difference_fen(self) -> int:
        """Counted less recorded: below 0 the drawer is short (短款), above it over (长款)."""
        return self.counted_cash_fen - self.recorded_cash_fen


def hand_over(
    conn: sqlite3.Connection, guard: str, at: datetime, counted_cash_fen: int, note: str
) -> Handover:
    """Record `guard`'s handover: the cash his shift recorded, what he counted in the drawer, the
    difference. His next shift begins after it (shift_start)."""
    with transaction(conn):
        shift = shift_of(conn, guard, at)
        recorded = shift.cash_fen
        detail = (
            f"cash recorded {recorded} fen, counted {counted_cash_fen} fen, "
            f"difference {counted_cash_fen - recorded:+d} fen"
        )
        row = audit(conn, at, guard, HANDOVER, guard, f"{detail}; {note}" if note else detail)
    return Handover(guard, at, shift.start, recorded, counted_cash_fen, note, row)


def _at(text: str) -> datetime:
    at = from_db(text)
    assert at is not None
    return at
