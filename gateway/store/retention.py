"""Deleting records past their retention, in small batches on the worker (a lane never waits long);
a pass's messages not yet delivered are kept, scrubbed of its phone and ID numbers and occupants.

With MQTT on, access records go only once the central server has confirmed them (their outbox
row's sent_at) and the retention period since has passed: a record never delivered is never deleted
here. With MQTT off there is nowhere to deliver to, so an access record goes once it is older than
the retention period, and with it every outbox row (of any kind) queued before that: nothing would
ever send them, and a record kept past its retention is what the retention setting forbids.

The entry record of a stay still open is kept until the stay closes (_NOT_AN_OPEN_ENTRY), and a
person's latest entry on foot on each of their cards and QRs while they are recorded inside on
foot (_NOT_AN_ENTRY_OF_SOMEONE_INSIDE). Closed alarms and patrol taps and rounds go with access records
(by their own age; patrol taps and rounds not while the patrol check still looks back at them: the
caller's cutoff; an alarm not while it waits for a guard's acknowledgement, _OLD_ALARMS); the audit
trail after
`retention.audit_days`, from its start, never its last 180 days (the database refuses).

A table's newest row is kept until a newer one is written, however old it is (a box quiet for
months): SQLite gives a new row the id after the highest one left, so deleting the newest would
give its id again, and an id names one record for good (an audit row's `alarm:N`, a payment's
stay, the first row of a boot). The audit trail's newest row the database keeps anyway.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime

from gateway.config.parking import AUDIT_FLOOR_DAYS
from gateway.store.alarms import ON_THE_GUARDS_LIST
from gateway.store.card_respell import old_spelling
from gateway.store.database import transaction
from gateway.store.lookup import holder_subject
from gateway.store.report_rebuilds import forget_rebuilds_before
from gateway.timefmt import to_db

BATCH = 2000


def _not_newest(table: str, alias: str = "") -> str:
    """SQL: the row is not the table's newest, whose id would be given again (module docstring)."""
    column = f"{alias}.id" if alias else "id"
    return f"{column} < (SELECT max(id) FROM {table})"


# The entry record of a stay still open is kept, however old: the car's stay reads it until it
# leaves (a renewal finds the paying stay by its monthly_expired flag, gateway/store/renewals.py; a
# card moved to a new car still lets out the old car it let in, gateway/store/lookup.py). Once the
# stay closes, the next pass deletes it. No index on stays.entry_event (adding one is a migration),
# so the open stays, a car park's worth, are read first, through one of the partial indexes on them
# (NOT IN a subquery of its own: SQLite builds the set once per statement); a correlated NOT EXISTS
# would read every stay for every record. Not NULL: NOT IN a set holding NULL is never true.
_NOT_AN_OPEN_ENTRY = """a.event_id NOT IN (
    SELECT entry_event FROM stays WHERE exited_at IS NULL AND entry_event IS NOT NULL)"""


def _latest_entry_on(value: str) -> str:
    """SQL: the id of the latest entry on foot of the holder `h` on the card or QR `value` (0: none);
    `value` old_spelling's too (gateway/store/card_respell.py)."""
    return f"""coalesce((SELECT e.id FROM access_log e INDEXED BY access_log_on_foot
            WHERE e.kind = h.kind AND e.value = {value} AND e.admitted = 1 AND e.lane_type = 'pedestrian'
              AND e.direction = 'entrance' AND e.holder_kind = h.holder_kind AND e.holder_id = h.holder_id
            ORDER BY e.id DESC LIMIT 1), 0)"""


