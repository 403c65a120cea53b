"""The daily report: what happened at the gates and in the car park in one report period.

Built from the access log, stays, charges, payments, passes, alarms and patrol rounds on a read
connection (one consistent snapshot), so that building it never holds up a lane; the caller stores
it and queues it upstream on the worker (store_report).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core import LaneRules
from gateway.core.model import REFUSED_AGAIN, REPEATS
from gateway.core.tickets import NO_PLATE
from gateway.core.windows import ClosedHistory, ClosedPeriod
from gateway.parking.faults import device_faults
from gateway.store.audit import audit
from gateway.store.database import transaction
from gateway.store.flags_sql import has_flag_sql, lacks_flag_sql
from gateway.store.gateway_down import JOIN_GAP, Down, down_between, heartbeats_began
from gateway.store.holds import HOLD_GAP, car_held_sql, starts_hold_sql
from gateway.store.outbox import enqueue
from gateway.store.parking import charge_owed_sql
from gateway.store.report_rebuilds import stored_rebuild
from gateway.store.spreadsheet import BOM, as_cell
from gateway.store.units import unit_key
from gateway.timefmt import elapsed, last_day, local_iso, to_db

KINDS = ("resident", "monthly", "visitor", "contractor", "temporary")
EXIT_BUTTON = "exit_button"  # a door's (gateway/runtime/exit_buttons.py)
CLASSES = ("car", "motorcycle", "bicycle")
FLAGS = (
    "no_entry_record",
    "already_inside",
    "shared_slot",
    "monthly_expired",
    "registration_not_yet_valid",
    "registration_expired",
    "no_slot",
    NO_PLATE,
)
PASS_KINDS = ("visitor", "contractor")
NOT_REFUSALS = ("payment_due",)  # a car held until it pays is not turned away

# The class decided at the lane (a visitor's motorcycle, a typed plate's class); the vehicle's
# registered class for rows written before migration 11 kept it. A car decided again while still
# at the lane, let through or refused as before (gateway.core.model.REPEATS), is counted once: its
# passage, or its refusal and its flags, are those of its first decision.
_COUNTED = " AND ".join(lacks_flag_sql("a.flags", flag) for flag in REPEATS)


def _not_put_back(row: str) -> str:
    """SQL: access_log row `row` is not an exit whose barrier did not open (道闸故障), its stay put
    back (gateway/store/exits_put_back.py put_back, schema migration 49). Such a record is kept, as the
    attempt, and is no passage: the car is counted out once, by its next decision at an exit (or,
    let out by the guard's opening, by its stay closed so, as a car held or refused there and let
    out so is: _LET_OUT_BY_HAND). Counted, one car put back and then let out was two exits. An
    exit put back with no stay (a car with no entry record that paid its day's fee there: schema
    migration 50) is the car's one passage, counted: it leaves on it, let out again (flag again,
    not counted). The few exits put back are read once for the whole statement, not asked of each
    record."""
    return f"{row}.event_id NOT IN (SELECT x.event_id FROM exits_put_back x WHERE x.stay_id IS NOT NULL)"


# A car held at an exit to pay and let out once paid (the guard's fee at the lane) is decided
# again then with the hold's flags: those are the hold's, counted with it, not a second time. The
# hold is the car's (car_held_sql): one held on its card or its pass's QR is paid for by its plate.
# Its rows are the hold's by record, not by time, as starts_hold_sql reads them: a hold's row dated
# after the let-out (the clock set back as the car stood held, up to an hour) is written before it.
# A decision that let it out at a barrier that did not open (_not_put_back) did not end the hold:
# the decision there that then lets the car out does.
_ENDS_HOLD = f"""EXISTS (SELECT 1 FROM access_log b INDEXED BY access_log_held_at
WHERE b.at >= strftime('%Y-%m-%dT%H:%M:%f', a.at, '-{HOLD_GAP.total_seconds():.0f} seconds')
AND b.at <= strftime('%Y-%m-%dT%H:%M:%f', a.at, '+1 hour') AND b.id < a.id AND b.lane = a.lane
AND b.reason = 'payment_due'
AND {car_held_sql("b")} = {car_held_sql("a")}
AND NOT EXISTS (SELECT 1 FROM access_log c WHERE c.id > b.id AND c.id < a.id AND c.admitted = 1
AND {car_held_sql("c")} = {car_held_sql("a")} AND {_not_put_back("c")}))"""


def _log_sql(lanes: Collection[str]) -> str:
    """SQL: the period's records, counted, with whether their flags are: a hold's flags are counted
    once, with the hold (_held_sql), so those of its later decisions are not: the car decided again
    as it waits without `refused_again` (its driver backed away and came back), or let out once
    paid (_ENDS_HOLD). An entrance ends no hold (a car is held at an exit), and is not asked: two
    thirds of a day's admitted records, each asking an hour and a half of holds."""
    flags_counted = (
        f"CASE WHEN a.reason = 'payment_due' THEN {starts_hold_sql('a', lanes)} "
        "WHEN a.admitted = 1 AND a.direction = 'entrance' THEN 1 "
        f"WHEN a.admitted = 1 THEN NOT {_ENDS_HOLD} ELSE 1 END"
    )
    # A refusal the guard corrected and let in or out was no car turned away (review 61l: the
    # summary of a closed period left it out, `refusals` counted it), nor are its flags counted; nor
    # is a car let in at that entrance soon after (_LET_IN_AFTER); a car held to pay stays its hold's.
    corrected = f"CASE WHEN a.admitted = 0 AND a.reason != 'payment_due' THEN {_LET_IN} ELSE 0 END"
    return f"""
SELECT a.lane, a.direction, a.lane_type, a.admitted, coalesce({_redecided("redecided_reason")}, a.reason),
       coalesce(a.class, v.class, 'car'), a.flags, {flags_counted}, {_redecided("redecided_flags")},
       {corrected}, count(*)
FROM access_log a LEFT JOIN vehicles v ON v.id = a.vehicle_id
WHERE a.at >= ? AND a.at < ? AND {_COUNTED} AND {_not_put_back("a")}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
"""


