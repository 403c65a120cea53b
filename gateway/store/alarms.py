"""Alarms: raised once per kind and source until cleared, each change recorded and sent upstream.

An alarm's message is an AlarmText (gateway/alarm_texts.py), kept as its key and parameters and
rendered in the reader's language.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, tzinfo
from typing import Any

from gateway.alarm_texts import AlarmText, from_stored, render_stored
from gateway.errors import NotFound
from gateway.privacy import mask_numbers_in
from gateway.store.audit import audit, done_already
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.timefmt import from_db, local_iso, to_db


def raise_alarm(conn: sqlite3.Connection, kind: str, source: str, text: AlarmText, at: datetime) -> bool:
    """True if this raised a new alarm; an alarm already open for the kind and source stays one."""
    with transaction(conn):
        raised = write_alarm(conn, kind, source, text, at)
    return raised


def raise_alarm_with(
    conn: sqlite3.Connection,
    then: Callable[[sqlite3.Connection], None],
    *,
    kind: str,
    source: str,
    text: AlarmText,
    at: datetime,
) -> bool:
    """raise_alarm, and `then` in the same transaction when it raised a new one (the event clips cut
    for it, gateway/runtime/event_clips.py), before its `raised` record is queued: the record names
    what `then` tied to it (_clips). The kind is the caller's, written out where it is made."""
    with transaction(conn):
        return write_alarm(conn, kind, source, text, at, then)


def write_alarm(
    conn: sqlite3.Connection,
    kind: str,
    source: str,
    text: AlarmText,
    at: datetime,
    then: Callable[[sqlite3.Connection], None] = lambda conn: None,
) -> bool:
    """raise_alarm inside a transaction the caller owns (the MQTT link's quarantine does)."""
    raised = conn.execute(
        "INSERT OR IGNORE INTO alarms (kind, source, message, raised_at) VALUES (?, ?, ?, ?) RETURNING id",
        (kind, source, text.stored(), to_db(at)),
    ).fetchall()
    for (alarm_id,) in raised:  # none when one is open already
        then(conn)
        _upstream(conn, "raised", alarm_id, kind, source, at, text)
    return bool(raised)


def open_alarm_text(conn: sqlite3.Connection, kind: str, source: str) -> AlarmText | None:
    """What the open alarm of this kind and source says; None when none is open (or it is a plain
    sentence from an older version)."""
    row = conn.execute(
        "SELECT message FROM alarms WHERE kind = ? AND source = ? AND cleared_at IS NULL", (kind, source)
    ).fetchone()
    return None if row is None else from_stored(row[0])


def reword_alarm(conn: sqlite3.Connection, kind: str, source: str, text: AlarmText, at: datetime) -> bool:
    """Give the open alarm of this kind and source new words, keeping when it was raised (a repair
    deadline counts from then). The centre gets its `raised` record again, dated when it was raised,
    with the new words. False when none is open or it says that already."""
    with transaction(conn):
        row = conn.execute(
            "SELECT id, raised_at FROM alarms WHERE kind = ? AND source = ? AND cleared_at IS NULL "
            "AND message != ?",
            (kind, source, text.stored()),
        ).fetchone()
        if row is None:
            return False
        alarm_id, raised = row
        conn.execute("UPDATE alarms SET message = ? WHERE id = ?", (text.stored(), alarm_id))
        _upstream(conn, "raised", alarm_id, kind, source, datetime.fromisoformat(raised), text, queued_at=at)
    return True


def clear_alarm(conn: sqlite3.Connection, kind: str, source: str, at: datetime) -> bool:
    with transaction(conn):
        return end_alarm(conn, kind, source, at)


def end_alarm(
    conn: sqlite3.Connection, kind: str, source: str, at: datetime, queued_at: datetime | None = None
) -> bool:
    """clear_alarm inside a transaction the caller owns (sending set-aside records again does);
    `queued_at` dates the outbox row when the clearing is of an earlier time (_upstream)."""
    cleared = conn.execute(
        "UPDATE alarms SET cleared_at = ? WHERE kind = ? AND source = ? AND cleared_at IS NULL RETURNING id",
        (to_db(at), kind, source),
    ).fetchall()
    for (alarm_id,) in cleared:  # one at most: one alarm is open per kind and source
        _upstream(conn, "cleared", alarm_id, kind, source, at, queued_at=queued_at)
    return bool(cleared)


