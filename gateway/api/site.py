"""Occupancy by zone and vehicle class, alarms with acknowledge, and the audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import App, Db, Id, local, write
from gateway.api.shapes import ERRORS
from gateway.runtime.alarm_acks import acknowledging
from gateway.runtime.event_clips import alarm_clips, opening_clips
from gateway.store.alarms import recent_alarms
from gateway.store.audit import recent_audit
from gateway.store.occupancy import occupancy, people_inside

router = APIRouter(tags=["site"], responses=ERRORS)


class Ack(BaseModel):
    note: str = Field("", max_length=200, description="What the guard did about it.")


@router.get("/api/occupancy", summary="Vehicles inside by zone and class; people inside")
def get_occupancy(who: User, app: App, db: Db) -> dict[str, Any]:
    cfg = app.gw.site.config
    names = {z.id: z.name for z in cfg.zones}
    # A car let out whose barrier has not confirmed yet is counted inside, as the entrance counts it.
    zones = occupancy(db, app.gw.site.capacity, names, app.gw.stays_leaving)
    return {"zones": zones, "people_inside": people_inside(db)}


@router.get(
    "/api/alarms",
    summary="Open alarms (or all recent ones), newest first",
    description="`message` is in the caller's language (a token: the site's), `?lang=` overrides it; "
    "`text` is the message's key and parameters.",
)
def get_alarms(
    who: User,
    app: App,
    db: Db,
    all: bool = False,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=500,
            description="With `all`, how many closed alarms at most; every open alarm is listed whatever "
            "the limit.",
        ),
    ] = 200,
    lang: Literal["zh", "en"] | None = None,
) -> list[dict[str, Any]]:
    names = app.gw.site.lane_names()
    rows = recent_alarms(db, all, closed_limit=limit, language=lang or who.language, lane_names=names)
    for row in rows:
        row["clips"] = alarm_clips(app.gw.clips, db, row)
        for key in ("raised_at", "cleared_at", "acknowledged_at"):
            row[key] = local(app.gw, row[key])  # type: ignore[arg-type]
    return rows


@router.post("/api/alarms/{alarm_id}/acknowledge", summary="Acknowledge an alarm (audited)")
def acknowledge(alarm_id: Id, body: Ack, who: User, app: App) -> dict[str, Any]:
    # The centre's acknowledge_alarm command does the same (sync/commands.py).
    done = write(app.gw, acknowledging(app.gw, alarm_id, who.name, body.note))
    app.hub.publish("alarms", {"changed": alarm_id})
    return done


@router.get("/api/audit", summary="Who changed what and when, newest first")
def get_audit(
    who: User,
    app: App,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    target: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    rows = recent_audit(db, limit, actor, action, target)
    for row in rows:
        row["clips"] = opening_clips(app.gw.clips, db, row)
        row["at"] = local(app.gw, row["at"])
    return rows
