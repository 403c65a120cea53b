"""Correcting a plate the lane misread: the guard types the plate on the car (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import App, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.api.views import holder_shape
from gateway.store.corrections import Correction, correct_plate
from gateway.store.csv_rows import RowError, plate_value

router = APIRouter(tags=["lanes"], responses=ERRORS)
EventId = Annotated[str, Path(min_length=1, max_length=64)]


class PlateIn(BaseModel):
    plate: str = Field(min_length=1, max_length=16, description="The plate as it is on the car.")


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
    try:
        plate = plate_value(body.plate, "plate")
    except RowError as exc:
        fix = "type the plate as it is on the car, e.g. 豫A12345"
        raise ApiError(422, "invalid_plate", str(exc), fix) from exc
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