# Of each card or QR held by a person recorded inside on foot, that person's latest admitted entry
# on foot on it is kept, however old, as an open stay's entry is: when the register strikes the
# card off while they are at home, the exit door lets them out as the holder that entry let in
# (schema migration 44 remembers it then, read by card and holder as here, gateway/store/lookup.py
# _struck_off_on_foot); deleted first, a resident at home longer than access records are kept and
# then deleted was kept in at the exit door. Kept by card, not by person: a household's two cards
# on one resident's record are one presence, and kept only the later entry of the two, the husband
# deleted with his household was shut in on his own card. Once they leave, or are struck off, the
# next pass deletes it. Found as the open stays are, a set built once per statement: the people
# inside through their index, their cards through the register's indexes by holder, each card's
# latest entry by them through the index of passages on foot by credential (migration 38), from
# its newest back (a card's latest passages are its holder's). Not NULL for a card with no entry
# kept (0, no record's id): NOT IN a set holding NULL is never true.
_NOT_AN_ENTRY_OF_SOMEONE_INSIDE = f"""a.id NOT IN (
    WITH inside(holder_kind, holder_id) AS NOT MATERIALIZED (
        SELECT substr(p.subject, 1, instr(p.subject, ':') - 1),
            CAST(substr(p.subject, instr(p.subject, ':') + 1) AS INTEGER)
        FROM presence p INDEXED BY presence_inside WHERE p.inside = 1),
    held(kind, value, holder_kind, holder_id) AS (
        SELECT c.kind, c.value, i.holder_kind, i.holder_id
        FROM inside i JOIN credentials c INDEXED BY credentials_resident ON c.resident_id = i.holder_id
        WHERE i.holder_kind = 'resident'
        UNION ALL
        SELECT c.kind, c.value, i.holder_kind, i.holder_id
        FROM inside i JOIN credentials c INDEXED BY credentials_pass ON c.pass_id = i.holder_id
        WHERE i.holder_kind IN ('visitor', 'contractor'))
    SELECT max({_latest_entry_on("h.value")}, {_latest_entry_on(old_spelling("h.value"))})
    FROM held h WHERE h.kind IN ('card', 'qr'))"""

# Oldest first by time, through the time index: a batch reads only records older than the cutoff
# (those still kept, undelivered or an open stay's entry, and the batch). In id order SQLite walked
# the log by rowid up to its newest record, so an hourly pass with nothing due (most hours: only the
# hour that just passed retention is) read every record kept, on the decision worker, and the lanes
# waited for it the longer the longer the log. The index gives (at, id) order itself: no sort.
_DELIVERED = f"""
SELECT a.id, a.event_id FROM access_log a INDEXED BY access_log_at JOIN outbox o ON o.event_id = a.event_id
WHERE o.sent_at IS NOT NULL AND o.sent_at < :cutoff AND a.at < :cutoff AND {_not_newest("access_log", "a")}
AND {_NOT_AN_OPEN_ENTRY} AND {_NOT_AN_ENTRY_OF_SOMEONE_INSIDE}
ORDER BY a.at, a.id LIMIT :batch
"""
_OLD = f"""
SELECT a.id, a.event_id FROM access_log a INDEXED BY access_log_at
WHERE a.at < :cutoff AND {_not_newest("access_log", "a")}
AND {_NOT_AN_OPEN_ENTRY} AND {_NOT_AN_ENTRY_OF_SOMEONE_INSIDE}
ORDER BY a.at, a.id LIMIT :batch
"""


# What names an access record by its event id, and goes with it: its upstream message, a guard's
# plate corrections of it, the opening by hand that ended the hold it was the last decision of
# (gateway/store/holds.py end_hold_by_hand): with its record gone, that names no hold; and, for an
# exit whose barrier did not open, that its stay was put back (gateway/store/exits_put_back.py put_back).
_NAMING_ACCESS_RECORDS = (
    ("outbox", "event_id"),
    ("plate_corrections", "event_id"),
    ("let_outs_by_hand", "held_event"),
    ("exits_put_back", "event_id"),
)

# What an exit door remembers of a card or QR struck off (schema migration 44, lookup.py
# _struck_off_on_foot) goes with the access records of its time, through its index on that time.
_FORGOTTEN_STRUCK_OFF = """
DELETE FROM struck_off_on_foot WHERE (kind, value) IN (
    SELECT kind, value FROM struck_off_on_foot INDEXED BY struck_off_on_foot_at
    WHERE at < :cutoff LIMIT :batch)
"""