# Alarms about one device, its id as the source: nothing reports on a device taken out of the site
# config, so nothing but the start (gateway/runtime/device_alarms.py, settle_alarms) would ever
# clear its alarms.
DEVICE_ALARMS = ("device_offline", "repair_overdue")
# Alarms about records waiting to go upstream: with MQTT off none waits to go anywhere.
UPLOAD_ALARMS = ("outbox_backlog", "outbox_quota")


def open_alarm_sources(conn: sqlite3.Connection, kinds: Collection[str]) -> list[tuple[str, str]]:
    """The (kind, source) of each open alarm of these kinds."""
    marks = ", ".join("?" * len(kinds))
    return conn.execute(
        f"SELECT kind, source FROM alarms WHERE cleared_at IS NULL AND kind IN ({marks})", tuple(kinds)
    ).fetchall()


def clear_open_alarms(
    conn: sqlite3.Connection, kinds: Collection[str], at: datetime, keep: Collection[str] = ()
) -> list[tuple[str, str]]:
    """Clear (here and upstream, in one transaction) the open alarms of these kinds, but for those
    whose source is in `keep`; returns the (kind, source) of each alarm cleared."""
    with transaction(conn):
        rows = open_alarm_sources(conn, kinds)
        cleared = [(kind, source) for kind, source in rows if source not in keep]
        for kind, source in cleared:
            end_alarm(conn, kind, source, at)
    return cleared


def _upstream(
    conn: sqlite3.Connection,
    state: str,
    alarm_id: int,
    kind: str,
    source: str,
    at: datetime,
    text: AlarmText | None = None,
    queued_at: datetime | None = None,
    **more: object,
) -> None:
    """Queue the record of an alarm's change; `queued_at` (default `at`) dates the outbox row, so
    that a record about an older change does not look like an old backlog, and is the site's clock:
    `at` goes in its zone, though read back from the store in UTC. `alarm_id` names the alarm in
    each of its records: the centre matches an acknowledgement or a clearing to its raise by it and
    `alarm_stream` (_ALARM_STREAM), not by kind and source (an old alarm of a lane acknowledged is
    not the one open now)."""
    now = queued_at or at
    payload: dict[str, object] = {
        "at": _in_zone(at, now),
        "state": state,
        "kind": kind,
        "source": source,
        "alarm_id": alarm_id,
        "alarm_stream": alarm_stream(conn, alarm_id),
    }
    if text is not None:  # the centre reads Chinese first; key and parameters let it word its own
        payload.update(
            message=text.render("zh"),
            message_en=text.render("en"),
            text={"key": text.key, "params": text.params},
        )
    elif state != "acknowledged":
        payload["message"] = ""
    if state == "raised" and (clips := _clips(conn, alarm_id)):
        payload["clips"] = clips
    payload.update(more)
    enqueue(conn, "alarm", payload, queued_at or at)


def _clips(conn: sqlite3.Connection, alarm_id: int) -> list[dict[str, str]]:
    """The clips of the lane's cameras tied to an alarm (event_clips: a barrier's alarms), as its
    `raised` record names them: "check the recording" (请查看录像) says which one (REQUIREMENTS 7)."""
    rows = conn.execute("SELECT file, camera FROM event_clips WHERE alarm_id = ? ORDER BY file", (alarm_id,))
    return [{"file": file, "camera": camera} for file, camera in rows]


