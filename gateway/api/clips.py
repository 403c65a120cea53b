"""Event clips on the guard's pages: each alarm about a barrier or door, and each opening by hand on
the audit trail, links the clips its lane's cameras cut (gateway/runtime/event_clips.py), and
/clip/<file> plays one. The file itself is served as snapshots are (/api/snapshots/...)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.deps import Db, guard_app
from gateway.api.errors import ApiError
from gateway.api.pages import page_user, render
from gateway.runtime.event_clips import described

page_router = APIRouter(include_in_schema=False)


@page_router.get("/clip/{name:path}", response_class=HTMLResponse)
def clip_page(request: Request, db: Db, name: str, back: Literal["alarms", "audit"] = "alarms") -> Response:
    """One clip, played: a page of its own, as the alarms page reloads itself every 30 s."""
    who = page_user(request, db)
    gw = guard_app(request).gw
    seen = described(name, gw.site.lanes)
    if seen is None:
        raise ApiError(404, "not_found", "no such clip", "open it from the alarms page or the audit trail")
    state = gw.clips.state(name) if gw.clips is not None else "missing"
    return render(
        request,
        db,
        who,
        "clip.html",
        "alarms",
        clip=name,
        state=state,
        event=seen.event,
        lane=gw.site.lane_names().get(seen.lane, seen.lane),
        at=seen.at,
        camera=seen.camera,
        kept_days=gw.site.config.retention.snapshots_days,
        back=back,
    )