def prune_access_records(
    conn: sqlite3.Connection, cutoff_at: datetime, batch: int = BATCH, *, upstream: bool = True
) -> int:
    """One batch of access records (with what names them: _NAMING_ACCESS_RECORDS) past the cutoff.

    upstream: MQTT is on, so a record must also have been delivered before the cutoff.
    """
    cutoff = to_db(cutoff_at)
    with transaction(conn):
        sql = _DELIVERED if upstream else _OLD
        rows = conn.execute(sql, {"cutoff": cutoff, "batch": batch}).fetchall()
        if rows:
            conn.executemany("DELETE FROM access_log WHERE id = ?", [(r[0],) for r in rows])
            for table, column in _NAMING_ACCESS_RECORDS:
                conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(r[1],) for r in rows])
        conn.execute(_FORGOTTEN_STRUCK_OFF, {"cutoff": cutoff, "batch": batch})
        # Other upstream messages (alarms, payments, reports) once delivered need no local copy;
        # without MQTT none is ever delivered, and one queued before the cutoff has had its time.
        done = "sent_at IS NOT NULL AND sent_at < ?" if upstream else "created_at < ?"
        conn.execute(
            f"DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE {done} "
            "AND topic != 'access' LIMIT ?)",
            (cutoff, batch),
        )
    return len(rows)


def prune_closed_stays(conn: sqlite3.Connection, closed_before: datetime, batch: int = BATCH) -> int:
    """Stays closed before the cutoff (charges and payments keep their own copy of plate and amounts)."""
    with transaction(conn):
        ids = conn.execute(
            f"SELECT id FROM stays WHERE exited_at IS NOT NULL AND exited_at < ? AND {_not_newest('stays')} "
            "LIMIT ?",
            (to_db(closed_before), batch),
        ).fetchall()
        conn.executemany("DELETE FROM validations WHERE stay_id = ?", ids)
        conn.executemany("DELETE FROM stays WHERE id = ?", ids)
    return len(ids)


def prune_materials(conn: sqlite3.Connection, before: datetime, batch: int = BATCH) -> int:
    """Records of materials carried out before the cutoff (kept as long as access records)."""
    with transaction(conn):
        ids = conn.execute(
            f"SELECT id FROM materials_out WHERE at < ? AND {_not_newest('materials_out')} LIMIT ?",
            (to_db(before), batch),
        ).fetchall()
        conn.executemany("DELETE FROM materials_out WHERE id = ?", ids)
    return len(ids)


# A pass's messages to the central server (registered, checked out) hold its masked numbers too.
# Found through migration 33's index on this very expression (SQLite matches it as written): a
# batch of passes reads their own messages, not every row of the outbox.
_PASS_MESSAGES = (
    "topic = 'pass' AND json_extract(payload, '$.pass.id') IN (SELECT value FROM json_each(:ids))"
)
# One never delivered still goes (the centre hears of the visit) but without what may not be kept.
_SCRUB_PASS_MESSAGES = f"""
UPDATE outbox SET payload = json_set(payload, '$.pass.phone', '', '$.pass.id_number', '',
    '$.pass.id_kind', '', '$.pass.occupants', json('[]'))
WHERE sent_at IS NULL AND {_PASS_MESSAGES}
"""


