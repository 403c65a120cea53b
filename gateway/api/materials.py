"""Materials leaving the estate (物品放行): the guard records them, the owner is told upstream."""

from __future__ import annotations

import sqlite3
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import MAX_ID, App, Db, IdempotencyKey, KeyedWrites, local, made_once
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.runtime.gateway import Gateway
from gateway.store import materials as store
from gateway.store.csv_rows import ProvinceLeftOut, RowError, plate_value

router = APIRouter(tags=["visitors"], responses=ERRORS)
# Idempotency-Key -> the write that records materials leaving, per user (the last 500).
_recorded: KeyedWrites[dict[str, object]] = KeyedWrites("record of materials")


class MaterialsIn(BaseModel):
    items: str = Field(
        min_length=1,
        max_length=500,
        description="What is carried out, e.g. 旧橱柜 1 套; a phone or ID number in it is kept masked.",
    )
    pass_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The contractor's or visitor's pass; its unit if it has one."
    )
    host_building: str = Field("", max_length=20, description="No pass or unit on it: the owner's building.")
    host_unit: str = Field(
        "", max_length=20, description="No pass or unit on it: the owner's unit, the room after it if typed."
    )
    host_room: str = Field(
        "",
        max_length=20,
        description="The owner's flat (1201) in that unit: the pass's own, if it names one, when left out.",
    )
    plate: str = Field("", max_length=16, description="The vehicle it leaves in, if any.")


class MaterialsOut(BaseModel):
    id: int
    pass_id: int | None
    pass_ref: str | None = Field(
        description="The centre's own ref of the pass, one it sent down; null for one registered here."
    )
    pass_kind: str | None
    name: str | None = Field(description="The pass holder, masked.")
    company: str | None
    host_building: str
    host_unit: str
    host_room: str = Field(
        description="The flat in that unit, as the register writes it; empty if not named."
    )
    items: str
    plate: str | None
    at: str = Field(description="Local time, ISO 8601 with its offset.")
    actor: str


def materials_view(gw: Gateway, row: dict[str, object]) -> MaterialsOut:
    return MaterialsOut(**{**row, "at": local(gw, str(row["at"]))})


@router.post(
    "/api/materials",
    summary="Record materials carried out of the estate; the owner of the unit is told upstream",
    status_code=201,
    response_model=MaterialsOut,
)
def materials_out(
    body: MaterialsIn, who: User, app: App, db: Db, idempotency_key: IdempotencyKey = None
) -> MaterialsOut:
    plate = None
    if body.plate.strip():
        try:
            plate = plate_value(body.plate)
        except ProvinceLeftOut as exc:
            # The pass's own army plate as stored (ED12345), as a pass page drawn before pages
            # wrote it ED-12345 filled it in (Review 67 J3), is that car's: typed fresh, ED12345 is
            # a green plate without its province.
            if not _pass_plate(db, body.pass_id, exc.plate):
                fix = "type the plate as on the car, e.g. 皖A12345"
                raise ApiError(422, "invalid_plate", f"plate: {exc}", fix, data=exc.data) from exc
            plate = exc.plate
        except RowError as exc:
            fix = "type the plate as on the car, e.g. 皖A12345"
            raise ApiError(422, "invalid_plate", f"plate: {exc}", fix, data=exc.data) from exc
    gw = app.gw
    # Sent again after a lost answer, the materials were recorded twice and the owner told twice:
    # the repeat is answered the record already made.
    row, _ = made_once(
        _recorded,
        who.name,
        idempotency_key,
        body.model_dump_json(),
        lambda: gw.on_worker(
            lambda c: store.record_materials_out(
                c,
                gw.now(),
                who.name,
                items=body.items,
                pass_id=body.pass_id,
                host_building=body.host_building.strip(),
                host_unit=body.host_unit.strip(),
                host_room=body.host_room.strip(),
                plate=plate,
            )
        ),
    )
    return materials_view(gw, row)


def _pass_plate(db: sqlite3.Connection, pass_id: int | None, plate: str) -> bool:
    """Whether pass `pass_id` is for the car of `plate` as stored."""
    if pass_id is None:
        return False
    row = db.execute("SELECT plate FROM passes WHERE id = ?", (pass_id,)).fetchone()
    return row is not None and row[0] == plate


@router.get(
    "/api/materials", summary="Materials carried out, newest first", response_model=list[MaterialsOut]
)
def list_materials(
    who: User,
    app: App,
    db: Db,
    pass_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[MaterialsOut]:
    return [materials_view(app.gw, r) for r in store.list_materials(db, pass_id=pass_id, limit=limit)]
