"""Lane events as the guard pages show them: one shape for the first load and for live pushes."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import quote

from gateway.core import BUTTON, Holder
from gateway.events import AccessEvent
from gateway.parking.book import MONTH_LAPSES, month_ran_out
from gateway.privacy import mask_card, mask_name
from gateway.runtime.gateway import Gateway
from gateway.store.database import open_read_only
from gateway.store.lookup import plate_holder
from gateway.store.neighbour_rows import not_neighbours_sql
from gateway.timefmt import from_db, last_day, to_db

log = logging.getLogger(__name__)


# The plate log's 按车牌查找 (find by plate) and 日期 (day), put into _RECENT's {found}. The pieces
# of a plate the occupancy page's search takes (pages.py _car_searched), as :part0, :part1 ... and
# as :parts (JSON): a reading found by any of them in the plate the lane took it as (value), the
# camera's own reading (a look-alike's flag read:<plate>: the flags' other words are lower case, a
# piece is not), the car it stood under (car) or the plate a guard corrected it to (the few
# corrections read once). Each piece a term of its own: a json_each of the pieces for each record
# read a month's four times as slowly. Read record by record between :after and :before, which the
# page bounds to a day or the last days (Dated); the time by +a.at, so that SQLite keeps to those
# ids rather than walk the time index's range and sort it.
_CORRECTED_TO = """SELECT event_id FROM latest_plate_corrections
    WHERE EXISTS (SELECT 1 FROM json_each(:parts) j WHERE instr(plate, j.value) > 0)"""


def _found(count: int, dated: bool) -> str:
    terms = []
    if count:
        each = " OR ".join(
            f"instr(a.value, :part{i}) > 0 OR instr(a.flags, :part{i}) > 0 OR instr(a.car, :part{i}) > 0"
            for i in range(count)
        )
        terms.append(f"AND ({each} OR a.event_id IN ({_CORRECTED_TO}))")
    if dated:
        terms.append("AND +a.at >= :from_at AND +a.at < :to_at")
    return "\n  ".join(terms)


# The plate log's 只看拒绝 (refused only) lists cars turned away: not the car of the lane beside read
# by the lane's camera (neighbour_lane, refused wrong_lane on record only), gone through its own lane.
_RECENT = f"""
SELECT a.event_id, a.at, a.lane, a.kind, a.value, a.confidence, a.admitted, a.reason, a.billing,
       a.flags, a.holder_kind, a.snapshot, v.plate, v.class,
       coalesce(r.name, p.name) AS name, coalesce(r.building, p.host_building) AS building,
       coalesce(r.unit, p.host_unit) AS unit, s.number AS slot,
       c.plate AS corrected, c.actor AS corrected_by, a.car AS held_as, a.vehicle_id
FROM access_log a
LEFT JOIN residents r ON a.holder_kind = 'resident' AND r.id = a.holder_id
LEFT JOIN passes p ON a.holder_kind IN ('visitor', 'contractor') AND p.id = a.holder_id
LEFT JOIN vehicles v ON v.id = a.vehicle_id
LEFT JOIN slots s ON s.id = a.slot_id
LEFT JOIN latest_plate_corrections c ON c.event_id = a.event_id
WHERE a.id > :after AND a.id < :before AND {{lane}}
  AND (:kind IS NULL OR a.kind = :kind) AND (:refused = 0 OR (a.admitted = 0 AND {not_neighbours_sql("a")}))
  {{found}}
ORDER BY a.id DESC LIMIT :limit
"""
# Every lane's, newest id down.
RECENT = _RECENT.format(lane="1", found="")
# One lane's: a plain `a.lane = :lane`, so that SQLite walks the lane's own index (access_log_lane:
# lane, id) newest first. Written `(:lane IS NULL OR a.lane = :lane)` it could not, and walked the
# whole log by id: a lane with fewer records than asked for (a quiet exit, a side door) cost every
# record the box keeps, each time a live page caught up.
RECENT_ON_LANE = _RECENT.format(lane="a.lane = :lane", found="")
# A plate decision kept on its row as another car than the plate read (access_log.car): the car
# misread again as it waits at an exit after a guard corrected its hold there (store/holds.py
# car_of). The correction that made it so: the latest to that plate of a decision before it at the
# lane. (A plate row names the car it read otherwise: a look-alike's match is its value.) The few
# corrections are read first (CROSS JOIN keeps that order), each finding its record by event id:
# walked from the lane's records instead, it read the lane's whole history for each decision.
_HOLD_CORRECTED = """
SELECT a.car, coalesce((
    SELECT c.actor FROM plate_corrections c CROSS JOIN access_log h
    WHERE c.plate = a.car AND h.event_id = c.event_id AND h.lane = a.lane AND h.id < a.id
    ORDER BY c.id DESC LIMIT 1), '')