def _redecided(column: str) -> str:
    """SQL: what the stay an entry record `a` opened was decided again as since (gateway/parking/
    inside.py: the slot's second car, once the car there first was recorded inside; schema migration
    35), NULL for the rest. The entry is counted so: as a car that came in as it leaves (B, in free
    on its slot and made the second car, came in temporary and leaves temporary). The access record
    itself is kept as it was written and sent upstream."""
    return (
        f"(SELECT s.{column} FROM stays s INDEXED BY stays_redecided_entry "
        "WHERE s.entry_event = a.event_id AND s.redecided_reason IS NOT NULL ORDER BY s.id DESC LIMIT 1)"
    )


# Flags of an entry's own moment that deciding it again does not see (it is decided as inside, with
# anti-passback off: gateway/parking/inside.py _as_inside): kept from its access record.
_ENTRY_MOMENT_FLAGS = ("already_inside",)


def _flags_of(logged: str, redecided: str | None) -> list[str]:
    """The flags a record is counted with: its own, or for an entry decided again since, the flags
    of that decision and those of the entry's moment (_ENTRY_MOMENT_FLAGS)."""
    own = [f for f in logged.split(",") if f]
    if redecided is None:
        return own
    again = [f for f in redecided.split(",") if f]
    return again + [f for f in own if f in _ENTRY_MOMENT_FLAGS and f not in again]


# A car refused on a misread plate that the guard corrected and that then came in (or went out) as
# the corrected car at the same lane ("Correct and decide again", docs/guard-app.md) was never turned
# away, and the refusal's flags were the misread plate's: a stranger's no_entry_record at an exit,
# for a car whose entry is on record, would send the centre chasing a missed entry read. Within
# CORRECTED_WITHIN of the correction: the car still at the barrier. The record the guard corrected
# may be the refusal or one of its repeats (refused_again: the camera decided the standing car
# again, and the live panel showed that one last). The car is the one the letting record names:
# its plate typed at the lane, or the camera's repeat of the misread plate decided as the corrected
# car (gateway/store/holds.py _corrected_refusals), kept under the value read and the car it was
# decided as (access_log.car).
CORRECTED_WITHIN = timedelta(minutes=30)
_WITHIN = f"'+{CORRECTED_WITHIN.total_seconds():.0f} seconds'"
# Both on the log's time index, within CORRECTED_WITHIN: on the lane's, each refusal of a day's
# report read every later decision at its lane (a busy day's report 30 % slower).
_LET_IN_CORRECTED = f"""EXISTS (SELECT 1 FROM access_log r INDEXED BY access_log_at
JOIN latest_plate_corrections pc ON pc.event_id = r.event_id
JOIN access_log d INDEXED BY access_log_at
ON d.at >= pc.at AND d.at <= strftime('%Y-%m-%dT%H:%M:%f', pc.at, {_WITHIN})
AND d.lane = a.lane AND pc.plate IN (d.value, d.car) AND d.admitted = 1 AND d.id > r.id
WHERE r.at >= a.at AND r.at <= strftime('%Y-%m-%dT%H:%M:%f', a.at, {_WITHIN})
AND r.lane = a.lane AND r.value = a.value AND r.id >= a.id AND r.admitted = 0
AND (r.id = a.id OR {has_flag_sql("r.flags", REFUSED_AGAIN)}))"""

# A car refused at a vehicle entrance and let in there within LET_IN_WITHIN after it was not turned
# away, nor was it a refusal: the everyday visit in closed management (refused closed_management,
# the guard registers the visitor at the booth, the camera's next read of the car still standing
# there lets it in; or the driver backs away, registers on foot and is back), or a car let in once
# the entrance's hours began. Counted so, it was one vehicle in and one turned away (Review 65 D).
# The car is counted once, by its entry, with that entry's flags. The same car: the same plate,
# card or QR read (value), or the car both records name (access_log.car: a QR of the pass
# registered for the plate refused). Only the refusal's own lane: turned away at the north gate
# and let in at the south, it was turned away. On the log's time index, as _LET_IN_CORRECTED.
LET_IN_WITHIN = timedelta(minutes=30)
_LET_IN_BY = f"'+{LET_IN_WITHIN.total_seconds():.0f} seconds'"
_LET_IN_AFTER = f"""(a.direction = 'entrance' AND a.lane_type = 'vehicle'
AND EXISTS (SELECT 1 FROM access_log d INDEXED BY access_log_at
WHERE d.at >= a.at AND d.at <= strftime('%Y-%m-%dT%H:%M:%f', a.at, {_LET_IN_BY})
AND d.lane = a.lane AND d.id > a.id AND d.admitted = 1 AND (d.value = a.value OR d.car = a.car)))"""
_LET_IN = f"({_LET_IN_CORRECTED} OR {_LET_IN_AFTER})"
# How long after its period's end a report waits at most to be built: a car refused in the period
# may be let in until then, and counted so, it was not turned away (_LET_IN: within LET_IN_WITHIN
# of its refusal, or of a correction made in the period; gateway/parking/operations_reports.py
# let_ins_open). Built at the report hour, a car refused at 07:55 and let in at 08:02 was sent as
# turned away, and every rebuild said it was not (Review 66 H).
LET_IN_SETTLES = max(LET_IN_WITHIN, CORRECTED_WITHIN)


# The vehicles the guard's opening by hand let out at an exit (docs/parking.md *Let out by hand*):
# the opening writes no passage to the log, it closes the stay (closed_by 'hand', at the opening),
# so each is one exit by its stay, its class and what it came in as (_left_as). Its hold or
# refusal is no passage, and the camera's read of it as it pulls away is let through again (flag
# again, not counted): it is counted once. So is a car held there with no entry record (its entry
# misread) and let out so, whose entry a plate correction moves onto it later: its stay is closed
# at the opening (closed_by 'correction', its exit_event the decision the opening ended, gateway/
# store/corrections.py _LET_OUT_UNRECORDED); one closed at an exit that let the car through is
# counted by that exit's passage. An admin's close (标记离场: a car that left unseen) is no exit,
# only a correction. Read on the index of exit times.
_LET_OUT_BY_HAND = """
SELECT s.exited_at, s.class, s.billing, coalesce(s.redecided_reason, a.reason)
FROM stays s INDEXED BY stays_exited LEFT JOIN access_log a ON a.event_id = s.entry_event
WHERE s.exited_at >= ? AND s.exited_at < ?
  AND (s.closed_by = 'hand' OR s.closed_by = 'correction'
       AND EXISTS (SELECT 1 FROM let_outs_by_hand o WHERE o.held_event = s.exit_event))
"""
# What a stay's car leaves as by its billing (gateway/core/decide.py _leaves_as).
_BILLING_KIND = {"slot": "resident", "monthly": "monthly", "temporary": "temporary"}


