"""Patrol taps: a guard's card at a patrol checkpoint, recorded and queued upstream together; read
back at their true time, and the rounds judged from them recorded with their alarms (the rules are
gateway/parking/patrol.py's, the judging gateway/parking/operations_patrols.py's)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.alarm_texts import AlarmText
from gateway.parking.patrol import FINAL, RoundResult, RouteSpec, Tap
from gateway.store.alarms import end_alarm, write_alarm
from gateway.store.database import transaction
from gateway.store.outbox import enqueue
from gateway.store.redate import Boot
from gateway.timefmt import to_db


def record_tap(
    conn: sqlite3.Connection, tap_id: str, at: datetime, checkpoint: str, lane: str, card: str
) -> None:
    """One transaction: the tap and its outbox row."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO patrol_taps (tap_id, at, checkpoint, lane, card) VALUES (?, ?, ?, ?, ?)",
            (tap_id, to_db(at), checkpoint, lane, card),
        )
        enqueue(
            conn,
            "patrol",
            {"at": at.isoformat(), "checkpoint": checkpoint, "lane": lane, "card": card},
            at,
            tap_id,
        )


def taps_between(conn: sqlite3.Connection, boot: Boot, since: datetime, now: datetime) -> list[Tap]:
    """The taps from `since` to `now`, at their true time: those this boot wrote on a clock NTP
    set right since are kept as recorded (append-only), and found by their id instead."""
    first = boot.first["patrol_taps"]
    old = max((off.last for off in boot.taps_off), default=first - 1)
    rows = conn.execute(
        "SELECT id, at, checkpoint FROM patrol_taps WHERE at >= ? AND at <= ? OR id BETWEEN ? AND ?",
        (to_db(since), to_db(now), first, old),
    )
    taps = [Tap(boot.tap_time(tap_id, datetime.fromisoformat(at)), c) for tap_id, at, c in rows]
    return [tap for tap in taps if since <= tap.at <= now]


def record_round(
    conn: sqlite3.Connection,
    *,
    route: RouteSpec,
    r: RoundResult,
    before: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """The round and its alarms in one transaction: a round on record as final is never judged
    again, so an alarm written apart from it and lost to a kill would never be raised."""
    source = round_source(r.route, r.due, tz)
    words: dict[str, str | int | float | list[str]] = {
        "route": route.name or route.id,
        "due": _due_time(r.due.astimezone(tz)),
        "missing": list(r.missing),
    }
    with transaction(conn):
        conn.execute(
            "INSERT INTO patrol_rounds (route, due_at, status, finished_at, missing, evaluated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (route, due_at) DO UPDATE SET "
            "status = excluded.status, finished_at = excluded.finished_at, "
            "missing = excluded.missing, evaluated_at = excluded.evaluated_at",
            (
                r.route,
                to_db(r.due),
                r.status,
                to_db(r.finished_at) if r.finished_at else None,
                ",".join(r.missing),
                to_db(now),
            ),
        )
        if r.status in ("overdue", "late") and before != "overdue":
            words["minutes"] = int(route.allowed.total_seconds() // 60)
            key = "patrol_late.untapped" if r.missing else "patrol_late"
            write_alarm(conn, "patrol_late", source, AlarmText(key, words), now)
        if r.status == "missed":
            write_alarm(conn, "patrol_missed", source, AlarmText("patrol_missed", words), now)
        if r.status in FINAL:  # done late, or missed (its own alarm says so): no longer late
            end_alarm(conn, "patrol_late", source, now)


def round_source(route: str, due: datetime, tz: ZoneInfo) -> str:
    """The source a round's alarms have: the route and the local day and time it was due."""
    due_local = due.astimezone(tz)
    return f"{route}@{due_local:%Y-%m-%d} {_due_time(due_local)}"


def _due_time(due_local: datetime) -> str:
    return f"{due_local:%H:%M}{_offset_if_repeated(due_local)}"


def _offset_if_repeated(due_local: datetime) -> str:
    """The UTC offset ("+0100") of a round due in the hour the clocks go back over, which is lived
    twice: without it its two 02:00 rounds would be one alarm. Any other round: nothing."""
    other = due_local.replace(fold=1 - due_local.fold)
    return f"{due_local:%z}" if other.utcoffset() != due_local.utcoffset() else ""