FROM access_log a WHERE a.event_id = ? AND a.kind = 'plate' AND a.car <> a.value
"""
# The monthly period of a car held at an exit to pay, as Gateway._monthly_ended reads it when it
# tells the driver 月租到期: the register's now, else the end its open stay kept (cleared or struck
# off while parked: schema migration 17; kept on monthly stays only). A car struck off while parked
# is decided as no registered vehicle (vehicle_id empty): its open monthly stay is found by plate.
_MONTH_END = """
SELECT coalesce(
    (SELECT monthly_until FROM vehicles WHERE id = :vid),
    (SELECT monthly_until FROM stays WHERE vehicle_id = :vid AND exited_at IS NULL ORDER BY id DESC LIMIT 1),
    (SELECT monthly_until FROM stays WHERE :vid IS NULL AND plate = :plate AND billing = 'monthly'
     AND exited_at IS NULL ORDER BY id DESC LIMIT 1))
"""


def shown_value(kind: str, value: str) -> str:
    """Plates are shown whole (that is how a guard knows the car), and a door's exit button by its
    device; card and QR numbers are not."""
    return value if kind in ("plate", BUTTON) else mask_card(value)


def snapshot_url(gw: Gateway, snapshot: str | None) -> str | None:
    """The guard page's link to a stored snapshot. The access log keeps the path relative to the
    data directory (`snapshots/<date>/<file>.jpg`, as SnapshotWriter names it); older rows may
    hold an absolute path. Anything outside the snapshots folder gets no link.

    A snapshot no longer on the disk (retention deleted it after snapshots_days while the access
    record is kept months, or a full disk kept it from being written) gets "" rather than a link
    that would show a broken picture: empty, as no snapshot, to a page that does not look, and
    the plate log says the snapshot is gone. One still being written gets its link (the route
    waits for it). One stat a row: a page lists at most a few dozen."""
    if not snapshot:
        return None
    path = (gw.data_dir / snapshot).absolute()  # an absolute path stays as it is
    try:
        path = path.relative_to(gw.snapshots_dir.absolute())
    except ValueError:
        return None
    # Pending asked first: a write that ends between the two looks is then on the disk.
    writing = gw.snapshots is not None and gw.snapshots.pending(f"snapshots/{path.as_posix()}")
    if not writing and not (gw.snapshots_dir / path).is_file():
        return ""
    return "/api/snapshots/" + quote(path.as_posix())


def from_event(gw: Gateway, ev: AccessEvent) -> dict[str, Any]:
    """A decision as the live pages show it, pushed as it is taken (or answered to a typed plate)."""
    event = _event_shape(gw, ev)
    corrected = ev.kind == "plate" and ev.direction == "exit"
    lapsed = _may_have_lapsed(ev.reason, ev.billing, ev.vehicle_id)
    if not (corrected or lapsed):
        return event
    try:
        with closing(open_read_only(gw.db_path, 2)) as conn:
            if corrected:
                # The camera decides a car waiting at an exit again every 15 s: after a guard's
                # correction of its hold, as the corrected car, held again or let out, which the
                # panel keeps showing (recent() says the same).
                event["corrected"] = hold_corrected(conn, ev.event_id)
            if lapsed:
                event["monthly_ended"] = monthly_ended(gw, conn, ev.billing, ev.vehicle_id, ev.plate, ev.at)
    except sqlite3.Error as exc:  # the decision is pushed all the same; a reload shows the rest
        log.warning("event %s pushed without its hold's correction or month: %s", ev.event_id, exc)
    return event


def _may_have_lapsed(reason: str, billing: str | None, vehicle_id: int | None) -> bool:
    """A registered car held at an exit to pay that may pay because its month ran out: a monthly
    stay (also of a car struck off while parked, no registered vehicle now), or one that came in
    lapsed (flag monthly_expired on its entry, none on its exit). Not a car on its own slot
    (billing slot), which a lapsed month costs nothing."""
    return (
        reason == "payment_due"
        and billing in MONTH_LAPSES
        and (vehicle_id is not None or billing == "monthly")
    )


def monthly_ended(
    gw: Gateway,
    conn: sqlite3.Connection,
    billing: str | None,
    vehicle_id: int | None,
    plate: str | None,
    at: datetime,
) -> str | None:
    """The last day of the monthly period of a car held to pay at `at` (2025-03-31, in the site's
    zone as the lookup page shows it) if that period had run out by then, else None: the driver's
    display says 月租到期 (Gateway._monthly_ended), and the guard's panel and pay dialog must say it
    too, or he cannot answer the owner who says "I'm a monthly car". Not a monthly car paid up that
    owes only a charge carried from before (its period runs on). Read now: a car renewed since no
    longer reads as lapsed on a reloaded page."""
    found = vehicle_id is not None or plate is not None
    row = conn.execute(_MONTH_END, {"vid": vehicle_id, "plate": plate}).fetchone() if found else None
    ended = month_ran_out(billing, from_db(row[0]) if row is not None else None, at)
    return last_day(ended, gw.site.tz).isoformat() if ended is not None else None


def _event_shape(gw: Gateway, ev: AccessEvent) -> dict[str, Any]:
    return {
        "event_id": ev.event_id,
        "at": ev.at.astimezone(gw.site.tz).isoformat(timespec="seconds"),
        "lane": ev.lane,
        "kind": ev.kind,
        "value": shown_value(ev.kind, ev.value),
        "plate": ev.plate,
        "confidence": ev.confidence,
        "admitted": ev.admitted,
        "reason": ev.reason,
        "billing": ev.billing,
        "flags": list(ev.flags),
        "holder_kind": ev.holder_kind,
        "name": ev.holder_name,
        "building": ev.building,
        "unit": ev.unit,
        "snapshot": snapshot_url(gw, ev.snapshot),
        "corrected": None,
        "monthly_ended": None,
    }


def recent(
    gw: Gateway,
    conn: sqlite3.Connection,
    lane: str | None = None,
    limit: int = 50,
    after_event: str | None = None,
    *,
    before: int | None = None,
    kind: str | None = None,
    refused_only: bool = False,
    span: Dated | None = None,
    parts: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Newest first; with `after_event`, only what came after it (a page catching up); with
    `before` (a row id, see row_id), only what came before it (the plate log's older page); with
    `span`, only those dated within it; with `parts`, only plate readings holding one of them (_found)."""
    after = (row_id(conn, after_event) or 0) if after_event else 0
    before = before or 2**63 - 1
    if span is not None:
        after, before = max(after, span.first - 1), min(before, span.last + 1)
    args = {
        "after": after,
        "before": before,
        "lane": lane,
        "kind": kind,
        "refused": int(refused_only),
        "limit": limit,
        "parts": json.dumps(list(parts), ensure_ascii=False),
        **{f"part{i}": part for i, part in enumerate(parts)},
        "from_at": span.start if span is not None else None,
        "to_at": span.end if span is not None else None,
    }
    conn.row_factory = sqlite3.Row
    try:
        query = RECENT if lane is None else RECENT_ON_LANE
        if parts or span is not None:
            on_lane = "1" if lane is None else "a.lane = :lane"
            query = _RECENT.format(lane=on_lane, found=_found(len(parts), span is not None))
        rows = conn.execute(query, args).fetchall()
    finally:
        conn.row_factory = None
    events = [_from_row(gw, dict(r)) for r in rows]
    for event, row in zip(events, rows, strict=True):
        if row["corrected"]:
            # A guard's correction of a misread plate: the plate the car carried, who said so, and
            # who that plate is registered to (few events are corrected: looked up one by one).
            event["corrected"] = corrected_shape(conn, row["corrected"], row["corrected_by"])
        elif row["kind"] == "plate" and row["held_as"] not in (None, row["value"]):
            event["corrected"] = hold_corrected(conn, row["event_id"])
        if _may_have_lapsed(row["reason"], row["billing"], row["vehicle_id"]) and (at := from_db(row["at"])):
            plate = row["value"] if row["kind"] == "plate" else None
            event["monthly_ended"] = monthly_ended(gw, conn, row["billing"], row["vehicle_id"], plate, at)
    return events


