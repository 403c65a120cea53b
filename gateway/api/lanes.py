"""Live lanes: recent events, the live stream (SSE), device state, and lanes by hand (open once,
hold open, release, close, reopen)."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AfterValidator, BaseModel, Field

from gateway.api.auth import SESSION_COOKIE, BearerToken, Principal, User, identify
from gateway.api.deps import App, Db, GuardApp, read_only
from gateway.api.errors import ApiError
from gateway.api.hub import sse
from gateway.api.shapes import ERRORS
from gateway.api.views import recent
from gateway.errors import Conflict
from gateway.runtime.gateway import Gateway

router = APIRouter(tags=["lanes"], responses=ERRORS)
# A `ping` event at least this often: a page that hears nothing for two of them and a bit (a Wi-Fi
# drop that closes no socket) knows the line is dead. A comment would not do: EventSource hides it.
KEEPALIVE_S = 15.0


def silence_limit_s() -> float:
    """How long a live page waits without a message before it reconnects."""
    return KEEPALIVE_S * 2 + 5


_BREAKS = {"Cc", "Zl", "Zp"}  # control characters, and the line and paragraph separators


def _one_line(text: str) -> str:
    """A guard's reason on one line: a line break or other control character becomes a space. The
    reason goes to the journal, where a line break would start a second, forged entry. Replaced,
    not refused: a guard opening for an ambulance is not to be held at the barrier by a 422."""
    return "".join(" " if unicodedata.category(c) in _BREAKS else c for c in text)


class LaneAction(BaseModel):
    reason: Annotated[str, AfterValidator(_one_line)] = Field(
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
        description="The lane opened but its audit and upstream record could not be stored (a full "
        "disk): it waits in memory and is written when storage takes writes again. Free disk space "
        "in the data directory.",
    )


def lanes_status(gw: Gateway) -> dict[str, Any]:
    """Each lane's devices (online or not) and whether it is held open: what the pages show."""
    devices = [h.snapshot() for h in gw.devices.health]
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
            "held_by": gw.by_hand.held.get(lane.id),
            # Closed by a guard or the central server: everyone at it is refused (lane_closed).
            "closed": gw.by_hand.lane_modes.get(lane.id) == "closed",
        }
    return {"lanes": lanes}


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


@router.get("/api/live/recent", summary="Recent lane events as the guard pages show them")
def live_recent(
    who: User,
    app: App,
    db: Db,
    lane: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    if lane is not None and lane not in app.gw.site.lanes:
        raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(app.gw.site.lanes)}")
    return recent(app.gw, db, lane, limit)


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
    # Events decided while the page was reconnecting are sent first (EventSource sends
    # Last-Event-ID by itself); the page then carries on with the live ones.
    missed = recent(app.gw, db, None, 200, last_event_id) if last_event_id else []
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


async def _events(
    app: GuardApp, missed: list[dict[str, Any]], still_allowed: Callable[[], bool]
) -> AsyncIterator[str]:
    queue = app.hub.connect()
    try:
        yield "retry: 1000\n\n"
        yield sse("status", app.hub.status_now())
        for event in reversed(missed):
            yield sse("access", event, event["event_id"])
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


def _act(app: GuardApp, who: Principal, lane: str, action: Action, reason: str) -> LaneActionDone:
    gw = app.gw
    record_waits = False  # only a single open goes ahead while its record waits (a full disk)
    if action == "open":
        record_waits = not gw.by_hand.open_lane(lane, who.name, reason)
    elif action == "hold":
        gw.by_hand.hold_lane(lane, who.name, reason)
    elif action == "release":
        gw.by_hand.release_lane(lane, who.name, reason)
    else:
        _set_closed(gw, lane, action == "close", who.name, reason)
    done = LaneActionDone(
        lane=lane,
        action=action,
        by=who.shown_name,
        reason=reason.strip(),
        relays=len(gw.devices.lanes[lane].relays),
        record_waits=record_waits,
    )
    app.hub.publish("action", {**done.model_dump(), "at": gw.now().isoformat(timespec="seconds")})
    app.hub.publish_status()
    return done


@router.post(
    "/api/lanes/{lane}/open",
    summary="Open a lane once by hand (reason required, audited)",
    response_model=LaneActionDone,
)
def open_lane(lane: str, body: LaneAction, who: User, app: App) -> LaneActionDone:
    return _act(app, who, lane, "open", body.reason)


@router.post(
    "/api/lanes/{lane}/hold",
    summary="Hold a lane open until released (audited)",
    response_model=LaneActionDone,
)
def hold_lane(lane: str, body: LaneAction, who: User, app: App) -> LaneActionDone:
    return _act(app, who, lane, "hold", body.reason)


@router.post(
    "/api/lanes/{lane}/release",
    summary="Release a held lane (audited)",
    response_model=LaneActionDone,
)
def release_lane(lane: str, body: LaneAction, who: User, app: App) -> LaneActionDone:
    return _act(app, who, lane, "release", body.reason)


@router.post(
    "/api/lanes/{lane}/close",
    summary="Close a lane: everyone at it is refused (lane_closed) until reopened, across restarts "
    "too (audited)",
    response_model=LaneActionDone,
)
def close_lane(lane: str, body: LaneAction, who: User, app: App) -> LaneActionDone:
    return _act(app, who, lane, "close", body.reason)


@router.post(
    "/api/lanes/{lane}/reopen",
    summary="Reopen a closed lane: its decisions are made as usual again (audited)",
    response_model=LaneActionDone,
)
def reopen_lane(lane: str, body: LaneAction, who: User, app: App) -> LaneActionDone:
    return _act(app, who, lane, "reopen", body.reason)


def _set_closed(gw: Gateway, lane: str, closed: bool, actor: str, reason: str) -> None:
    """The central server's set_lane_mode, with the same records. A lane closed (or reopened)
    already, on another tablet or by the centre, is said so, not recorded twice; and a reopen of a
    lane that is not closed must not release a lane held open, as set_lane_mode normal would."""
    if lane in gw.site.lanes and (gw.by_hand.lane_modes.get(lane) == "closed") == closed:
        state = "closed already" if closed else "not closed: there is nothing to reopen"
        raise Conflict(f"lane {lane} is {state}", fix="nothing to do", code="already_done")
    gw.by_hand.set_lane_mode(lane, "closed" if closed else "normal", actor, reason)


@router.get(
    "/api/snapshots/{path:path}",
    summary="A plate snapshot image",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(path: str, who: User, app: App) -> FileResponse:
    base = app.gw.snapshots_dir.resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base) or not target.is_file():
        raise ApiError(404, "not_found", "no such snapshot", "snapshots are kept for a week")
    # Not kept after the guard signs out (a shared tablet), as the pages are not.
    return FileResponse(Path(target), headers={"Cache-Control": "private, no-store"})