def _let_out_by_hand(conn: sqlite3.Connection, s: str, e: str) -> list[tuple[str, str, str]]:
    """The vehicles let out by the guard's opening at an exit in the period (_LET_OUT_BY_HAND):
    when, their class and the kind they are counted out as."""
    return [
        (at, vclass, _left_as(billing, entered))
        for at, vclass, billing, entered in conn.execute(_LET_OUT_BY_HAND, (s, e))
    ]


def _left_as(billing: str | None, entered: str | None) -> str:
    """The kind a car let out by hand is counted out as: what it came in as, as a car the barrier
    lets out leaves (gateway/core/decide.py _leaves_as), so that its exit matches its entry: a
    visitor's stay as the pass it came in on, a stay on a slot as a resident's, a monthly or
    temporary one so; one recorded inside with no entry record as its billing has it."""
    if billing == "visitor":
        return entered if entered is not None and entered in PASS_KINDS else "visitor"
    return _BILLING_KIND.get(billing or "") or entered or "temporary"


def _held_sql(lanes: Collection[str]) -> str:
    """SQL: cars held for payment, one per hold, however often the camera decided the car again
    while it waited at the barrier, or its driver tapped its card or scanned its pass (gateway/
    store/holds.py, HOLD_GAP; a car held on its card or its pass's QR is held on its plate,
    car_held_sql), and one for a car held at an exit renamed in a restart while it stood there
    (starts_hold_sql with the configured lanes). A car let out by the guard's opening by hand and
    held again is held anew."""
    return (
        "SELECT count(*) FROM access_log a WHERE a.at >= ? AND a.at < ? AND a.reason = 'payment_due' "
        f"AND {starts_hold_sql('a', lanes)}"
    )