def corrected_shape(conn: sqlite3.Connection, plate: str, by: str) -> dict[str, Any]:
    """A decision's plate as a guard corrected it: the plate the car carried, who said so, and who
    that plate is registered to."""
    return {"plate": plate, "by": by, "holder": holder_shape(plate_holder(conn, plate))}


def hold_corrected(conn: sqlite3.Connection, event_id: str) -> dict[str, Any] | None:
    """A plate decision taken as another car than the plate read because a guard corrected the
    hold it is a repeat of (_HOLD_CORRECTED), shaped as its own correction would be; else None.
    Left uncorrected, the panel named the misread plate again 15 s after the guard corrected it,
    while the gateway charged and let out the car under the corrected one."""
    row = conn.execute(_HOLD_CORRECTED, (event_id,)).fetchone()
    return None if row is None else corrected_shape(conn, row[0], row[1])


class Dated(NamedTuple):
    """The access records dated from `start` to before `end` (as the store writes times), and the
    row ids they lie between: a day of the plate log's."""

    start: str
    end: str
    first: int
    last: int


def dated(conn: sqlite3.Connection, start: datetime, end: datetime | None) -> Dated | None:
    """The records dated from `start` to before `end` (None: to the newest), or None where there
    are none, found on the access log's time index. Records are numbered as they are written, so
    a day's lie between its first and last, a few thousand on a busy estate, whatever the log
    keeps before and after; rows a wrong clock dated elsewhere among them are left out by time."""
    since, until = to_db(start), to_db(end) if end is not None else "9"  # "9": after any year
    row = conn.execute("SELECT min(id), max(id) FROM access_log WHERE at >= ? AND at < ?", (since, until))
    first, last = row.fetchone()
    return None if first is None else Dated(since, until, int(first), int(last))