# Which alarms an alarm_id is among: a database numbers its own, and each stream is one database's
# run of seqs (gateway/store/outbox.py), so those of the stream the record goes up in (the newest:
# a record is queued above its first seq), a new box's apart from the dead box's. But a stream
# begun by the first start of a version with streams (`upgrade`) goes on in the database whose
# records before it name no stream, and an alarm raised under the older gateway is acknowledged or
# cleared in it: None for those (up to the id migration 31 kept), as for a database without a
# stream yet. Those raised since carry the stream: a box put back on its copy from before the
# upgrade numbers its alarms from the same id again, without a stream.
_ALARM_STREAM = """
SELECT CASE WHEN reason = 'upgrade' AND :alarm_id <= coalesce(
    (SELECT CAST(value AS INTEGER) FROM config_seen WHERE key = 'alarms_before_streams'), 0)
THEN NULL ELSE stream END
FROM outbox_streams ORDER BY first_seq DESC LIMIT 1
"""


def alarm_stream(conn: sqlite3.Connection, alarm_id: int) -> str | None:
    """The `alarm_stream` that alarm `alarm_id`'s records name (_ALARM_STREAM)."""
    row = conn.execute(_ALARM_STREAM, {"alarm_id": alarm_id}).fetchone()
    return None if row is None else row[0]


def _noted(note: str) -> dict[str, Any]:
    """An `acknowledged` record's `note`: what the guard did about it, where he wrote anything."""
    return {"note": note} if note else {}


def _in_zone(at: datetime, now: datetime) -> str:
    """A time as records give it: with the site's offset, the zone of the site's clock `now`."""
    return at.astimezone(now.tzinfo).isoformat()


# An alarm's times as the alarms table keeps them, each with the record that told it upstream, in
# the order they are told.
_TOLD = (("raised_at", "raised"), ("acknowledged_at", "acknowledged"), ("cleared_at", "cleared"))


def tell_redated(
    conn: sqlite3.Connection, alarm_id: int, before: Mapping[str, str | None], now: datetime
) -> None:
    """An alarm's times were moved (`before`: the columns of _TOLD as they were): each record of it
    whose time moved goes up again, `"change": "redated"`, `at` its new time and `previous_at` the
    one it went with, so that the centre moves the record it has rather than count a new change.
    Call inside the transaction that moved them; `now` (the site's clock) dates the outbox rows."""
    kind, source, message, by, note, *after = conn.execute(
        "SELECT kind, source, message, acknowledged_by, acknowledged_note, raised_at, acknowledged_at, "
        "cleared_at FROM alarms WHERE id = ?",
        (alarm_id,),
    ).fetchone()
    for (column, state), stored in zip(_TOLD, after, strict=True):
        was, moved = from_db(before.get(column)), from_db(stored)
        if was is None or moved is None or was == moved:
            continue
        words = from_stored(message) if state == "raised" else None
        more = {"by": by, **_noted(note)} if state == "acknowledged" else {}
        previous = _in_zone(was, now)
        _upstream(
            conn,
            state,
            alarm_id,
            kind,
            source,
            moved,
            words,
            now,
            **more,
            change="redated",
            previous_at=previous,
        )


def open_alarms(
    conn: sqlite3.Connection, language: str = "zh", lane_names: Mapping[str, str] | None = None
) -> list[dict[str, object]]:
    cur = conn.execute(
        "SELECT id, kind, source, message, raised_at, acknowledged_at, acknowledged_by, acknowledged_note "
        "FROM alarms WHERE cleared_at IS NULL ORDER BY id DESC"
    )
    return _rendered(cur, language, lane_names)


def open_alarm_summary(conn: sqlite3.Connection, tz: tzinfo, limit: int = 50) -> dict[str, object]:
    """The alarms open now, for the health report: how many of each kind, and the newest `limit`
    of them by id, kind, source and time raised (times in the site's zone `tz`). A centre that
    subscribes after an alarm was raised learns from the retained report that it is still open."""
    counts = dict(
        conn.execute(
            "SELECT kind, count(*) FROM alarms WHERE cleared_at IS NULL GROUP BY kind ORDER BY kind"
        ).fetchall()
    )
    newest = [
        {
            "alarm_id": alarm_id,
            "alarm_stream": alarm_stream(conn, alarm_id),  # as its records name it
            "kind": kind,
            "source": source,
            "raised_at": local_iso(raised_at, tz),
            "acknowledged": acknowledged is not None,
        }
        for alarm_id, kind, source, raised_at, acknowledged in conn.execute(
            "SELECT id, kind, source, raised_at, acknowledged_at FROM alarms "
            "WHERE cleared_at IS NULL ORDER BY id DESC LIMIT ?",
            (limit,),
        )
    ]
    return {"count": sum(counts.values()), "by_kind": counts, "newest": newest}


