"""Live lanes: recent events, the live stream (SSE), device state, and lanes by hand (open once,
hold open, release, close, reopen)."""

from __future__ import annotations

import asyncio
import heapq
import sqlite3
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import closing
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field

from gateway.api.auth import SESSION_COOKIE, BearerToken, Principal, User, identify
from gateway.api.deps import App, Db, GuardApp, IdempotencyKey, KeyedWrites, Words, read_only, saved_once
from gateway.api.errors import ApiError
from gateway.api.hub import sse
from gateway.api.shapes import ERRORS
from gateway.api.views import recent
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import LaneRecord, Recorded, WaitsFor
from gateway.store.audit import centre_operator, shown_actor, shown_by
from gateway.store.database import open_read_only
from gateway.timefmt import from_db, to_db

router = APIRouter(tags=["lanes"], responses=ERRORS)
# A `ping` event at least this often: a page that hears nothing for two of them and a bit (a Wi-Fi
# drop that closes no socket) knows the line is dead. A comment would not do: EventSource hides it.
KEEPALIVE_S = 15.0


def silence_limit_s() -> float:
    """How long a live page waits without a message before it reconnects."""
    return KEEPALIVE_S * 2 + 5


_BREAKS = {"Cc", "Zl", "Zp"}  # control characters, and the line and paragraph separators


def _one_line(text: object) -> object:
    """A guard's reason on one line: a line break or other control character becomes a space. The
    reason goes to the journal, where a line break would start a second, forged entry. Replaced,
    not refused: a guard opening for an ambulance is not to be held at the barrier by a 422.
    Stripped before its length is checked: a reason of spaces is one left empty (`reason_required`,
    naming the field), not the lane's general refusal after the request was taken."""
    if not isinstance(text, str):
        return text  # not text at all: pydantic says so
    return "".join(" " if unicodedata.category(c) in _BREAKS else c for c in text).strip()


class LaneAction(BaseModel):
    reason: Annotated[Words, BeforeValidator(_one_line)] = Field(
        min_length=1,
        max_length=200,
        description="Why, in the guard's words (on one line: a line break is a space).",
    )


class LaneActionDone(BaseModel):
    lane: str
    action: Literal["open", "hold", "release", "close", "reopen"]
    by: str
    reason: str
    relays: int = Field(
        description="The lane's relays: driven to open, hold or release, where a lane without one is "
        "refused (422). Closing and reopening move none: the lane's decisions refuse everyone."
    )
    record_waits: bool = Field(
        False,
        description="The lane opened (or was released) but its audit and upstream record could not "
        "be stored yet: it waits in memory and is written when storage takes writes again "
        "(`waits_for` says why).",
    )
    car_under_arm: bool = Field(
        False,
        description="A release (on record) of a vehicle lane whose loop sees a car: the barrier stays "
        "up until the car has left the loop (at most 3 minutes: a loop stuck on lets it down then), "
        "not dropped on the car. The lane's status says so too (`car_under_arm`).",
    )
    waits_for: WaitsFor | None = Field(
        None,
        description="Why the record waits (null: it is stored): `full`, the disk is full (free disk "
        "space in the data directory); `unwritable`, the disk takes no writes otherwise (read-only, "
        "failing); `locked`, another process holds the database (a `gateway import` suspended with "
        "Ctrl-Z: end it); `slow`, not written within 2 s, the cause not known yet (most often "
        "another process holding the database, or a gateway far behind).",
    )
    again: bool = Field(
        False,
        description="A repeat of an earlier request with this Idempotency-Key (its answer lost on the "
        "Wi-Fi, the guard tapped again): answered what that one did, nothing done again (the barrier "
        "was not raised a second time, no second record).",
    )