def report_period(day: date, hour: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The 24 hours the report for `day` covers: from `hour` on that day to `hour` the next (local)."""
    start = datetime.combine(day, time(hour), tz)
    end = datetime.combine(day + timedelta(days=1), time(hour), tz)
    return start, end


def period_of(conn: sqlite3.Connection, day: date, hour: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The period the report for `day` covers, lined up with the reports kept beside it.

    A report kept keeps its period (rebuilt, it covers the hours it was sent with). Otherwise it
    starts where the day before's report ended and ends where the day after's began, where those
    are kept: after `[reports] hour` changed, the first report is a longer or shorter one, so that
    every hour is in exactly one report (none left out, no car counted twice).
    """
    start, end = report_period(day, hour, tz)
    kept = {
        d: (datetime.fromisoformat(s).astimezone(tz), datetime.fromisoformat(e).astimezone(tz))
        for d, s, e in conn.execute(
            "SELECT day, period_start, period_end FROM daily_reports WHERE day BETWEEN ? AND ?",
            ((day - timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()),
        )
    }
    if day.isoformat() in kept:
        return kept[day.isoformat()]
    before, after = (kept.get((day + timedelta(days=n)).isoformat()) for n in (-1, 1))
    return (before[1] if before else start), (after[0] if after else end)


def last_complete_day(now: datetime, hour: int) -> date:
    """The latest report day whose period has ended by `now` (local)."""
    start_today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return (
        (start_today - timedelta(days=1)).date()
        if now >= start_today
        else start_today.date() - timedelta(days=2)
    )


def build_report(
    conn: sqlite3.Connection,
    *,
    site_id: str,
    lanes: dict[str, LaneRules],
    day: date,
    hour: int,
    tz: ZoneInfo,
    built_at: datetime,
    closed: ClosedHistory | None = None,  # the closed-management periods run under (none: no summary)
    reminder_days: int = 7,
    repair_hours: float = 24,
) -> dict[str, Any]:
    conn.execute("BEGIN")  # one snapshot for every figure (WAL readers never block the worker)
    try:
        start, end = period_of(conn, day, hour, tz)
        s, e = to_db(start), to_db(end)
        body: dict[str, Any] = {
            "site": site_id,
            "day": day.isoformat(),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "built_at": built_at.isoformat(),
        }
        let_out = _let_out_by_hand(conn, s, e)  # read once: the exits, and the closed hours' too
        body.update(_traffic(conn, lanes, s, e, let_out))
        body["visitors_registered"] = _visitors(conn, s, e)
        body["materials_out"] = _materials(conn, s, e)
        body["parking"] = _parking(conn, start, end)
        body["peak_occupancy"] = _peak(conn, s, e, tz)
        body["devices"] = device_faults(conn, s, e, start, end, repair_hours)
        body["gateway_down"], down = _gateway_down(conn, start, end, tz, built_at)
        body["patrol"] = _patrol(conn, s, e)
        body["monthly_expiring"] = _monthly(conn, e, to_db(end + timedelta(days=reminder_days)), tz)
        history = closed or ClosedHistory()
        body["closed_management"] = _closed(conn, lanes, s, e, start, end, history, tz, let_out)
        if body["closed_management"] is not None:
            # Counted nobody while it was off: the office reads how much of the closed hours that was
            # (null with gateway_down: nobody kept it then).
            closed_s = sum(history.seconds_within(d.start, d.end) for d in down)
            known = body["gateway_down"] is not None
            body["closed_management"]["gateway_down_s"] = round(closed_s) if known else None
    finally:
        conn.execute("COMMIT")
    return body


def _gateway_down(
    conn: sqlite3.Connection, start: datetime, end: datetime, tz: ZoneInfo, now: datetime
) -> tuple[dict[str, Any] | None, list[Down]]:
    """The stretches the gateway itself was not running in the period (gateway/store/
    gateway_down.py), cut to it: it counted nobody then, so a quiet day is told from one it was off.
    None for a period that began before the gateway kept heartbeats (a day before the upgrade,
    rebuilt after it): when it ran then is not known, and none would read "ran through"."""
    began = heartbeats_began(conn)
    if began is None or began > start:
        return None, []
    down = down_between(conn, start, end, tz, now)
    stretches: list[dict[str, Any]] = []
    reached: datetime | None = None
    for d in down:
        if reached is not None and elapsed(reached, d.start) < JOIN_GAP:
            # one with the stretch before: its seconds theirs only, not the moments it ran between
            joined = stretches[-1]
            reached = max(reached, d.end)
            joined["to"] = reached.isoformat()
            joined["seconds"] += d.seconds
            joined["clean"] = joined["clean"] and d.clean
            joined["parts"] += 1
            continue
        stretches.append(
            {
                "from": d.start.isoformat(),
                "to": d.end.isoformat(),
                "seconds": d.seconds,
                "clean": d.clean,
                "parts": 1,
            }
        )
        reached = d.end
    return {"seconds": sum(d.seconds for d in down), "stretches": stretches}, down


def _traffic(
    conn: sqlite3.Connection, lanes: dict[str, LaneRules], s: str, e: str, let_out: list[tuple[str, str, str]]
) -> dict[str, Any]:
    """The period's passages by lane kind and direction; `let_out`: the vehicles the guard's opening
    let out at an exit (_let_out_by_hand), one exit each."""
    vehicles: dict[str, dict[str, Any]] = {
        d: {"total": 0, "by_class": dict.fromkeys(CLASSES, 0), "by_kind": dict.fromkeys(KINDS, 0)}
        for d in ("entries", "exits")
    }
    # People let out by a door's exit button, nobody known, are counted as exit_button.
    people: dict[str, dict[str, Any]] = {
        d: {"total": 0, "by_kind": dict.fromkeys((*KINDS, EXIT_BUTTON), 0)} for d in ("entries", "exits")
    }
    refusals: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    for *row, let_in, n in conn.execute(_log_sql(lanes), (s, e)):
        lane_id, direction, lane_type, admitted, reason, vclass, flag_text, flags_counted, redecided = row
        # A corrected refusal's flags were the misread plate's; a car let in soon after has its entry's.
        if flags_counted and not let_in:
            for flag in _flags_of(flag_text, redecided):
                flags[flag] += n
        if reason in NOT_REFUSALS or let_in:
            continue
        if not admitted:
            refusals[reason] += n
            continue
        known = _lane_as_recorded(lanes, lane_id, direction, lane_type)
        if known is None:
            continue
        direction, lane_type = known
        way = "entries" if direction == "entrance" else "exits"
        if lane_type == "vehicle":
            bucket = vehicles[way]
            bucket["by_class"][vclass] = bucket["by_class"].get(vclass, 0) + n
        else:
            bucket = people[way]
        bucket["total"] += n
        bucket["by_kind"][reason] = bucket["by_kind"].get(reason, 0) + n
    out = vehicles["exits"]
    for _, vclass, kind in let_out:
        out["total"] += 1
        out["by_class"][vclass] = out["by_class"].get(vclass, 0) + 1
        out["by_kind"][kind] = out["by_kind"].get(kind, 0) + 1
    return {
        "vehicles": vehicles,
        "people": people,
        "refusals": {"total": sum(refusals.values()), "by_reason": dict(sorted(refusals.items()))},
        "held_for_payment": conn.execute(_held_sql(lanes), (s, e)).fetchone()[0],
        "flags": {f: flags.get(f, 0) for f in FLAGS},
    }


def _lane_as_recorded(
    lanes: dict[str, LaneRules], lane_id: str, direction: str | None, lane_type: str | None
) -> tuple[str, str] | None:
    """The direction and type of the lane a record was made at, as the record keeps them: a lane
    renamed or removed since still has its passages counted. A record written before the log kept
    them (migration 18) is read by the lane as configured now; None where that lane is gone too,
    and the record is then counted neither in nor out (its refusal and flags still are)."""
    if direction is not None and lane_type is not None:
        return direction, lane_type
    lane = lanes.get(lane_id)
    return None if lane is None else (lane.direction, lane.type)


def _visitors(conn: sqlite3.Connection, s: str, e: str) -> dict[str, int]:
    rows = dict(
        conn.execute(
            "SELECT kind, count(*) FROM passes WHERE created_at >= ? AND created_at < ? GROUP BY kind", (s, e)
        ).fetchall()
    )
    return {"visitor": rows.get("visitor", 0), "contractor": rows.get("contractor", 0)}


def _materials(conn: sqlite3.Connection, s: str, e: str) -> list[dict[str, Any]]:
    """Materials carried out, per unit (each record also went upstream on its own when made). A
    record stores its unit as the register wrote it then (units.as_registered), and that spelling
    changes when the resident whose spelling it was leaves (3栋 / 2单元 one morning, 3 / 2 that
    afternoon), as it did for records kept from before: one unit is one row however its records
    are written (units.unit_key), shown as its first record of the period writes it."""
    rows = conn.execute(
        "SELECT host_building, host_unit, count(*) FROM materials_out WHERE at >= ? AND at < ? "
        "GROUP BY 1, 2 ORDER BY min(id)",
        (s, e),
    ).fetchall()
    units: dict[tuple[str, str], dict[str, Any]] = {}
    for b, u, n in rows:
        unit = units.setdefault(unit_key(b, u), {"building": b, "unit": u, "records": 0})
        unit["records"] += n
    return sorted(units.values(), key=lambda m: (m["building"], m["unit"]))


def _void_at(charge: str, moment: str) -> str:
    """SQL: the charge `charge` (an alias) was void at `moment`, a period's end: a guard's plate
    correction had voided it before then (gateway/store/corrections.py), and it was not restored
    before then, now or in a void a later correction ended (charges_restored, schema migration 28)."""
    return (
        f"(({charge}.voided_at IS NOT NULL AND {charge}.voided_at < {moment}) OR EXISTS (SELECT 1 "
        f"FROM charges_restored r WHERE r.charge_id = {charge}.id AND r.voided_at < {moment} "
        f"AND r.restored_at >= {moment}))"
    )


# The charges of the period (:s to :e), as they stood at its end: one a guard's plate correction
# voided since was still owed then, and the centre had it so; one void then was not. And those
# dated before it that stood at no report's end before this one's and stand at its end (void at
# its start, restored in it): :restored, a JSON list of their ids (_restored_here).
_CHARGED = (
    f"((c.at >= :s AND c.at < :e AND NOT {_void_at('c', ':e')}) "
    "OR c.id IN (SELECT value FROM json_each(:restored)))"
)
# Restored in the period, dated before it, standing at its end and void at its start (the end of
# the report before: period_of lines them up). Found from the period's restorations (their time
# index): charges are kept for good, and looked for among every charge dated before the period, a
# day's report read each one ever made.
_RESTORED = f"""
SELECT c.id FROM charges c
WHERE c.id IN (SELECT r.charge_id FROM charges_restored r INDEXED BY charges_restored_at
               WHERE r.restored_at >= :s AND r.restored_at < :e)
AND c.at < :s AND NOT {_void_at("c", ":e")} AND {_void_at("c", ":s")}
"""
# Their mirror (冲红): dated before the period, standing at its start (counted by the report before,
# or one before that), void at its end. The report sent counted it and stays as sent; this one
# takes it off its charged_fen. Found from the voids of the period: those standing now (the
# partial index of voided charges, schema migration 58) and those a restore since ended (kept in
# charges_restored, few).
_REVERSED = f"""
SELECT count(*), coalesce(sum(c.amount_fen), 0) FROM charges c
WHERE c.id IN (SELECT v.id FROM charges v INDEXED BY charges_voided
               WHERE v.voided_at >= :s AND v.voided_at < :e
               UNION SELECT r.charge_id FROM charges_restored r WHERE r.voided_at >= :s AND r.voided_at < :e)
AND c.at < :s AND NOT {_void_at("c", ":s")} AND {_void_at("c", ":e")}
"""
# Paid ahead in the period and not applied to a charge at its end: not linked to one by then, nor
# to a charge voided since (it went back to its stay then), which had it from its writing; and
# paid against a charge void at its end, restored since (the payment was back with its stay then).
# Less what of it had paid carried charges by then (carried_fen): spent as the re-entry's charge
# it was linked to was written (gateway/store/parking.py carry_reentry, or the kept charge of
# keep_what_was_paid), the one it went back from if a correction gave it back; those charges count
# as settled from then.
_PAID_AHEAD = f"""
SELECT coalesce(sum(p.amount_fen - CASE WHEN (SELECT k.at FROM charges k
    WHERE k.id = coalesce(p.voided_charge_id, p.charge_id)) < :e THEN p.carried_fen ELSE 0 END), 0)
FROM payments p WHERE p.at >= :s AND p.at < :e
AND (p.charge_id IS NULL
     OR coalesce(p.linked_at, (SELECT c.at FROM charges c WHERE c.id = p.charge_id)) >= :e
     OR EXISTS (SELECT 1 FROM charges c WHERE c.id = p.charge_id AND {_void_at("c", ":e")}))
AND NOT EXISTS (SELECT 1 FROM charges v WHERE v.id = p.voided_charge_id AND v.at < :e AND v.voided_at >= :e)
"""


def _restored_here(conn: sqlite3.Connection, start: datetime, end: datetime) -> list[int]:
    """The charges a correction restored in the period `start` to `end` that the report before
    did not count as standing (_RESTORED): each report counts the charges standing at its end less
    those it stood at the start of (_REVERSED), so that the reports sent add up to the charges that
    stand, each counted once, and a report rebuilt says what the one sent said."""
    period = {"s": to_db(start), "e": to_db(end)}
    return [int(charge_id) for (charge_id,) in conn.execute(_RESTORED, period)]


def _parking(conn: sqlite3.Connection, start: datetime, end: datetime) -> dict[str, Any]:
    s, e = to_db(start), to_db(end)
    closed = conn.execute(
        "SELECT count(*) FROM stays WHERE exited_at >= ? AND exited_at < ? "
        "AND billing IN ('temporary', 'visitor')",
        (s, e),
    ).fetchone()[0]
    # As things stood at the period's end, so that a report built later (rebuilt, or made up for
    # days the gateway was off) says what the one sent at the time said.
    restored = json.dumps(_restored_here(conn, start, end))
    period = {"s": s, "e": e, "restored": restored}
    charges = conn.execute(
        "SELECT count(*), coalesce(sum(c.amount_fen), 0), "
        "coalesce(sum(CASE WHEN c.settled_at IS NULL OR c.settled_at >= :e "
        f"THEN {charge_owed_sql(':e')} END), 0) "
        f"FROM charges c WHERE {_CHARGED}",
        period,
    ).fetchone()
    versions = [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT c.tariff_version FROM charges c WHERE {_CHARGED} ORDER BY 1", period
        )
    ]
    revenue = _revenue(conn, s, e)
    # A handover sets the stay's handed_over_at (once per stay, schema migration 28; not its
    # billed_until, which a renewal before it set): the stay is kept as long as the access records,
    # where the `stay` message upstream is pruned a week after it went.
    handovers = conn.execute(
        "SELECT count(*) FROM stays WHERE handed_over_at >= ? AND handed_over_at < ?", (s, e)
    ).fetchone()[0]
    audited = dict(
        conn.execute(
            "SELECT action, count(*) FROM audit INDEXED BY audit_at "
            "WHERE at >= ? AND at < ? AND action LIKE 'stay.%' GROUP BY 1",
            (s, e),
        ).fetchall()
    )
    pending = conn.execute(_PAID_AHEAD, {"s": s, "e": e}).fetchone()[0]
    reversed_ = conn.execute(_REVERSED, {"s": s, "e": e}).fetchone()
    return {
        "temporary_stays_closed": closed,
        "charges": charges[0],
        "charged_fen": charges[1] - reversed_[1],
        "charges_reversed": reversed_[0],
        "reversed_fen": reversed_[1],
        "unpaid_fen": charges[2],
        "tariff_versions": versions,
        **revenue,
        "paid_ahead_not_left_fen": pending,
        "handovers": handovers,
        "host_validations": audited.get("stay.validate", 0),
        "admin_corrections": audited.get("stay.close", 0),
    }


def _revenue(conn: sqlite3.Connection, s: str, e: str) -> dict[str, Any]:
    """The period's payments, their total and their total by method, as the rows stand. The total
    is every fee paid, those put on a monthly account (method `monthly`, no money taken at the gate:
    desk_checks.METHODS) included, as the charges they settle count; the money taken is the `cash`
    and `qr` of the methods (docs/parking.md, *Daily report*)."""
    by_method = dict.fromkeys(("cash", "qr", "monthly"), 0)
    payments = 0
    for method, n, total in conn.execute(
        "SELECT method, count(*), sum(amount_fen) FROM payments WHERE at >= ? AND at < ? GROUP BY method",
        (s, e),
    ):
        by_method[method] = total
        payments += n
    return {"revenue_fen": sum(by_method.values()), "payments": payments, "revenue_by_method_fen": by_method}


# The cars inside at the period's start (:s): those still inside now, through an index of the open
# stays only, and those that have left since, through the exit time's. Read by entry time, every
# stay kept entered before the period was read: each day's report was slower than the last for as
# long as stays are kept.
_INSIDE_AT = """
SELECT zone, class, count(*) FROM (
    SELECT zone, class FROM stays INDEXED BY stays_open_subject WHERE exited_at IS NULL AND entered_at < :s
    UNION ALL
    SELECT zone, class FROM stays INDEXED BY stays_exited WHERE exited_at >= :s AND entered_at < :s)
GROUP BY 1, 2
"""


def _peak(conn: sqlite3.Connection, s: str, e: str, tz: ZoneInfo) -> dict[str, Any]:
    inside: Counter[tuple[str, str]] = Counter()
    for zone, vclass, n in conn.execute(_INSIDE_AT, {"s": s}):
        inside[(zone or "", vclass)] = n
    moves: list[tuple[str, int, tuple[str, str]]] = []
    for at, zone, vclass in conn.execute(
        "SELECT entered_at, zone, class FROM stays WHERE entered_at >= ? AND entered_at < ?", (s, e)
    ):
        moves.append((at, 1, (zone or "", vclass)))
    for at, zone, vclass in conn.execute(
        "SELECT exited_at, zone, class FROM stays WHERE exited_at >= ? AND exited_at < ?", (s, e)
    ):
        moves.append((at, -1, (zone or "", vclass)))
    peak, peak_at = peak_of(sum(inside.values()), [(at, d) for at, d, _ in moves], s)
    by_key = {}
    for key in set(inside) | {k for _, _, k in moves}:
        n, _ = peak_of(inside.get(key, 0), [(at, d) for at, d, k in moves if k == key], s)
        by_key[key] = n
    return {
        "total": peak,
        "at": local_iso(peak_at, tz),
        "by_zone_class": [{"zone": z, "class": c, "peak": n} for (z, c), n in sorted(by_key.items())],
    }


def peak_of(start: int, moves: list[tuple[str, int]], since: str) -> tuple[int, str]:
    """Highest count reached from `start` (the cars inside at `since`, the period's start) through
    the moves (+1 in, -1 out) in time order, and when it was first reached: at `since` when no move
    goes above `start` (cars parked overnight, or recorded inside on day one, the most there at the
    period's first moment; the report's peak had no time then, an empty cell in its CSV).

    At the same instant exits go first: a car leaving as another arrives never counts both.
    """
    peak, peak_at, now = start, since, start
    for at, delta in sorted(moves, key=lambda m: (m[0], m[1])):
        now += delta
        if now > peak:
            peak, peak_at = now, at
    return peak, peak_at


def _patrol(conn: sqlite3.Connection, s: str, e: str) -> dict[str, Any]:
    totals: Counter[str] = Counter()
    routes: dict[str, Counter[str]] = defaultdict(Counter)
    for route, status, n in conn.execute(
        "SELECT route, status, count(*) FROM patrol_rounds WHERE due_at >= ? AND due_at < ? GROUP BY 1, 2",
        (s, e),
    ):
        totals[status] += n
        routes[route][status] += n
    done = totals["done"] + totals["late"]
    return {
        "rounds": sum(totals.values()),
        "done": done,
        "late": totals["late"],
        "missed": totals["missed"] + totals["overdue"],
        "by_route": {
            r: {"done": c["done"] + c["late"], "late": c["late"], "missed": c["missed"] + c["overdue"]}
            for r, c in sorted(routes.items())
        },
    }


def _monthly(conn: sqlite3.Connection, e: str, horizon: str, tz: ZoneInfo) -> list[dict[str, str | None]]:
    rows = conn.execute(
        "SELECT plate, monthly_until FROM vehicles WHERE monthly_until >= ? AND monthly_until < ? "
        "ORDER BY monthly_until, plate",
        (e, horizon),
    )
    # until: the moment the month ends (a month "to 2026-11-30" ends at 1 December 00:00); last_day:
    # the last day it covers, as the lookup page, the admin page and `export` give it.
    return [
        {
            "plate": plate,
            "until": local_iso(until, tz),
            "last_day": last_day(datetime.fromisoformat(until), tz).isoformat(),
        }
        for plate, until in rows
    ]


def _closed(
    conn: sqlite3.Connection,
    lanes: dict[str, LaneRules],
    s: str,
    e: str,
    start: datetime,
    end: datetime,
    history: ClosedHistory,
    tz: ZoneInfo,
    let_out: list[tuple[str, str, str]],
) -> dict[str, Any] | None:
    """封闭式管理: people and vehicles registered both ways while a closed period was in force: those
    the gateway ran under then (a period lifted or begun by a config edit that day), not today's;
    None when none of their hours fall within the report's period and nobody was registered in it
    for them. Turned away is everyone refused at an entrance then, whatever kept them out (a pass
    expired at the door as much as the period itself), by reason too; a car held to pay is not
    turned away, nor is anyone refused leaving, nor a car let in at that entrance soon after
    (_LET_IN_AFTER: registered at the booth as it waited). A vehicle the guard's opening let out
    at an exit is one out then (_LET_OUT_BY_HAND). A pass holder the guard checks out at the booth
    while she is inside on foot is one person out then, her exit door's record after it none.
    Vehicles are given by class too (REQUIREMENTS 5), as the traffic counts class them (_log_sql);
    a rider at a motorcycle or bicycle lane is her vehicle's passage, as a car's driver is, not
    also one of the people (who pass on foot)."""
    active = history.with_hours_in(start, end)
    registered, registered_for = _registered(conn, s, e, history, tz)
    if not active and not registered:
        return None
    counts: Counter[str] = Counter()
    turned_away: dict[str, Counter[str]] = {"people": Counter(), "vehicles": Counter()}
    by_class = {way: dict.fromkeys(CLASSES, 0) for way in ("in", "out", "turned_away")}
    for *logged, vclass in conn.execute(
        "SELECT a.at, a.lane, a.direction, a.lane_type, a.admitted, a.reason, a.holder_kind, a.holder_id, "
        "coalesce(a.class, v.class, 'car') FROM access_log a LEFT JOIN vehicles v ON v.id = a.vehicle_id "
        f"WHERE a.at >= ? AND a.at < ? AND {_COUNTED} AND {_not_put_back('a')} "
        f"AND (a.admitted = 1 OR NOT {_LET_IN})",
        (s, e),
    ):
        at_text, lane_id, direction, lane_type, admitted, reason, holder_kind, holder_id = logged
        at = datetime.fromisoformat(at_text).astimezone(tz)
        if not history.active(at):
            continue
        known = _lane_as_recorded(lanes, lane_id, direction, lane_type)
        if known is None:
            continue
        direction, lane_type = known
        who = "vehicles" if lane_type == "vehicle" else "people"
        if admitted:
            if (
                who == "people"
                and direction == "exit"
                and holder_kind in PASS_KINDS
                and holder_id is not None
            ):
                left = _checked_out_inside(conn, holder_kind, holder_id)
                if left is not None and left[0] <= at:
                    continue  # counted out when the guard checked her out
            way = "in" if direction == "entrance" else "out"
        elif direction == "entrance" and reason not in NOT_REFUSALS:
            way = "turned_away"
            turned_away[who][reason] += 1
        else:
            continue
        counts[f"{who}_{way}"] += 1
        if who == "vehicles":
            by_class[way][vclass] = by_class[way].get(vclass, 0) + 1
    for at_text, vclass, _ in let_out:
        if history.active(datetime.fromisoformat(at_text).astimezone(tz)):
            counts["vehicles_out"] += 1
            by_class["out"][vclass] = by_class["out"].get(vclass, 0) + 1
    for kind, pass_id, out_text in conn.execute(
        "SELECT kind, id, checked_out_at FROM passes WHERE checked_out_at >= ? AND checked_out_at < ?", (s, e)
    ):
        if not history.active(datetime.fromisoformat(out_text).astimezone(tz)):
            continue  # checked out outside a closed period: its passages are not read
        left = _checked_out_inside(conn, kind, pass_id)
        if left is not None:
            counts["people_out"] += left[1]  # each of a crew still inside (人数)
            counts["people_checked_out"] += left[1]
    keys = (
        "people_in",
        "people_out",
        "people_checked_out",
        "vehicles_in",
        "vehicles_out",
        "people_turned_away",
        "vehicles_turned_away",
    )
    return {
        "periods": [
            f"{p.first_day}..{p.last_day} {','.join(str(w) for w in p.windows) or 'all day'}"
            for p in dict.fromkeys((*active, *registered_for))
        ],
        **{k: counts.get(k, 0) for k in keys},
        # Cars, motorcycles and bicycles apart (REQUIREMENTS 5): each sums to its total above.
        **{f"vehicles_{way}_by_class": c for way, c in by_class.items()},
        "turned_away_by_reason": {who: dict(sorted(c.items())) for who, c in turned_away.items()},
        "visitors_registered": registered.get("visitor", 0),
        "contractors_registered": registered.get("contractor", 0),
        # The drivers and everyone in the visitors' vehicles, registered with them (REQUIREMENTS 9).
        "vehicle_occupants_registered": registered.get("people_in_vehicles", 0),
    }


def _registered(
    conn: sqlite3.Connection, s: str, e: str, history: ClosedHistory, tz: ZoneInfo
) -> tuple[Counter[str], list[ClosedPeriod]]:
    """The passes registered in the report's period under closed management, by kind, with the
    people in their vehicles, and the periods they were registered for. A pass is registered under
    closed management when its window takes in hours of the periods in force as it was registered,
    as the visitor form then demanded every field those periods ask for (gateway/api/passes.py
    required_fields), whenever the guard typed it in: at 21:30 for tomorrow's 09:00, or at 06:50 for
    07:00. It counts in the report of the period it was registered in, so on one day only."""
    registered: Counter[str] = Counter()
    registered_for: list[ClosedPeriod] = []
    for created, kind, valid_from, valid_to, people in conn.execute(
        "SELECT created_at, kind, valid_from, valid_to, "
        "(SELECT count(*) FROM pass_people pp WHERE pp.pass_id = p.id) "
        "FROM passes p WHERE created_at >= ? AND created_at < ?",
        (s, e),
    ):
        window = (datetime.fromisoformat(valid_from).astimezone(tz), datetime.fromisoformat(valid_to))
        at = datetime.fromisoformat(created).astimezone(tz)
        periods = [p for p in history.in_force(at) if p.overlaps(*window)]
        if periods:
            registered[kind] += 1
            registered["people_in_vehicles"] += people
            registered_for += periods
    return registered, registered_for


def _checked_out_inside(conn: sqlite3.Connection, kind: str, pass_id: int) -> tuple[datetime, int] | None:
    """When the guard checked the pass out at the booth (离开登记) with its holder inside on foot,
    and how many were inside on it then: her passages through doors before it, as the
    people-inside count has them (gateway/store/record.py: each of a party registered for several,
    人数, up to their number, one less for each gone out; gone_out). None when not checked out, or
    checked out with nobody inside on foot: gone through an exit door already, never come in, or
    come by car (the car is counted out at the car exit). Her passages are read through the index
    of passages on foot by holder (schema migration 47)."""
    row = conn.execute(
        "SELECT checked_out_at, CASE WHEN coalesce(plate, '') = '' THEN passengers ELSE 1 END FROM passes "
        "WHERE id = ? AND kind = ? AND checked_out_at IS NOT NULL",
        (pass_id, kind),
    ).fetchone()
    if row is None:
        return None
    out, party = row
    inside = 0
    for direction, flags in conn.execute(
        f"""SELECT a.direction, a.flags FROM access_log a INDEXED BY access_log_on_foot_by_holder
            WHERE a.holder_kind = ? AND a.holder_id = ? AND a.admitted = 1
              AND a.lane_type = 'pedestrian' AND a.at <= ? AND {_COUNTED}
            ORDER BY a.id""",
        (kind, pass_id, out),
    ):
        if direction == "exit":
            inside = max(inside - 1, 0)
        elif "already_inside" not in flags.split(",") or not inside:
            inside = min(inside + 1, max(party, 1))
    return (datetime.fromisoformat(out), inside) if inside else None


def repair_hours_sent(conn: sqlite3.Connection, day: date) -> float | None:
    """The repair deadline the day's report was first built with, if it was: a report built again
    after [alarms] repair_hours changed judges the day's open faults overdue as the one sent did."""
    row = conn.execute(
        "SELECT json_extract(body, '$.devices.repair_hours') FROM daily_reports WHERE day = ?",
        (day.isoformat(),),
    ).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def store_report(
    conn: sqlite3.Connection,
    body: dict[str, Any],
    at: datetime,
    max_bytes: int,
    actor: str = "",
    *,
    read_after: int,
) -> None:
    """Keep the report (a rebuild replaces it) and queue it upstream cut to `max_bytes`
    (upstream_report), in one transaction (worker only); a report built by hand is audited with
    the name of who asked. `read_after` is the count of re-datings read before the body's rows
    (gateway/store/report_rebuilds.py): the day's rebuild mark is forgotten if none committed since;
    one that did while the body waited for the worker (it may count rows on their old dates) leaves
    the day marked to be built again, whether or not a report of it was kept then. The revenue by
    method is counted again here, in the transaction that stores it: a payment's method corrected
    (改为现金) while the body waited found no report kept to move it in (move_method_in_kept_reports),
    and, read before it, the report kept and sent said the old method for good."""
    with transaction(conn):
        if body.get("parking") is not None:
            s, e = (to_db(datetime.fromisoformat(body[k])) for k in ("period_start", "period_end"))
            body["parking"].update(_revenue(conn, s, e))
        if actor:
            audit(conn, at, actor, "report.build", f"day:{body['day']}")
        stored_rebuild(conn, date.fromisoformat(body["day"]), read_after, at)
        conn.execute(
            "INSERT INTO daily_reports (day, period_start, period_end, built_at, body) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (day) DO UPDATE SET built_at = excluded.built_at, body = excluded.body",
            (
                body["day"],
                body["period_start"],
                body["period_end"],
                body["built_at"],
                json.dumps(body, ensure_ascii=False),
            ),
        )
        enqueue(conn, "report", {"at": at.isoformat(), "report": upstream_report(body, max_bytes)}, at)


def move_method_in_kept_reports(
    conn: sqlite3.Connection,
    at: datetime,
    amount_fen: int,
    before: str,
    after: str,
    when: datetime,
    max_bytes: int,
) -> list[date]:
    """A payment taken at `at` had its method corrected (gateway/store/payment_method.py): the kept
    report whose period holds it moves `amount_fen` from `before` to `after` in its revenue by method
    and is sent again; every other figure stays as built. Not a rebuild: that would lose the
    figures of records past retention. Within the caller's transaction (worker only).
    Returns the days of the reports moved (one at most: a changed reports.hour never overlaps two)."""
    moved = []
    periods = conn.execute("SELECT day, period_start, period_end FROM daily_reports").fetchall()
    for day, start, end in periods:  # each body read only for its period's day, not every one kept
        if not datetime.fromisoformat(start) <= at < datetime.fromisoformat(end):
            continue
        (text,) = conn.execute("SELECT body FROM daily_reports WHERE day = ?", (day,)).fetchone()
        body = json.loads(text)
        by_method = (body.get("parking") or {}).get("revenue_by_method_fen")
        if by_method is None:  # built with parking off: no money counted
            continue
        by_method[before] = by_method.get(before, 0) - amount_fen
        by_method[after] = by_method.get(after, 0) + amount_fen
        conn.execute(
            "UPDATE daily_reports SET body = ? WHERE day = ?", (json.dumps(body, ensure_ascii=False), day)
        )
        enqueue(conn, "report", {"at": when.isoformat(), "report": upstream_report(body, max_bytes)}, when)
        moved.append(date.fromisoformat(day))
    return moved


# The stretches the gateway was down that the report sent lists at most (the rest counted in its
# `stretches_more`; the report kept lists every one): a box restarted every minute or two all day
# would list a thousand, and squeeze out the monthly cars.
STRETCHES_SENT = 100

# What the outbox and the uplink add around the report (v, type, event_id, at, seq, the site's key
# and the topic), with room to spare.
_ENVELOPE_BYTES = 1024


def upstream_report(body: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The report as sent upstream: its stretches the gateway was down cut to the first
    STRETCHES_SENT, then its monthly cars ending soon, each list to the first that fit in one
    message of `max_bytes`, with how many were left out (`stretches_more`, `monthly_expiring_more`;
    and the count of the cars). A large estate at month end lists thousands of cars, a gateway
    restarting all day a thousand stretches; over max_message_bytes the uplink would set the whole
    report aside. The report kept here lists every one."""
    expiring = body["monthly_expiring"]
    cut = {**body, "monthly_expiring": [], "monthly_expiring_count": len(expiring)}
    cut["monthly_expiring_more"] = len(expiring)
    down = body.get("gateway_down")  # none in a report built before it was kept, or unknown
    stretches = down["stretches"] if down else []
    if down:
        cut["gateway_down"] = {**down, "stretches": [], "stretches_more": len(stretches)}
    room = max_bytes - _ENVELOPE_BYTES - _size(cut)
    if down:
        room = _fit(cut["gateway_down"]["stretches"], stretches[:STRETCHES_SENT], room)
        cut["gateway_down"]["stretches_more"] = len(stretches) - len(cut["gateway_down"]["stretches"])
    _fit(cut["monthly_expiring"], expiring, room)
    cut["monthly_expiring_more"] = len(expiring) - len(cut["monthly_expiring"])
    return cut


def _fit(sent: list[Any], entries: list[Any], room: int) -> int:
    """Append to `sent` the first of `entries` that fit in `room` bytes; the room left."""
    for entry in entries:
        if room - _size(entry) - 2 < 0:  # and the ", " between entries
            break
        room -= _size(entry) + 2
        sent.append(entry)
    return room


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode())


def report_csv(body: dict[str, Any]) -> str:
    """The report as two-column CSV (item, value): one row per figure, for a spreadsheet. It starts
    with a byte-order mark, as the export does: Excel on a Chinese Windows reads it as UTF-8 only
    so. A unit's name that would run as a formula there is written as text (as_cell)."""
    out = io.StringIO()
    out.write(BOM)
    w = csv.writer(out)
    w.writerow(["item", "value"])
    for key, value in _flatten(body, ""):
        w.writerow([as_cell(key), as_cell(value)])
    return out.getvalue()


def _flatten(value: Any, prefix: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        rows = []
        for k, v in value.items():
            rows += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return rows
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [(prefix, ";".join(str(v) for v in value))]
        rows = []
        for i, v in enumerate(value):
            rows += _flatten(v, f"{prefix}[{i}]")
        return rows
    return [(prefix, "" if value is None else value)]
