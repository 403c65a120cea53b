"""Event clips on the guard's pages: each alarm about a barrier or door, and each opening by hand on
the audit trail, links the clips its lane's cameras cut (gateway/runtime/event_clips.py), and
/clip/<file> plays one. The file itself is served as snapshots are (/api/snapshots/...)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.api.deps import Db, guard_app
from gateway.api.errors import ApiError
from gateway.api.pages import page_user, render
from gateway.runtime.event_clips import described

page_router = APIRouter(include_in_schema=False)
LISTS = ("/alarms", "/audit")  # the pages a clip is opened from


@page_router.get("/clip/{name:path}", response_class=HTMLResponse)
def clip_page(request: Request, db: Db, name: str, back: str = "/alarms") -> Response:
    """One clip, played: a page of its own, as the alarms page reloads itself every 30 s. `back`:
    the list it was opened from, as it was (the alarm list's Show all, the audit trail's filter and
    page): the booth's kiosk has no browser Back."""
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
        back=_list_page(back),
    )


def _list_page(back: str) -> str:
    """`back` if it is the alarm list or the audit trail of this site (with its query), else the
    alarm list: never another site's page."""
    url = urlsplit(back)
    if url.scheme or url.netloc or url.path not in LISTS:
        return LISTS[0]
    return f"{url.path}?{url.query}" if url.query else url.path