def lanes_status(gw: Gateway) -> dict[str, Any]:
    """Each lane's devices (online or not) and whether it is held open: what the pages show.
    `held_by` is who holds it, as on record (a login, token:<name>); `held_by_name` the name the
    pages show for him (shown_actor), as the lane's row of that hold names him: the pill read
    常开中 · guard1 under a row reading 常开 · 张师傅. Held by the centre, `held_by_centre` is its
    operator (centre_operator): the status goes to every page alike, each in its own language, so
    the page names the centre in its words (Monitoring centre (zhang.wei)), not held_by_name's."""
    devices = [h.snapshot() for h in gw.devices.health]
    held = dict(gw.by_hand.held)  # one read: a release on another thread may change it meanwhile
    names = _held_names(gw, held)
    lanes = {}
    for lane in gw.site.config.lanes:
        mine = [d for d in devices if d["lane"] == lane.id]
        lanes[lane.id] = {
            "online": all(d["online"] for d in mine),
            "devices": [
                {
                    "device": d["device"],
                    "kind": d["kind"],
                    "online": d["online"],
                    "error": d["last_error"],
                }
                for d in mine
            ],
            "held_by": held.get(lane.id),
            "held_by_name": names.get(lane.id),
            "held_by_centre": centre_operator(held[lane.id]) if lane.id in held else None,
            # Closed by a guard or the central server: everyone at it is refused (lane_closed).
            "closed": gw.by_hand.lane_modes.get(lane.id) == "closed",
            # Released, its barrier still up over the car on its loop until it leaves (hand_holds.py).
            "car_under_arm": gw.by_hand.car_under_arm(lane.id),
        }
    # Why storage takes no writes, as the last write found it (None: it takes them): the banner.
    return {"lanes": lanes, "storage": gw.storage.cause}


def _held_names(gw: Gateway, held: dict[str, str]) -> dict[str, str]:
    """The name the pages show for whoever holds each lane open (held: lane -> actor). Read only
    while a lane is held (the status is read every second). The accounts not readable (the
    database locked for long), the login is shown: the pill is not worth a failed status."""
    if not held:
        return {}
    try:
        with closing(read_only(gw)) as conn:
            return {lane: shown_actor(conn, actor) for lane, actor in held.items()}
    except sqlite3.Error:
        return {lane: actor.removeprefix("token:") for lane, actor in held.items()}


def lane_list(gw: Gateway) -> list[dict[str, Any]]:
    gates = {g.id: g.name for g in gw.site.config.gates}
    status = lanes_status(gw)["lanes"]
    return [
        {
            "id": lane.id,
            "name": lane.name or lane.id,
            "gate": lane.gate,
            "gate_name": gates.get(lane.gate, lane.gate),
            "direction": lane.direction,
            "type": lane.type,
            "zone": lane.zone,
            "vehicle_class": lane.vehicle_class,
            **status[lane.id],
        }
        for lane in gw.site.config.lanes
    ]


@router.get("/api/lanes", summary="Lanes with their devices' state and who holds them open")
def get_lanes(who: User, app: App) -> list[dict[str, Any]]:
    return lane_list(app.gw)


# The lanes by hand that a live page lists with the decisions, read back from their audit rows (what
# the stream's `action` said) for a page that was not connected when they were done. Only the last
# AUDIT_WINDOW audit rows are looked at: audit has no index by action (openings_since does the same).
# A relay that did not take it is listed too (its `<action>_failed` row), next to the attempt: a
# reloaded page must not read as if the barrier opened.
HAND_ACTIONS = (
    "lane.open",
    "lane.hold",
    "lane.release",
    "lane.close",
    "lane.reopen",
    "lane.open_failed",
    "lane.hold_failed",
    "lane.release_failed",
)
AUDIT_WINDOW = 1000
_HAND_ROWS = f"""
SELECT a.id, a.at, a.action, a.target, a.detail, a.actor,
       CASE WHEN a.actor LIKE 'token:%' THEN substr(a.actor, 7)
            ELSE coalesce(nullif(u.display_name, ''), a.actor) END AS shown
FROM audit a LEFT JOIN accounts u ON u.username = a.actor
WHERE a.id > (SELECT coalesce(max(id), 0) - {AUDIT_WINDOW} FROM audit)
  AND a.action IN ({", ".join(f"'{a}'" for a in HAND_ACTIONS)})
  AND a.at > :since AND (:lane IS NULL OR a.target = :lane)
ORDER BY a.id DESC LIMIT :limit
"""


def action_key(lane: str, action: str, at: str) -> str:
    """What a live page knows a lane action by, shown once: its lane, its action and its record's
    own time as stored (to the microsecond), the same in the stream's `action` and in its audit row
    once written. Its audit id would not do: a record that waited for storage (a full disk) had
    none when it was pushed, and the catch-up brought it again with one (listed twice)."""
    return f"{lane} {action} {at}"


