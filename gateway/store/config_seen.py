"""What the gateway saw of its site config at its starts, kept in the store (table config_seen): a
key's value as first seen (a tariff version's prices and when it was first seen, the cars parked
under a version when it was found gone from the config, the stretches a version put back was out,
the site id), and the closed-management periods each start ran under, from when, so that a day's
report (built, or rebuilt weeks later) sums up the periods in force that day, not today's
(gateway/runtime/config_edits.py says at start what the config no longer covers)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.windows import ClosedHistory, ClosedPeriod, Window
from gateway.parking.fees import Published
from gateway.store.database import transaction
from gateway.timefmt import to_db


def keep_first_seen(conn: sqlite3.Connection, seen: dict[str, str], now: datetime) -> None:
    """Each key's value as first seen: a key kept already keeps its value and time."""
    conn.executemany(
        "INSERT OR IGNORE INTO config_seen (key, value, first_seen) VALUES (?, ?, ?)",
        [(key, value, to_db(now)) for key, value in seen.items()],
    )


# `tariff:t1`: a version's prices as first seen (tariff_edits.prices), first_seen: when. Rows are
# told apart in Python: LIKE's `_` matches any character.
_TARIFF = "tariff:"
# `tariff_after:t2`: the last access record written before the start that first saw a version, for
# each version first seen after the first start that kept them (tariffs_first_seen bounds by it).
_TARIFF_AFTER = "tariff_after:"
# `tariff_gone:t2`: the stays parked under a version when a start found it gone from the config;
# `tariff_gone_after:t2`: the last access record written before that start.
_TARIFF_GONE = "tariff_gone:"
_TARIFF_GONE_AFTER = "tariff_gone_after:"
# `tariff_out:t2`: the stretches a version was out of the config, put back since (a JSON list): each
# from the start that found it gone to the one that found it back, with the last record before each.
_TARIFF_OUT = "tariff_out:"


def _kept(conn: sqlite3.Connection, prefix: str) -> dict[str, tuple[str, datetime]]:
    rows = conn.execute("SELECT key, value, first_seen FROM config_seen WHERE key LIKE 'tariff%'")
    return {
        key.removeprefix(prefix): (value, datetime.fromisoformat(first_seen))
        for key, value, first_seen in rows
        if key.startswith(prefix)
    }


def tariffs_seen(conn: sqlite3.Connection) -> dict[str, tuple[str, datetime]]:
    """Each tariff version the gateway has seen in its config, gone since or not: its prices as
    first seen, and when."""
    return _kept(conn, _TARIFF)


# The last access record written (0: none yet).
_LAST_RECORD = "SELECT coalesce(max(id), 0) FROM access_log"
_RECORD_AT = "SELECT at FROM access_log WHERE id = ?"


def keep_tariffs_seen(conn: sqlite3.Connection, seen: dict[str, str], now: datetime) -> None:
    """Each version's prices (`seen`: version -> prices) as first seen, and when; with a version
    first seen after the first start that kept them, the last access record written before."""
    kept = tariffs_seen(conn)
    (after,) = conn.execute(_LAST_RECORD).fetchone()
    keep_first_seen(conn, {_TARIFF + version: value for version, value in seen.items()}, now)
    if kept:
        keep_first_seen(conn, {_TARIFF_AFTER + v: str(after) for v in seen if v not in kept}, now)


def _tariffs_after(conn: sqlite3.Connection) -> dict[str, int]:
    return {version: int(record) for version, (record, _) in _kept(conn, _TARIFF_AFTER).items()}


def tariffs_first_seen(conn: sqlite3.Connection, now: datetime) -> dict[str, Published]:
    """When the gateway first saw each tariff version it has seen since the first start that kept
    them (tariffs.known_since: those of that start are known for ever, and have no time here), and
    the stretches a version was out of the config, put back since (keep_tariffs_put_back), in the
    records' own time (_took_over): a Pi that booted on fake-hwclock's stale time saw a version
    after the cars already inside came in, and a start on a clock ahead, set right since, saw it
    before every car that came in after it, also one recorded before the clock was set right. Not
    after `now` either, the clock as it stands: a car coming in now would be such a record. So a
    car's fee is the same whenever asked: a car in before the start has its entry record before it,
    one in after it after."""
    seen = tariffs_seen(conn)
    after = _tariffs_after(conn)
    out = _tariffs_out(conn)
    # Kept with no record (by a gateway that kept none): the first start's are the earliest.
    first = min((at for version, (_, at) in seen.items() if version not in after), default=None)
    known = {}
    for version, (_, at) in seen.items():
        since = None
        if version in after:
            since = _took_over(conn, min(at, now), after[version])
        elif at != first:
            since = at
        stretches = tuple(
            (_out_at(conn, s["from"], s["from_after"], now), _out_at(conn, s["to"], s["to_after"], now))
            for s in out.get(version, [])
        )
        if since is not None or stretches:
            known[version] = Published(since, stretches)
    return known