def row_id(conn: sqlite3.Connection, event_id: str) -> int | None:
    """The access record's row id: where a page of events starts or ends."""
    row = conn.execute("SELECT id FROM access_log WHERE event_id = ?", (event_id,)).fetchone()
    return int(row[0]) if row else None


def holder_shape(holder: Holder | None) -> dict[str, Any] | None:
    """Who a plate is registered to, as the guard pages show it (the name masked), and whether the
    lane refuses it as blocked (the holder, or the plate itself: plate_holder): a guard who corrects
    a refused car's plate to a resident's must not read it as a resident's car to let out by hand."""
    if holder is None:
        return None
    return {
        "kind": holder.kind,
        "name": holder.name_masked,
        "building": holder.building,
        "unit": holder.unit,
        "blocked": holder.blocked,
    }


def _from_row(gw: Gateway, row: dict[str, Any]) -> dict[str, Any]:
    at = from_db(row["at"])
    return {
        "event_id": row["event_id"],
        "at": at.astimezone(gw.site.tz).isoformat(timespec="seconds") if at else None,
        "lane": row["lane"],
        "kind": row["kind"],
        "value": shown_value(row["kind"], row["value"]),
        "plate": row["plate"] or (row["value"] if row["kind"] == "plate" else None),
        "confidence": row["confidence"],
        "admitted": bool(row["admitted"]),
        "reason": row["reason"],
        "billing": row["billing"],
        "flags": [f for f in (row["flags"] or "").split(",") if f],
        "holder_kind": row["holder_kind"],
        "name": mask_name(row["name"] or ""),
        "building": row["building"] or "",
        "unit": row["unit"] or "",
        "snapshot": snapshot_url(gw, row["snapshot"]),
        "corrected": None,
        "monthly_ended": None,
    }