def hand_actions(
    gw: Gateway, conn: sqlite3.Connection, lane: str | None, limit: int, since: str = ""
) -> list[dict[str, Any]]:
    """Lanes opened, held, released, closed or reopened by hand, newest first, shaped as the
    stream's `action` (by: the name the pages show) with the audit row's id and the action's key
    (action_key); `since`: only those recorded after this time as stored (a page catching up).
    Those whose record still waits for storage (a single opening on a full disk: hand_opens.py)
    too, `audit_id` null, as the stream pushed them: read from the audit rows only, a tablet
    reloaded on a full disk listed none of them until the disk had room, hours later, while the
    others did. One the centre did is named as the lane's pill names it (_named)."""
    # Read before the audit rows: one written in between is in both, listed once (by its key).
    waiting = _waiting_actions(gw, lane, since)
    rows = conn.execute(_HAND_ROWS, {"since": since, "lane": lane, "limit": limit}).fetchall()
    written = [
        {
            "audit_id": audit_id,
            "key": action_key(target, action.removeprefix("lane."), at),
            "at": _shown_at(gw, from_db(at)),
            "lane": target,
            "action": action.removeprefix("lane."),
            **_named(conn, actor, shown),
            "reason": detail,
        }
        for audit_id, at, action, target, detail, actor, shown in rows
    ]
    if not waiting:
        return written
    keys = {item["key"] for item in written}
    unwritten = [
        {
            "audit_id": None,
            "key": action_key(record.lane, record.action, to_db(record.at)),
            "at": _shown_at(gw, record.at),
            "lane": record.lane,
            "action": record.action,
            **_named(conn, record.actor, None),
            "reason": record.reason,
        }
        for record in reversed(waiting)  # newest first
    ]
    # Among the written by their own time (each key ends with it, as stored: to the microsecond).
    both = [*written, *(item for item in unwritten if item["key"] not in keys)]
    return sorted(both, key=lambda item: item["key"].rsplit(" ", 1)[1], reverse=True)[:limit]


def _named(conn: sqlite3.Connection, actor: str | None, shown: str | None) -> dict[str, str | None]:
    """Who did a lane action as the pages name him: `by`, his name (shown: as _HAND_ROWS read it);
    the centre's, in Chinese (监控中心（zhang.wei）), with `by_centre` its operator (centre_operator),
    which the page words in its own language (Monitoring centre (zhang.wei)), as the lane's pill
    names the centre holding it (held_by_centre). The row read central:zhang.wei, its raw actor."""
    if shown is not None and centre_operator(actor or "") is None:
        return {"by": shown}
    return dict(shown_by(conn, actor or ""))


def _waiting_actions(gw: Gateway, lane: str | None, since: str) -> list[LaneRecord]:
    """The lane records by hand that wait for storage, as _HAND_ROWS would select them once written."""
    return [
        record
        for record in gw.by_hand.unwritten()
        if f"lane.{record.action}" in HAND_ACTIONS
        and (lane is None or record.lane == lane)
        and to_db(record.at) > since
    ]


def _shown_at(gw: Gateway, at: datetime | None) -> str | None:
    return at.astimezone(gw.site.tz).isoformat(timespec="seconds") if at else None


