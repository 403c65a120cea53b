"""Plates a guard types: a correction of a plate the lane misread, and a plate the camera did not
read, which the lane then decides as if it had been read (both audited)."""

from __future__ import annotations

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import App, saved, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.api.views import from_event, holder_shape
from gateway.core import TYPED_BY, Presented
from gateway.core.model import VehicleClass
from gateway.store.audit import audit
from gateway.store.corrections import Correction, correct_plate
from gateway.store.csv_rows import RowError, plate_value

router = APIRouter(tags=["lanes"], responses=ERRORS)
EventId = Annotated[str, Path(min_length=1, max_length=64)]


class PlateIn(BaseModel):
    plate: str = Field(min_length=1, max_length=16, description="The plate as it is on the car.")


class TypedPlateIn(PlateIn):
    vehicle_class: VehicleClass | None = Field(
        None,
        description="What the guard sees: an unregistered vehicle is counted and billed as this, not "
        "as the lane's class (a registered one keeps its own).",
    )


class CorrectionDone(BaseModel):
    event_id: str
    lane: str
    read: str = Field(description="What the lane read.")
    previous: str = Field(
        description="The plate before this correction (the reading, or an earlier correction)."
    )
    plate: str
    by: str
    at: str
    holder: dict[str, Any] | None = Field(
        description="Who the corrected plate is registered to (name masked); null when nobody."
    )
    stay_moved: bool = Field(
        description="A temporary car's stay, opened under the misread plate, now stands under this one."
    )


@router.post(
    "/api/events/{event_id}/plate",
    summary="Correct a misread plate: the plate the car carries (audited; a temporary car's stay follows)",
    response_model=CorrectionDone,
)
def correct(event_id: EventId, body: PlateIn, who: User, app: App) -> CorrectionDone:
    plate = _typed(body.plate)
    gw = app.gw
    at = gw.now()
    done: Correction = write(gw, lambda conn: correct_plate(conn, event_id, plate, who.name, at))
    out = CorrectionDone(
        event_id=done.event_id,
        lane=done.lane,
        read=done.read,
        previous=done.previous,
        plate=done.plate,
        by=who.name,
        at=at.astimezone(gw.site.tz).isoformat(timespec="seconds"),
        holder=holder_shape(done.holder),
        stay_moved=done.stay_moved,
    )
    app.hub.publish("correction", out.model_dump())
    return out


@router.post(
    "/api/lanes/{lane}/plate",
    summary="A plate the camera did not read, typed by the guard: the lane decides it as a read one "
    "(audited; it opens only if the car may come in or go out)",
)
def type_plate(lane: str, body: TypedPlateIn, who: User, app: App) -> dict[str, Any]:
    gw = app.gw
    rules = gw.site.lanes.get(lane)
    if rules is None:
        raise ApiError(404, "unknown_lane", f"no lane {lane!r}", f"use one of {sorted(gw.site.lanes)}")
    if rules.type != "vehicle":
        raise ApiError(422, "not_a_vehicle_lane", f"{lane} is a lane for people", "type plates at a car lane")
    plate = _typed(body.plate)
    at = gw.now()

    def prepare(conn: sqlite3.Connection) -> Presented:
        # Committed with the decision: who typed which plate is on disk before any barrier moves.
        said = f" ({body.vehicle_class})" if body.vehicle_class else ""
        audit(conn, at, who.name, "lane.plate", lane, f"typed {plate}{said}")
        by = f"{TYPED_BY}{who.name}"
        return Presented(lane, "plate", plate, 1.0, at, by, vehicle_class=body.vehicle_class)

    return from_event(gw, saved(gw.decide_after(prepare)))


def _typed(text: str) -> str:
    try:
        return plate_value(text, "plate")
    except RowError as exc:
        fix = "type the plate as it is on the car, e.g. 豫A12345"
        raise ApiError(422, "invalid_plate", str(exc), fix) from exc