# A pass whose car a guard blocked ("Block now" on its plate: a driver who threatened him, a car
# reported stolen) is kept past visitors_days as the holder of that plate, bare of what is the
# visitor's (name, masked numbers and their hashes, the people in the car, company, destination,
# reason) and of its QR. Deleted with it, the blocked plate went too (a plate needs a holder:
# credentials' CHECK): the car came in as a temporary one and could not be blocked again (404
# unregistered_plate), with nothing on record. The block is the car's (docs/parking.md, *Nobody is
# kept in*) until an admin lifts it; the first pass after that deletes what is left.
_CAR_BLOCKED = (
    "EXISTS (SELECT 1 FROM credentials c WHERE c.pass_id = p.id AND c.kind = 'plate' AND c.blocked)"
)
_BARE = """(p.name = '' AND p.phone_masked = '' AND p.phone_hash = '' AND p.id_masked = ''
    AND p.id_hash = '' AND p.company = '' AND p.destination = '' AND p.reason = ''
    AND NOT EXISTS (SELECT 1 FROM pass_people o WHERE o.pass_id = p.id)
    AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.pass_id = p.id AND c.kind != 'plate'))"""
_ENDED_PASSES = f"""
SELECT p.id, p.kind, {_CAR_BLOCKED} FROM passes p
WHERE min(p.valid_to, coalesce(p.checked_out_at, p.valid_to)) < ? AND NOT ({_CAR_BLOCKED} AND {_BARE})
LIMIT ?
"""
_STRIP_PASS = """UPDATE passes SET name = '', phone_masked = '', phone_hash = '', id_masked = '',
    id_hash = '', company = '', destination = '', reason = '' WHERE id = ?"""


def prune_visitors(
    conn: sqlite3.Connection, ended_before: datetime, batch: int = BATCH, *, upstream: bool = True
) -> int:
    """Visitor and contractor passes (name, masked numbers and their hashes) ended before the cutoff;
    their QR and plate credentials go with them, and so do where each holder was last seen
    (presence) and the pass's messages upstream: deleted once delivered, else stripped of the phone
    and ID numbers and the occupants. `upstream`: MQTT is on; off, nothing will ever send them, so
    they are deleted too (kept, the visitor's masked name, plate, unit and reason outlived
    visitors_days by months, until the access records' retention). A pass whose car is blocked is
    stripped of the visitor's data instead, and kept with its plate (_CAR_BLOCKED)."""
    cutoff = to_db(ended_before)
    with transaction(conn):
        rows = conn.execute(_ENDED_PASSES, (cutoff, batch)).fetchall()
        for pid, _, car_blocked in rows:
            if car_blocked:
                conn.execute(_STRIP_PASS, (pid,))
                conn.execute("DELETE FROM pass_people WHERE pass_id = ?", (pid,))
                conn.execute("DELETE FROM credentials WHERE pass_id = ? AND kind != 'plate'", (pid,))
            else:
                conn.execute("DELETE FROM passes WHERE id = ?", (pid,))
        conn.executemany(
            "DELETE FROM presence WHERE subject = ?", ((holder_subject(kind, pid),) for pid, kind, _ in rows)
        )
        if rows:
            ids = {"ids": json.dumps([pid for pid, _, _ in rows])}
            delivered = "sent_at IS NOT NULL AND " if upstream else ""
            conn.execute(f"DELETE FROM outbox WHERE {delivered}{_PASS_MESSAGES}", ids)
            conn.execute(_SCRUB_PASS_MESSAGES, ids)
    return len(rows)


# The newest row written, and what the audit trail's trigger (migration 16) compares a row to delete
# with, in its own form: neither is SQLite's reading of the time.
_AUDIT_NEWEST = (
    f"SELECT at, strftime('%Y-%m-%dT%H:%M:%f', at, '-{AUDIT_FLOOR_DAYS} days') FROM audit "
    "ORDER BY id DESC LIMIT 1"
)