def _tariffs_out(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
    return {version: json.loads(stretches) for version, (stretches, _) in _kept(conn, _TARIFF_OUT).items()}


def _out_at(conn: sqlite3.Connection, at: str, after: int | None, now: datetime) -> datetime:
    """An end of a stretch out, in the records' own time as a first sight is (a version found gone
    by a gateway that kept no record then: from the entries of the cars parked under it then,
    _gone_after, or with none the start's clock)."""
    started = datetime.fromisoformat(at)
    return started if after is None else _took_over(conn, min(started, now), after)


def tariffs_seen_for_good(conn: sqlite3.Connection) -> bool:
    """Whether tariffs_first_seen's times stay as they are, whatever `now` and whatever is recorded
    later: each version was first seen by a start whose clock read no later than the last record
    before it (a stale boot clock), so it is at _took_over's floor. A time taken from the start's
    clock or from a record is not for good: a clock set back below it (it was ahead) dates the
    version earlier, from the next record written or the next look at the price table."""
    after = _tariffs_after(conn)
    seen = tariffs_seen(conn) if after else {}
    ends = [
        (datetime.fromisoformat(s[end]), s[f"{end}_after"])
        for stretches in _tariffs_out(conn).values()
        for s in stretches
        for end in ("from", "to")
    ]
    return all(
        version in seen and _at_floor(conn, seen[version][1], record) for version, record in after.items()
    ) and all(record is None or _at_floor(conn, at, record) for at, record in ends)


def _at_floor(conn: sqlite3.Connection, started: datetime, after: int) -> bool:
    last_old = conn.execute(_RECORD_AT, (after,)).fetchone()
    return last_old is not None and started <= datetime.fromisoformat(last_old[0])


def tariffs_gone(conn: sqlite3.Connection) -> dict[str, tuple[list[int], datetime]]:
    """Each version a start found gone from the config: the stays parked under it then, and when."""
    return {version: (json.loads(stays), at) for version, (stays, at) in _kept(conn, _TARIFF_GONE).items()}


def keep_tariffs_gone(conn: sqlite3.Connection, gone: dict[str, list[int]], now: datetime) -> None:
    """Versions found gone, with the stays parked under them: a car in after a version went never
    read its prices, so the list is made once. With the last record before, for the stretch it is
    out (keep_tariffs_put_back)."""
    (after,) = conn.execute(_LAST_RECORD).fetchone()
    keep_first_seen(conn, {_TARIFF_GONE + v: json.dumps(stays) for v, stays in gone.items()}, now)
    keep_first_seen(conn, {_TARIFF_GONE_AFTER + v: str(after) for v in gone}, now)


# A stretch out added to those kept: a mark that grows, unlike the values first seen.
_KEEP_OUT = (
    "INSERT INTO config_seen (key, value, first_seen) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, first_seen = excluded.first_seen"
)


def keep_tariffs_put_back(conn: sqlite3.Connection, versions: list[str], now: datetime) -> None:
    """Versions in the config (`versions`) found gone before, put back since: each keeps the stretch
    it was out, from the start that found it gone to this one (tariffs_first_seen), since a car in
    meanwhile was shown another version's prices (明码标价); and it is no longer gone: taken out
    again later, it is found gone anew. Forgetting the stretch gave a version put back its first
    sight again, and it repriced the cars in while it was out."""
    gone = tariffs_gone(conn)
    gone_after = _kept(conn, _TARIFF_GONE_AFTER)
    out = _tariffs_out(conn)
    (after,) = conn.execute(_LAST_RECORD).fetchone()
    for version in (v for v in versions if v in gone):
        from_after = gone_after.get(version)
        stretch = {
            "from": to_db(gone[version][1]),
            "from_after": _gone_after(conn, gone[version][0]) if from_after is None else int(from_after[0]),
            "to": to_db(now),
            "to_after": after,
        }
        kept = json.dumps([*out.get(version, []), stretch])
        conn.execute(_KEEP_OUT, (_TARIFF_OUT + version, kept, to_db(now)))
        conn.executemany(
            "DELETE FROM config_seen WHERE key = ?",
            [(_TARIFF_GONE + version,), (_TARIFF_GONE_AFTER + version,)],
        )


# The latest entry record of the stays listed (ids only grow, whatever the clocks said).
_LAST_ENTRY = (
    "SELECT max(a.id) FROM stays s JOIN access_log a ON a.event_id = s.entry_event WHERE s.id IN ({})"
)


def _gone_after(conn: sqlite3.Connection, stays: list[int]) -> int | None:
    """For a version found gone by a gateway before tariff_gone_after was kept: the latest entry
    record of the stays parked under it then. They came in before that start, so the last record
    before it is this one or later: the stretch out does not begin before their entries however
    stale the start's clock was (a Pi on fake-hwclock's time dated it before them, and they paid
    the other version, as cars in while it was out). None (the start's clock, as before) with no
    such stay left: no car inside under it then to reprice."""
    if not stays:
        return None
    (last,) = conn.execute(_LAST_ENTRY.format(",".join("?" * len(stays))), stays).fetchone()
    return last


# One row per change: `closed_periods:000001`, ... in the order the starts saw them.
_CLOSED = "closed_periods:"


def _period_text(p: ClosedPeriod) -> dict[str, Any]:
    """A period as its [[policy.closed_management]] table says it (hours on every day, as there)."""
    return {
        "first_day": p.first_day.isoformat(),
        "last_day": p.last_day.isoformat(),
        "hours": [str(w) for w in p.windows],
        "temporary_vehicles": "admit" if p.admit_temporary_vehicles else "refuse",
        "contractors": "admit" if p.admit_contractors else "refuse",
        "visitor_fields": list(p.visitor_fields),
    }


def _period_of(kept: dict[str, Any]) -> ClosedPeriod:
    return ClosedPeriod(
        first_day=date.fromisoformat(kept["first_day"]),
        last_day=date.fromisoformat(kept["last_day"]),
        windows=tuple(Window.parse(h, stored=True) for h in kept["hours"]),
        admit_temporary_vehicles=kept["temporary_vehicles"] == "admit",
        admit_contractors=kept["contractors"] == "admit",
        visitor_fields=tuple(kept["visitor_fields"]),
    )


def _kept_closed(conn: sqlite3.Connection) -> list[tuple[dict[str, Any], datetime]]:
    rows = conn.execute(
        "SELECT value, first_seen FROM config_seen WHERE key LIKE ? ORDER BY key", (_CLOSED + "%",)
    )
    return [(json.loads(value), datetime.fromisoformat(first_seen)) for value, first_seen in rows]


def remember_closed_periods(
    conn: sqlite3.Connection, closed_periods: tuple[ClosedPeriod, ...], now: datetime
) -> None:
    """Keep the closed-management periods this start runs under when they differ from the last kept,
    with the last access record decided under the old ones (closed_history)."""
    periods = [_period_text(p) for p in closed_periods]
    kept = _kept_closed(conn)
    if kept and kept[-1][0]["periods"] == periods:
        return
    (after,) = conn.execute(_LAST_RECORD).fetchone()
    value = json.dumps({"periods": periods, "after_record": after}, ensure_ascii=False)
    keep_first_seen(conn, {f"{_CLOSED}{len(kept) + 1:06d}": value}, now)


# The earliest record written after a start (id > ?) dated between the last one before it and the
# start (at > ? AND at < ?): the at index walks that stretch alone, whatever the log's length; a
# record dated before the last one before the start puts the start at its floor all the same.
_EARLIEST_AFTER = "SELECT min(at) FROM access_log INDEXED BY access_log_at WHERE at > ? AND at < ? AND id > ?"


def _took_over(conn: sqlite3.Connection, started: datetime, after: int) -> datetime:
    """When periods kept at a start took over, in the records' own time: the start, but not after
    any record decided under them (a clock that was ahead at the start, or when a record was
    written, set right since: the first record alone may be dated on the clock ahead) nor before the
    last decided under the old ones (a Pi boots on fake-hwclock's stale time)."""
    last_old = conn.execute(_RECORD_AT, (after,)).fetchone()
    # Gone when retention deleted it: the start's time, and the records after, are all there is.
    floor = "" if last_old is None else last_old[0]
    at = started
    (earliest,) = conn.execute(_EARLIEST_AFTER, (floor, to_db(started), after)).fetchone()
    if earliest is not None:
        at = min(at, datetime.fromisoformat(earliest))
    if last_old is not None:
        at = max(at, datetime.fromisoformat(floor) + timedelta(microseconds=1))
    return at


def closed_history(conn: sqlite3.Connection, tz: ZoneInfo) -> ClosedHistory:
    """The closed-management periods the gateway ran under, from when (remember_closed_periods)."""
    changes: list[tuple[datetime, tuple[ClosedPeriod, ...]]] = []
    for kept, first_seen in _kept_closed(conn):
        since = _took_over(conn, first_seen, kept["after_record"]).astimezone(tz)
        if changes:  # in the order the starts saw them, whatever the clocks said
            since = max(since, changes[-1][0])
        changes.append((since, tuple(_period_of(p) for p in kept["periods"])))
    return ClosedHistory(tuple(changes))


# `repairs_judged`: the repairs step's last look that judged repairs (gateway/parking/faults.py):
# the repairs made before it were judged by the repair_hours then in force, and stay so judged.
_REPAIRS_JUDGED = "repairs_judged"


def repairs_judged(conn: sqlite3.Connection) -> datetime | None:
    row = conn.execute("SELECT value FROM config_seen WHERE key = ?", (_REPAIRS_JUDGED,)).fetchone()
    return None if row is None else datetime.fromisoformat(row[0])


def keep_repairs_judged(conn: sqlite3.Connection, at: datetime) -> None:
    """A mark that moves, unlike the values first seen: kept in its own transaction."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO config_seen (key, value, first_seen) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value, first_seen = excluded.first_seen",
            (_REPAIRS_JUDGED, to_db(at), to_db(at)),
        )