def _rendered(
    cur: sqlite3.Cursor, language: str, lane_names: Mapping[str, str] | None
) -> list[dict[str, object]]:
    """Rows with the message in the reader's language (lanes by their names) and its key and
    parameters beside it."""
    names = [d[0] for d in cur.description]
    rows = []
    for values in cur:
        row: dict[str, object] = dict(zip(names, values, strict=True))
        stored = str(row["message"])
        text = from_stored(stored)
        row["message"] = render_stored(stored, language, lane_names)
        row["text"] = None if text is None else {"key": text.key, "params": text.params}
        if "to_acknowledge" in row:
            row["to_acknowledge"] = bool(row["to_acknowledge"])
        rows.append(row)
    return rows


# Alarms about something that happened (not a state that lasts): acknowledging them closes them.
# A patrol round late or missed, a record set aside, or the clock stepped, is over once the guard
# has dealt with it; nothing else would ever clear them.
EVENT_ALARMS = frozenset(
    {
        "forced_open",
        "tailgate",
        "repeated_unknown_plate",
        "patrol_late",
        "patrol_missed",
        "outbox_quarantine",
        "clock_stepped",
    }
)


# Events that end by someone's doing, or say so in another alarm, or are taken back: a late patrol
# round ends as it is walked (late; its centre has both records) or judged missed (patrol_missed,
# which waits for the guard, says it all); a record set aside ends when an admin sends it again
# (audited). A round missed ends only as the guard acknowledges it (closing it), or as it is taken
# back, with a late one, when NTP sets the clock it was judged on (gateway/store/redate.py
# _undo_rounds: a round of a stale boot clock, never missed): nothing else ends it, so one ended
# unacknowledged was taken back, and an honestly missed round stays on the list, open, until he
# acknowledges it. Nothing is left for a guard to see of them once ended.
ENDED_BY_SOMEONE = frozenset({"patrol_late", "patrol_missed", "outbox_quarantine"})

# On the guard's list and badge until he acknowledges it: an alarm open (a condition until it
# ends), and an event alarm that ended on its own unacknowledged (a barrier forced at 03:00 and let
# down again while the guard was on patrol is still to be seen and handled: REQUIREMENTS 7). What
# goes upstream is not changed by it: `cleared` when it ended, `acknowledged` when he saw it. Those
# that ended before the version that keeps them (schema migration 56 marks the last alarm raised
# before it, and those of them still open then) ended unseen under the old rule and stay off: an
# upgrade does not bring months of them back at once. One still open at the upgrade (a barrier
# forced just before it, found down at the start after it) had not ended: it is kept as any since.
_EVENTS_SQL = ", ".join(f"'{kind}'" for kind in sorted(EVENT_ALARMS - ENDED_BY_SOMEONE))
_BEFORE_EVENTS_KEPT = (
    "coalesce((SELECT CAST(value AS INTEGER) FROM config_seen WHERE key = 'alarms_before_events_kept'), 0)"
)
_OPEN_WHEN_EVENTS_KEPT = (
    "(SELECT CAST(j.value AS INTEGER) FROM config_seen c, json_each(c.value) j "
    "WHERE c.key = 'alarms_open_when_events_kept')"
)
ON_THE_GUARDS_LIST = (
    f"(cleared_at IS NULL OR (acknowledged_at IS NULL AND kind IN ({_EVENTS_SQL}) "
    f"AND (id > {_BEFORE_EVENTS_KEPT} OR id IN {_OPEN_WHEN_EVENTS_KEPT})))"
)