def prune_audit(conn: sqlite3.Connection, before: datetime, batch: int = BATCH) -> int:
    """One batch of the audit trail's oldest rows, up to the first one written at or after the cutoff.

    The trail is cut from its start, in the order it was written: a row written on a Pi's stale boot
    clock (dated earlier than the rows before it) goes only with them, not ahead of its time. A row
    dated after the newest row was written on a clock that ran ahead for a moment (a bad time source,
    set back since): it holds back none of the rows after it. A row the database refuses to delete
    is passed over (the one dated ahead; a trail quiet for months: the newest row is old)."""
    cutoff = to_db(before)
    with transaction(conn):
        newest = conn.execute(_AUDIT_NEWEST).fetchone()
        if newest is None:
            return 0
        newest_at, floor = newest
        reached = ""  # the latest time written so far, on a clock not ahead
        ids: list[tuple[int]] = []
        for row_id, at in _written_in_order(conn, batch):
            if at <= newest_at:
                reached = max(reached, at)
            if reached >= cutoff or len(ids) == batch:
                break
            if at <= floor:
                ids.append((row_id,))
        conn.executemany("DELETE FROM audit WHERE id = ?", ids)
    return len(ids)


def _written_in_order(conn: sqlite3.Connection, page: int) -> Iterator[tuple[int, str]]:
    """The trail's rows (id, at), oldest first, read a page at a time: most passes stop early."""
    last = 0
    while rows := conn.execute(
        "SELECT id, at FROM audit WHERE id > ? ORDER BY id LIMIT ?", (last, page)
    ).fetchall():
        yield from rows
        last = rows[-1][0]


# Kept as long as access records: what the monitoring centre and the patrol report looked at.
# An alarm still open stays however old it is. Found through their time indexes (schema migration
# 43): a batch reads what it deletes. Without them a pass with nothing due read every closed alarm
# and every round kept (their key begins with the route), on the decision worker, every hour.
# An alarm still waiting for a guard's acknowledgement (an event that ended on its own unseen, a
# barrier forced and let down again: gateway/store/alarms.py ON_THE_GUARDS_LIST) is kept, however
# old: it stays on his list and badge until he acknowledges it, and the next pass after that
# deletes it if it ended before the cutoff.
_OLD_ALARMS = (
    "SELECT id FROM alarms INDEXED BY alarms_cleared WHERE cleared_at IS NOT NULL AND cleared_at < :cutoff "
    f"AND {_not_newest('alarms')} AND NOT (acknowledged_at IS NULL AND {ON_THE_GUARDS_LIST}) LIMIT :batch"
)
_OLD_TAPS = f"SELECT id FROM patrol_taps WHERE at < :cutoff AND {_not_newest('patrol_taps')} LIMIT :batch"
_OLD_ROUNDS = (
    "SELECT route, due_at FROM patrol_rounds INDEXED BY patrol_rounds_due WHERE due_at < :cutoff LIMIT :batch"
)


def prune_alarms(conn: sqlite3.Connection, before: datetime, batch: int = BATCH) -> int:
    """One batch of alarms closed before the cutoff."""
    with transaction(conn):
        ids = conn.execute(_OLD_ALARMS, {"cutoff": to_db(before), "batch": batch}).fetchall()
        conn.executemany("DELETE FROM alarms WHERE id = ?", ids)
    return len(ids)


def prune_patrol(conn: sqlite3.Connection, before: datetime, batch: int = BATCH) -> int:
    """One batch of patrol taps made, and of rounds due, before the cutoff (the larger count: a full
    batch of either means there may be more). The cutoff is no later than the patrol check's
    look-back (Operations.patrols_kept_from): a round it finds no record of it judges anew."""
    args = {"cutoff": to_db(before), "batch": batch}
    with transaction(conn):
        taps = conn.execute(_OLD_TAPS, args).fetchall()
        rounds = conn.execute(_OLD_ROUNDS, args).fetchall()
        conn.executemany("DELETE FROM patrol_taps WHERE id = ?", taps)
        conn.executemany("DELETE FROM patrol_rounds WHERE route = ? AND due_at = ?", rounds)
    return max(len(taps), len(rounds))


def prune_reports(conn: sqlite3.Connection, before_day: str) -> int:
    with transaction(conn):
        forget_rebuilds_before(conn, before_day)
        return conn.execute("DELETE FROM daily_reports WHERE day < ?", (before_day,)).rowcount