def with_hand_actions(
    events: list[dict[str, Any]], actions: list[dict[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """Decisions and lanes by hand together, newest first, each kept in its own order and the
    actions put among the decisions by time (within one second below them). The decisions stay in
    the order they were written (recent(): by row), not their times: after the gateway's clock
    was set back (NTP putting right a clock that ran ahead), the newest are dated before those
    written on the fast clock, and sorted by time a page catching up placed them under those
    (live.js placeBetween)."""
    return list(islice(heapq.merge(events, actions, key=_at, reverse=True), limit))


def _at(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["at"])


def recent_per_lane(
    gw: Gateway, conn: sqlite3.Connection, lanes: list[str], per_lane: int, actions: bool
) -> list[dict[str, Any]]:
    """The newest `per_lane` decisions of each of `lanes` (and with `actions` its newest lanes by
    hand), all newest first: each lane's list as the live page is loaded with it. The newest over
    all lanes together would leave a lane out at a busy moment: a hundred swipes at the door push
    out the car held at the exit to pay, and a page catching up after a Wi-Fi drop never shows it."""
    each: list[list[dict[str, Any]]] = []
    for lane in lanes:
        events = recent(gw, conn, lane, per_lane)
        done = hand_actions(gw, conn, lane, per_lane) if actions else []
        each.append(with_hand_actions(events, done, len(events) + len(done)))
    # Merged, not sorted: each lane's list keeps its order, the one its live page lists it in.
    return list(heapq.merge(*each, key=_at, reverse=True))


@router.get("/api/live/recent", summary="Recent lane events as the guard pages show them")
def live_recent(
    who: User,
    app: App,
    db: Db,
    lane: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    actions: Annotated[
        bool,
        Query(
            description="Lanes opened, held, released, closed and reopened by hand too, among the "
            "decisions by time: items with `action` (as the stream's) and `audit_id`, no `event_id`"
        ),
    ] = False,
    per_lane: Annotated[
        int | None,
        Query(
            ge=1,
            le=50,
            description="Instead of the newest `limit` over all lanes, the newest this many of each "
            "lane (and with `actions`, of its lanes by hand), all newest first: what the live page "
            "lists, fetched by a page catching up",
        ),
    ] = None,
) -> list[dict[str, Any]]:
    gw = app.gw
    if lane is not None and lane not in gw.site.lanes:
        raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(gw.site.lanes)}")
    if per_lane is not None:
        lanes = [lane] if lane is not None else [each.id for each in gw.site.config.lanes]
        return recent_per_lane(gw, db, lanes, per_lane, actions)
    events = recent(gw, db, lane, limit)
    return with_hand_actions(events, hand_actions(gw, db, lane, limit), limit) if actions else events


@router.get(
    "/api/live/stream",
    summary="Server-sent events: `access` for each decision, `status` for devices, `action` for "
    "lanes opened by hand, `resync` when the page fell behind",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_stream(
    request: Request,
    who: User,
    app: App,
    db: Db,
    token: BearerToken,  # what `who` was identified by, checked again while the stream lasts
    last_event_id: Annotated[str | None, Header(max_length=64)] = None,
) -> StreamingResponse:
    # Events decided, and lanes worked by hand, while the page was reconnecting are sent first
    # (EventSource sends Last-Event-ID by itself: the last decision it got); the page then carries
    # on with the live ones. A lane action it had already shown comes again: the page knows it by
    # its key (action_key).
    missed = _missed(app.gw, db, last_event_id) if last_event_id else []
    cookie = request.cookies.get(SESSION_COOKIE)

    def still_allowed() -> bool:
        # A stream outlives its request: a logout, an expired session or a revoked token ends it.
        with closing(read_only(app.gw)) as conn:
            try:
                return identify(request, conn, token, None if token else cookie) is not None
            except ApiError:
                return False

    return StreamingResponse(
        _events(app, missed, still_allowed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _missed(gw: Gateway, conn: sqlite3.Connection, last_event_id: str) -> list[dict[str, Any]]:
    row = conn.execute("SELECT at FROM access_log WHERE event_id = ?", (last_event_id,)).fetchone()
    events = recent(gw, conn, None, 200, last_event_id)
    return with_hand_actions(events, hand_actions(gw, conn, None, 200, row[0] if row else ""), 200)


async def _events(
    app: GuardApp, missed: list[dict[str, Any]], still_allowed: Callable[[], bool]
) -> AsyncIterator[str]:
    queue = app.hub.connect()
    try:
        yield "retry: 1000\n\n"
        yield sse("status", app.hub.status_now())
        for item in reversed(missed):  # oldest first, as they happened
            # An action carries no id: Last-Event-ID stays the last decision, as recent() knows it.
            yield sse("action", item) if "action" in item else sse("access", item, item["event_id"])
        check_at = time.monotonic() + KEEPALIVE_S
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), max(check_at - time.monotonic(), 0))
            except TimeoutError:
                message = ": keepalive\n" + sse("ping", {})  # the comment for proxies and curl
            # On the clock, busy or idle: on a busy site the queue never times out.
            if time.monotonic() >= check_at:
                if not await asyncio.to_thread(still_allowed):
                    return
                check_at = time.monotonic() + KEEPALIVE_S
            yield message
    finally:
        app.hub.disconnect(queue)


Action = Literal["open", "hold", "release", "close", "reopen"]
# Idempotency-Key -> the lane action by hand it did, per user (the last 500). Sent again after its
# answer was lost on the Wi-Fi (网关没有回应, and the guard taps 开闸 again), an opening raised the
# barrier a second time, two openings on record and upstream: the repeat is answered the first.
_done_by_hand: KeyedWrites[LaneActionDone] = KeyedWrites("lane action")


def _act_once(
    app: GuardApp, who: Principal, lane: str, action: Action, reason: str, key: str | None
) -> LaneActionDone:
    """_act, once for its Idempotency-Key (`key`): a repeat for the same lane and action is
    answered what the first did (`again`), whatever its reason says, or waits for it while it is
    under way (503 still_saving past the writes' wait). One that failed (a relay that took
    nothing, a lane unknown) names nothing: a repeat does it anew, and so does a repeat of a hold,
    release, close or reopen whose lane is no longer so (_in_effect)."""
    if not key:
        return _act(app, who, lane, action, reason)
    mine: Future[LaneActionDone] = Future()

    def start() -> Future[LaneActionDone]:
        mine.set_running_or_notify_cancel()  # done on this request's thread: never called off
        return mine

    doing, again = _done_by_hand.once(who.name, key, f"{lane} {action}", start)
    if again:
        done = saved_once(doing)
        if _in_effect(app.gw, lane, action):
            return done.model_copy(update={"again": True})
        # Changed since by another action (released on another tablet, reopened by the centre):
        # the guard tapping 常开 again wants the lane held now, not told it was held a minute ago.
        _done_by_hand.forget(who.name, key)
        doing, again = _done_by_hand.once(who.name, key, f"{lane} {action}", start)
        if again:  # another repeat of it, at this very moment, does it anew
            return saved_once(doing).model_copy(update={"again": True})
    try:
        done = _act(app, who, lane, action, reason)
    except BaseException as exc:
        mine.set_exception(exc)
        raise
    mine.set_result(done)
    return done


def _in_effect(gw: Gateway, lane: str, action: Action) -> bool:
    """Whether the lane is still as `action` left it: held after a hold, not held after a
    release, closed after a close, not closed after a reopen. An opening is a moment's pulse, its
    repeat always the same opening."""
    if action == "open":
        return True
    if action in ("hold", "release"):
        return (lane in gw.by_hand.held) == (action == "hold")
    return (gw.by_hand.lane_modes.get(lane) == "closed") == (action == "close")


def _act(app: GuardApp, who: Principal, lane: str, action: Action, reason: str) -> LaneActionDone:
    gw = app.gw
    # Its record as its own write gave it: its audit row's id (none while the record waits: a single
    # open or a release goes ahead so, on a full disk) and its own time, the key a page shows it
    # once by (action_key). Looked up afterwards, two openings by one shared account at once were
    # both sent the first's.
    recorded: Recorded | None
    if action == "open":
        recorded = gw.by_hand.open_lane(lane, who.name, reason)
    elif action == "hold":
        recorded = gw.by_hand.hold_lane(lane, who.name, reason)
    elif action == "release":
        recorded = gw.by_hand.release_lane(lane, who.name, reason)
    else:
        recorded = gw.by_hand.set_closed(lane, action == "close", who.name, reason)
    waits = recorded.waits if recorded is not None else None
    done = LaneActionDone(
        lane=lane,
        action=action,
        by=who.shown_name,
        reason=reason.strip(),
        relays=len(gw.devices.lanes[lane].relays),
        record_waits=waits is not None,
        waits_for=waits,
        car_under_arm=action in ("release", "close") and gw.by_hand.car_under_arm(lane),
    )
    app.hub.publish_status()  # its record went to the pages as it was made (pushed_action)
    return done


def pushed_action(gw: Gateway, record: LaneRecord, done: Recorded) -> dict[str, Any] | None:
    """The stream's `action` for a lane record by hand as it is made (HandLanes.subscribe), shaped
    as hand_actions lists it once written; None for one the lanes' lists leave out (a relay's
    failure: the guard is told by his answer)."""
    if f"lane.{record.action}" not in HAND_ACTIONS:
        return None
    with closing(open_read_only(gw.db_path, 2)) as conn:
        named = _named(conn, record.actor, None)
    return {
        "audit_id": done.audit_id,
        "key": action_key(record.lane, record.action, to_db(done.at)),
        "at": _shown_at(gw, done.at),
        "lane": record.lane,
        "action": record.action,
        **named,
        "reason": record.reason,
        "record_waits": done.waits is not None,
    }


@router.post(
    "/api/lanes/{lane}/open",
    summary="Open a lane once by hand (reason required, audited)",
    response_model=LaneActionDone,
)
def open_lane(
    lane: str, body: LaneAction, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> LaneActionDone:
    return _act_once(app, who, lane, "open", body.reason, idempotency_key)


@router.post(
    "/api/lanes/{lane}/hold",
    summary="Hold a lane open until released (audited)",
    response_model=LaneActionDone,
)
def hold_lane(
    lane: str, body: LaneAction, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> LaneActionDone:
    return _act_once(app, who, lane, "hold", body.reason, idempotency_key)


@router.post(
    "/api/lanes/{lane}/release",
    summary="Release a held lane (audited)",
    response_model=LaneActionDone,
)
def release_lane(
    lane: str, body: LaneAction, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> LaneActionDone:
    return _act_once(app, who, lane, "release", body.reason, idempotency_key)


@router.post(
    "/api/lanes/{lane}/close",
    summary="Close a lane: everyone at it is refused (lane_closed) until reopened, across restarts "
    "too (audited)",
    response_model=LaneActionDone,
)
def close_lane(
    lane: str, body: LaneAction, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> LaneActionDone:
    return _act_once(app, who, lane, "close", body.reason, idempotency_key)


@router.post(
    "/api/lanes/{lane}/reopen",
    summary="Reopen a closed lane: its decisions are made as usual again (audited)",
    response_model=LaneActionDone,
)
def reopen_lane(
    lane: str, body: LaneAction, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> LaneActionDone:
    return _act_once(app, who, lane, "reopen", body.reason, idempotency_key)


# The event reaches the guard's page before its JPEG is on the disk (drivers/cameras/snapshots.py):
# the page asks for it at once and shows what it gets for good. One writer serves every camera, and
# a Pi takes a second or so for a queue of 1080p frames: a snapshot still queued is waited for.
SNAPSHOT_WAIT_S = 3.0
SNAPSHOT_POLL_S = 0.05


@router.get(
    "/api/snapshots/{path:path}",
    summary="A plate snapshot image",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
async def snapshot(path: str, who: User, app: App) -> FileResponse:
    # Async: a wait for the writer sleeps on the event loop instead of holding a worker thread.
    gw = app.gw
    base = gw.snapshots_dir.resolve()
    try:
        target = (base / path).resolve()
    except (ValueError, OSError):  # a NUL byte (%00) in the address: no file is named so
        raise _no_snapshot(gw) from None
    if not target.is_relative_to(base):
        raise _no_snapshot(gw)
    name = (Path("snapshots") / target.relative_to(base)).as_posix()  # as the writer names it
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    # Until the writer is done with it the file is missing or half written: not served yet.
    while gw.snapshots is not None and gw.snapshots.pending(name):
        if time.monotonic() >= deadline:
            raise ApiError(404, "not_found", "the snapshot is still being written", "ask again in a moment")
        await asyncio.sleep(SNAPSHOT_POLL_S)
    if not _is_file(target):
        raise _no_snapshot(gw)
    # Not kept after the guard signs out (a shared tablet), as the pages are not.
    return FileResponse(Path(target), headers={"Cache-Control": "private, no-store"})


def _is_file(target: Path) -> bool:
    """Whether `target` is a file; a name no file can have (longer than the file system allows)
    is none, not a fault of the gateway's."""
    try:
        return target.is_file()
    except OSError:
        return False


def _no_snapshot(gw: Gateway) -> ApiError:
    days = gw.site.config.retention.snapshots_days
    kept = f"{days} day{'s' if days != 1 else ''}"
    return ApiError(
        404,
        "not_found",
        "no such snapshot",
        f"snapshots are kept {kept} (retention.snapshots_days): this one is older, or could not "
        "be saved (a full disk)",
    )
