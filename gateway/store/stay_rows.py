"""A stay as the store has it, read into the book's StayFacts: a car's open stay, or one by its id.

Used by the account (gateway/store/parking.py) and by an exit put back (gateway/store/exits_put_back.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime

from gateway.parking.book import StayFacts
from gateway.store.flags_sql import has_flag_sql
from gateway.timefmt import from_db

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


def decided_with(flags: Iterable[str], stay: str = "stays") -> str:
    """SQL, true where the decision the stay `stay` (its table's name or alias) stands on carries
    one of `flags`: those kept on the stay where it was decided again or recorded by hand
    (redecided_flags, gateway/parking/inside.py), else its entry's own access record's, which says
    what the car came in as. A recorded stay has no entry record; one decided again came in as its
    access record does not say (the log is append-only). Read per stay through the log's unique
    event id: for the few stays of one car or slot, not for a scan of every stay."""
    wanted = tuple(flags)

    def carried(column: str) -> str:
        return " OR ".join(has_flag_sql(column, flag) for flag in wanted)

    return (
        f"CASE WHEN {stay}.redecided_flags IS NOT NULL THEN ({carried(f'{stay}.redecided_flags')})"
        f" ELSE EXISTS (SELECT 1 FROM access_log a WHERE a.event_id = {stay}.entry_event"
        f" AND ({carried('a.flags')})) END"
    )