def to_acknowledge(conn: sqlite3.Connection) -> int:
    """How many alarms wait for a guard to acknowledge them: the badge on his pages."""
    row = conn.execute(f"SELECT count(*) FROM alarms WHERE acknowledged_at IS NULL AND {ON_THE_GUARDS_LIST}")
    return int(row.fetchone()[0])


def acknowledge_alarm(
    conn: sqlite3.Connection, alarm_id: int, at: datetime, actor: str, note: str = ""
) -> dict[str, object]:
    """The guard has seen it. An event alarm (EVENT_ALARMS) closes; a device offline stays open
    until the device is back. `closed_now`: this acknowledgement closed it (one cleared before, seen
    afterwards under "Show all", was closed already). A phone number in the note is kept and sent
    masked, as the centre reads it."""
    note = mask_numbers_in(note)
    with transaction(conn):
        row = conn.execute(
            "SELECT kind, source, acknowledged_at, acknowledged_by, cleared_at FROM alarms WHERE id = ?",
            (alarm_id,),
        ).fetchone()
        if row is None:
            raise NotFound(f"no alarm {alarm_id}", fix="see the open alarms on the alarms page")
        kind, source, acknowledged, acknowledged_by, cleared = row
        if acknowledged:  # by whom and when: perhaps this guard, his last answer lost (done_already)
            raise done_already(
                conn, f"alarm {alarm_id} was acknowledged", acknowledged_by, acknowledged, actor, at
            )
        closes = kind in EVENT_ALARMS and cleared is None
        conn.execute(
            "UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ?, acknowledged_note = ?, "
            "cleared_at = CASE WHEN ? THEN ? ELSE cleared_at END WHERE id = ?",
            (to_db(at), actor, note, closes, to_db(at), alarm_id),
        )
        # REQUIREMENTS 7: the centre handles every alarm, so it reads how the guard handled it too.
        _upstream(conn, "acknowledged", alarm_id, kind, source, at, by=actor, **_noted(note))
        if closes:  # the centre closes it as it closes an alarm whose condition has ended
            _upstream(conn, "cleared", alarm_id, kind, source, at)
        audit(conn, at, actor, "alarm.acknowledge", f"alarm:{alarm_id}", f"{kind} {source} {note}".strip())
    closed = closes or cleared is not None
    return {"id": alarm_id, "kind": kind, "source": source, "closed": closed, "closed_now": closes}


def recent_alarms(
    conn: sqlite3.Connection,
    include_cleared: bool,
    closed_limit: int = 200,
    language: str = "zh",
    lane_names: Mapping[str, str] | None = None,
) -> list[dict[str, object]]:
    """Every alarm on the guard's list (ON_THE_GUARDS_LIST: open, or an event ended unacknowledged),
    newest first, and with `include_cleared` the newest `closed_limit` others among them: an alarm
    left off the list would never be handled (REQUIREMENTS 7). `to_acknowledge`: one the badge
    counts (an event ended since is one with its `cleared_at`)."""
    cur = conn.execute(
        "SELECT id, kind, source, message, raised_at, cleared_at, acknowledged_at, acknowledged_by, "
        f"acknowledged_note, acknowledged_at IS NULL AND {ON_THE_GUARDS_LIST} AS to_acknowledge "
        f"FROM alarms WHERE {ON_THE_GUARDS_LIST} OR id IN (SELECT id FROM alarms "
        f"WHERE ? AND NOT {ON_THE_GUARDS_LIST} ORDER BY id DESC LIMIT ?) ORDER BY id DESC",
        (include_cleared, closed_limit),
    )
    return _rendered(cur, language, lane_names)


def count_alarms(conn: sqlite3.Connection, include_cleared: bool) -> int:
    """How many alarms recent_alarms would list without its limit."""
    where = "" if include_cleared else f" WHERE {ON_THE_GUARDS_LIST}"
    return int(conn.execute(f"SELECT count(*) FROM alarms{where}").fetchone()[0])
