"""Residents, vehicles, cards and slots: lookup for guards, blocking at once, changes by admins."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.auth import Admin, Principal, User
from gateway.api.deps import (
    MAX_ID,
    App,
    Db,
    End,
    GuardApp,
    Id,
    IdempotencyKey,
    KeyedWrites,
    When,
    Words,
    aware_or_none,
    local,
    made_once,
    read_only,
    write,
)
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.runtime.gateway import Gateway
from gateway.store import registry as store
from gateway.store.card_forms import register_ten_digits, typed_readings
from gateway.store.card_lists import card_given_warning
from gateway.store.csv_rows import (
    TEXT_RULES,
    ProvinceLeftOut,
    RowError,
    card_digits,
    card_value,
    hours_value,
    plate_value,
    text_value,
)
from gateway.typed import typed

log = logging.getLogger(__name__)
router = APIRouter(tags=["registry"], responses=ERRORS)
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
# Idempotency-Key -> the write that adds a vehicle, card or slot, per user (the last 500 of each).
# Sent again after an answer lost on the Wi-Fi, the addition was refused 409 as a duplicate, which
# read as if the first had failed (or was someone else's): the repeat is answered the row it added.
# A resident needs none: its ref names it, and saved again it is the same resident. A repeat whose
# row was deleted meanwhile (on another tablet) is 409 deleted_since, not "saved #id" (_kept).
_vehicles: KeyedWrites[int] = KeyedWrites("vehicle")
_cards: KeyedWrites[int] = KeyedWrites("card")
_slots: KeyedWrites[int] = KeyedWrites("slot")


class BlockIn(BaseModel):
    kind: Literal["card", "plate", "qr"]
    value: str = Field(min_length=1, max_length=64, description="Card number, plate or pass QR as typed.")
    reason: Words = Field(min_length=1, max_length=200)


class ReasonIn(BaseModel):
    reason: Words = Field(min_length=1, max_length=200)


def _text(column: str, description: str = "") -> Any:
    """A free-text field with the CSV import's limit (TEXT_RULES); _as_imported applies the whole rule."""
    required, longest = TEXT_RULES[column]
    return Field(... if required else "", max_length=longest, description=description)


def _kept_text(column: str) -> Any:
    """A resident's free-text field that every resident has (TEXT_RULES): needed for a new ref (the
    store refuses one without it, naming it), kept as stored when a change by ref leaves it out."""
    _, longest = TEXT_RULES[column]
    said = "Needed for a new resident; left out, a change by ref keeps the stored one; never null."
    return Field("", max_length=longest, description=said)


class Blocked(BaseModel):
    id: int
    kind: str
    blocked: bool
    holder: Literal["resident", "pass"]


class ResidentIn(BaseModel):
    """A field left out keeps what the store has (the admin form has no block or period fields);
    null clears it, but a null `blocked` keeps the block as it is (lifting one is an explicit false),
    and building, unit and name, which every resident has, cannot be cleared (422 naming them).
    For a new resident a left-out field means its default: not blocked, no period; building, unit
    and name it must have (422 naming those left out)."""

    ref: str = _text("ref", "The property company's own key.")
    building: str | None = _kept_text("building")
    unit: str | None = _kept_text("unit")
    room: str | None = _text("room", "null (or empty) clears it.")
    name: str | None = _kept_text("name")
    phone: str | None = Field(None, max_length=20, description="Kept masked plus a keyed hash.")
    valid_from: When | None = None
    valid_to: End | None = None
    blocked: bool | None = None


class VehicleIn(BaseModel):
    plate: str = Field(min_length=1, max_length=16)
    resident_id: RowId
    vehicle_class: Literal["car", "motorcycle", "bicycle"] = "car"
    monthly_until: End | None = None


class VehicleChange(BaseModel):
    """A field left out is kept; monthly_until null ends the monthly period now (a car parked pays
    from now on, and its next entry is a temporary one, as when a period runs out). A plate corrects
    one typed wrong: the car keeps its cards, slot, block and stay (a parked car leaves on the new
    plate). Any other field (a new owner: delete the vehicle and add it) is refused, not silently
    ignored."""

    model_config = ConfigDict(extra="forbid")

    plate: str | None = Field(
        None, min_length=1, max_length=16, description="The plate as it is on the car (one typed wrong)."
    )
    vehicle_class: Literal["car", "motorcycle", "bicycle"] | None = None
    monthly_until: End | None = Field(None, description="Paid up until (a renewal moves it on).")


class CardIn(BaseModel):
    """A card that names a car (by `vehicle_id`, or by `plate` as the admin page does) opens the
    barrier for that car; one that names none is the resident alone at a vehicle lane (README)."""

    card: str = Field(min_length=1, max_length=40)
    resident_id: RowId
    vehicle_id: RowId | None = Field(None, description="The resident's car the card opens the barrier for.")
    plate: str | None = Field(
        None, min_length=1, max_length=16, description="That car by its plate, instead of vehicle_id."
    )
    valid_from: When | None = None
    valid_to: End | None = None
    hours: list[str] = Field(default_factory=list, max_length=4)


class SlotIn(BaseModel):
    zone: str = _text("zone")
    number: str = _text("number")
    resident_id: RowId | None = None
    plates: list[str] = Field(default_factory=list, max_length=4)


class Created(BaseModel):
    id: int


class CardCreated(Created):
    # Taken, with what the readers will make of it (card_lists.card_given_warning): 10 digits only
    # at a site of hex readers, which no reader finds if they are the number printed on the card.
    warning: str | None = None


def _value(kind: str, text: str, field: str = "value", digits: int | None = None) -> str:
    """A card, plate or QR as typed, in its stored form. A refused plate is `invalid_plate`, as at
    the lane (corrections._typed), naming the request's `field`: the admin is told it is the plate
    and what a plate holds (no I or O), not the card's fix (the numbers a card is typed by)."""
    if kind == "plate":
        try:
            return plate_value(text, field)
        except ProvinceLeftOut as exc:
            raise ApiError(422, "invalid_plate", str(exc), exc.fix, fields=[field], data=exc.data) from exc
        except RowError as exc:
            fix = "type the plate as it is on the car, e.g. 豫A12345"
            raise ApiError(422, "invalid_plate", str(exc), fix, fields=[field]) from exc
    try:
        # A QR's content typed full-width (全角) is its ASCII self, as the pass check reads it.
        return card_value(text, digits) if kind == "card" else typed(text)
    except RowError as exc:
        fix = "type the 10 digits printed on the card, or its Wiegand number as facility:card (054:15694)"
        raise ApiError(422, "invalid_value", str(exc), fix) from exc


def _as_imported(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with the free-text ones as a CSV import takes them: stripped, a required one not
    blank, none too long. What the API stores, `gateway export` writes and `gateway import` takes
    back unchanged (a blank building made an export that no gateway would import)."""
    try:
        return {**fields, **{c: text_value(c, v) for c, v in fields.items() if c in TEXT_RULES}}
    except RowError as exc:
        required, longest = TEXT_RULES[exc.column]
        rule = f"{'not blank, ' if required else ''}at most {longest} characters"
        raise ApiError(
            422,
            "invalid_value",
            f"{exc.column} {exc}",
            f"type {exc.column} again: {rule}",
            fields=[exc.column],
        ) from exc


# A resident's fields that `null` clears, stored empty: the phone (its masked form and hash with
# it) and the room. Every resident has a building, a unit and a name (RESIDENT_NEEDS).
_CLEARED_EMPTY = ("phone", "room")


def _cleared(fields: dict[str, Any]) -> dict[str, Any]:
    """A resident's `fields` as sent, with a field sent as null cleared (stored ""): a change by ref
    that clears the room is `"room": null`, as docs/guard-app.md says null clears a field, and was
    refused as not a string. Building, unit or name sent null is refused, naming them: no resident
    is without them (left out, a change keeps them)."""
    kept = [c for c in store.RESIDENT_NEEDS if c in fields and fields[c] is None]
    if kept:
        raise ApiError(
            422,
            "invalid_value",
            f"{', '.join(kept)} cannot be cleared: every resident has a building, a unit and a name",
            f"send the {' and '.join(kept)} to change it, or leave {'them' if len(kept) > 1 else 'it'} "
            "out to keep what is stored",
            fields=kept,
        )
    return {**fields, **{c: "" for c in _CLEARED_EMPTY if c in fields and fields[c] is None}}


def resident_out(gw: Gateway, who: Principal, resident: dict[str, Any]) -> dict[str, Any]:
    """A resident as the caller may see them (masked for a guard), with times in the site's zone:
    the day a card or a monthly period ends there, which for an end before 08:00 in China is the
    day before in UTC, as they are stored."""
    valid = ("valid_from", "valid_to")
    shown = {
        **resident,
        **{k: local(gw, resident[k]) for k in valid},
        "credentials": [{**c, **{k: local(gw, c[k]) for k in valid}} for c in resident["credentials"]],
        "vehicles": [{**v, "monthly_until": local(gw, v["monthly_until"])} for v in resident["vehicles"]],
    }
    return shown if who.is_admin else store.masked(shown)


@router.get(
    "/api/lookup",
    summary="Find residents by plate, card, phone, name, ref or building",
    description="The first `limit` residents the query names (a whole building and unit, such as "
    "3栋2单元, in full); the `X-Total-Count` header says how many it names in all.",
)
def lookup(
    who: User,
    app: App,
    db: Db,
    response: Response,
    q: Annotated[str, Query(min_length=1, max_length=60)],
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[dict[str, Any]]:
    cfg = app.gw.site.config  # 10 digits typed read both ways where a reader gives hex
    found = store.search(db, app.gw.secrets, q, limit, register_ten_digits(cfg), typed_readings(cfg))
    response.headers["X-Total-Count"] = str(found.total)
    return [resident_out(app.gw, who, r) for r in found.residents]


def _set_blocked(
    app: GuardApp, who: Principal, credential: int | tuple[str, str], blocked: bool, reason: str
) -> Blocked:
    gw = app.gw
    if not reason.strip():
        raise ApiError(
            422,
            "reason_required",
            "say why",
            "e.g. 业主报失 (reported lost)",
            fields=["reason"],
            data={"least": 1},
        )
    unknown_vehicle = gw.site.policy.unknown_vehicle  # what an unregistered plate typed here does
    ten_digits = register_ten_digits(gw.site.config)  # a card typed is found as a reader finds it
    return Blocked(
        **write(
            gw,
            lambda c: store.set_blocked(
                c,
                gw.now(),
                who.name,
                credential,
                blocked,
                reason.strip(),
                unknown_vehicle=unknown_vehicle,
                ten_digits=ten_digits,
                readings=typed_readings(gw.site.config),
            ),
        )
    )


@router.post(
    "/api/credentials/block",
    summary="Block a card, plate or QR pass at once (audited)",
    response_model=Blocked,
)
def block(body: BlockIn, who: User, app: App) -> Blocked:
    return _set_blocked(app, who, (body.kind, _value(body.kind, body.value)), True, body.reason)


@router.post(
    "/api/credentials/unblock",
    summary="Unblock a card, plate or QR pass (admin)",
    response_model=Blocked,
)
def unblock(body: BlockIn, who: Admin, app: App) -> Blocked:
    return _set_blocked(app, who, (body.kind, _value(body.kind, body.value)), False, body.reason)


@router.post(
    "/api/credentials/{credential_id}/block",
    summary="Block a credential found by lookup (audited)",
    response_model=Blocked,
)
def block_id(credential_id: Id, body: ReasonIn, who: User, app: App) -> Blocked:
    return _set_blocked(app, who, credential_id, True, body.reason)


@router.post(
    "/api/credentials/{credential_id}/unblock",
    summary="Unblock a credential (admin)",
    response_model=Blocked,
)
def unblock_id(credential_id: Id, body: ReasonIn, who: Admin, app: App) -> Blocked:
    return _set_blocked(app, who, credential_id, False, body.reason)


@router.get("/api/residents/{resident_id}", summary="One resident with vehicles, cards and slots")
def resident(resident_id: Id, who: User, app: App, db: Db) -> dict[str, Any]:
    return resident_out(app.gw, who, store.resident_detail(db, resident_id))


@router.post(
    "/api/residents",
    summary="Add a resident, or change the one with this ref (admin)",
    response_model=Created,
)
def upsert_resident(body: ResidentIn, who: Admin, app: App) -> Created:
    gw = app.gw
    # Only what the request names is changed; the store refuses a period that, merged with the
    # stored one, ends before it begins.
    data = _as_imported(_cleared(body.model_dump(exclude_unset=True)))
    data.update({k: aware_or_none(gw, data[k]) for k in ("valid_from", "valid_to") if k in data})
    if data.get("blocked") is None:
        data.pop("blocked", None)
    rid = write(gw, lambda c: store.upsert_resident(c, gw.secrets, gw.now(), who.name, data))
    return Created(id=rid)


@router.delete(
    "/api/residents/{resident_id}",
    summary="Remove a resident with their cards and vehicles (admin)",
    status_code=204,
)
def delete_resident(resident_id: Id, who: Admin, app: App) -> None:
    gw = app.gw
    write(gw, lambda c: store.delete_resident(c, gw.now(), who.name, resident_id))


@router.post(
    "/api/vehicles",
    summary="Register a resident's vehicle and its plate (admin)",
    response_model=Created,
)
def add_vehicle(body: VehicleIn, who: Admin, app: App, idempotency_key: IdempotencyKey = None) -> Created:
    gw, plate = app.gw, _value("plate", body.plate, "plate")
    monthly = aware_or_none(gw, body.monthly_until)
    vid, again = made_once(
        _vehicles,
        who.name,
        idempotency_key,
        body.model_dump_json(),
        lambda: gw.on_worker(
            lambda c: store.add_vehicle(
                c, gw.now(), who.name, plate, body.resident_id, body.vehicle_class, monthly
            )
        ),
    )
    if again:  # a plate corrected since is the same vehicle; its owner is never changed
        where = "vehicles WHERE id = ? AND resident_id = ?"
        _kept(gw, _vehicles, who, idempotency_key, "vehicle", vid, where, body.resident_id)
    return Created(id=vid)


@router.patch(
    "/api/vehicles/{vehicle_id}",
    summary="Change a vehicle's class, renew its monthly period or correct its plate (admin)",
    status_code=204,
)
def update_vehicle(vehicle_id: Id, body: VehicleChange, who: Admin, app: App) -> None:
    gw = app.gw
    changes: dict[str, Any] = {}
    if body.plate is not None:
        changes["plate"] = _value("plate", body.plate, "plate")
    if body.vehicle_class is not None:
        changes["class"] = body.vehicle_class
    if "monthly_until" in body.model_fields_set:
        changes["monthly_until"] = aware_or_none(gw, body.monthly_until)
    if not changes:  # else an empty change audited and sent upstream, and a 204 that did nothing
        fix = (
            'send "plate" (as it is on the car), "vehicle_class" or "monthly_until" '
            "(a day; null ends the monthly period now)"
        )
        raise ApiError(422, "nothing_to_change", "nothing to change", fix)
    write(gw, lambda c: store.update_vehicle(c, gw.now(), who.name, vehicle_id, changes))


@router.delete(
    "/api/vehicles/{vehicle_id}", summary="Remove a vehicle and its plate (admin)", status_code=204
)
def delete_vehicle(vehicle_id: Id, who: Admin, app: App) -> None:
    gw = app.gw
    write(gw, lambda c: store.delete_vehicle(c, gw.now(), who.name, vehicle_id))


def _car_of(db: sqlite3.Connection, body: CardIn) -> int | None:
    """The vehicle a card is for: `vehicle_id`, or the resident's car with `plate` (an admin knows
    the plate, not the database id). store.add_card checks the car is the resident's again as it
    adds the card, so a car removed meanwhile is refused there."""
    if body.plate is None:
        return body.vehicle_id
    if body.vehicle_id is not None:
        fix = "send vehicle_id or plate, not both"
        raise ApiError(422, "invalid_request", "the card's car is given twice", fix)
    plate = _value("plate", body.plate, "plate")
    for vehicle in store.resident_detail(db, body.resident_id)["vehicles"]:
        if vehicle["plate"] == plate:
            return int(vehicle["id"])
    raise ApiError(
        422,
        "not_their_vehicle",
        f"resident {body.resident_id} has no vehicle {plate}",
        "type the plate of one of this resident's cars (lookup lists them), or add the vehicle first",
        fields=["plate"],
    )


@router.post("/api/cards", summary="Give a resident a card (admin)", response_model=CardCreated)
def add_card(
    body: CardIn, who: Admin, app: App, db: Db, idempotency_key: IdempotencyKey = None
) -> CardCreated:
    # A card given must be one the readers can give (a card blocked by number is just looked up).
    gw, card = app.gw, _value("card", body.card, digits=card_digits(app.gw.site.config))
    car = _car_of(db, body)
    try:
        hours = hours_value(body.hours)
    except RowError as exc:
        raise ApiError(422, "invalid_hours", str(exc), "write hours as HH:MM-HH:MM") from exc
    start, end = aware_or_none(gw, body.valid_from), aware_or_none(gw, body.valid_to)
    ten_digits = register_ten_digits(gw.site.config)  # the card in another form is found as a reader finds it
    cid, again = made_once(
        _cards,
        who.name,
        idempotency_key,
        body.model_dump_json(),
        lambda: gw.on_worker(
            lambda c: store.add_card(
                c, gw.now(), who.name, card, body.resident_id, car, start, end, hours, ten_digits
            )
        ),
    )
    if again:  # the same number given since to another resident, or for another car, is not it
        where = (
            "credentials WHERE id = ? AND kind = 'card' AND value = ? "
            "AND resident_id IS ? AND vehicle_id IS ?"
        )
        _kept(gw, _cards, who, idempotency_key, "card", cid, where, card, body.resident_id, car)
    return CardCreated(id=cid, warning=card_given_warning(gw.site.config, card))


@router.delete(
    "/api/credentials/{credential_id}",
    summary="Remove a card or pass credential (admin)",
    status_code=204,
)
def delete_credential(credential_id: Id, who: Admin, app: App) -> None:
    gw = app.gw
    write(gw, lambda c: store.delete_credential(c, gw.now(), who.name, credential_id))


@router.post(
    "/api/slots",
    summary="Add a fixed slot with its owner and cars, or give one with no owner to a resident (admin)",
    response_model=Created,
)
def add_slot(body: SlotIn, who: Admin, app: App, idempotency_key: IdempotencyKey = None) -> Created:
    gw = app.gw
    slot = _as_imported({"zone": body.zone, "number": body.number})
    zones = [z.id for z in gw.site.config.zones]
    if slot["zone"] not in zones:
        raise ApiError(422, "unknown_zone", f"no zone {body.zone!r}", f"use one of {zones}")
    plates = [_value("plate", p, "plates") for p in body.plates]
    sid, again = made_once(
        _slots,
        who.name,
        idempotency_key,
        body.model_dump_json(),
        lambda: gw.on_worker(
            lambda c: store.add_slot(
                c, gw.now(), who.name, slot["zone"], slot["number"], body.resident_id, plates
            )
        ),
    )
    if again:  # the same slot added since for another resident (or for nobody) is not it
        where = "slots WHERE id = ? AND zone = ? AND number = ? AND resident_id IS ?"
        named = (slot["zone"], slot["number"], body.resident_id)
        _kept(gw, _slots, who, idempotency_key, "slot", sid, where, *named)
    return Created(id=sid)


def _kept(
    gw: Gateway,
    writes: KeyedWrites[int],
    who: Principal,
    key: str | None,
    what: str,
    made: int,
    where: str,
    *args: object,
) -> None:
    """Whether a repeat's row (`made`) is there still, read on a connection of its own, as a repeated
    pass is (passes._as_it_stands); `where` finds it by the values that name it too, and by whose it
    is (the resident, a card's car, that the form named), as SQLite gives the id of the last row
    deleted to the next one added: the same card number or slot given since to 王芳 was answered
    "已保存 #id" to 张三丰's form. Deleted since, the repeat was answered
    "已保存 #id" for a card no reader knows: it is 409 deleted_since, and its key names nothing, so
    that the form sent again adds it anew. Not read (another process holds the file locked), it is
    answered as made."""
    try:
        with closing(read_only(gw)) as db:
            there = db.execute(f"SELECT 1 FROM {where}", (made, *args)).fetchone() is not None
    except sqlite3.Error as exc:
        log.warning("%s %s made earlier answered as made: it could not be read again: %s", what, made, exc)
        return
    if there:
        return
    if key:
        writes.forget(who.name, key)
    raise ApiError(
        409,
        "deleted_since",
        f"the {what} this form added (#{made}) was deleted after it was made",
        "send the form again to add it as a new one",
    )


@router.delete("/api/slots/{slot_id}", summary="Remove a slot (admin)", status_code=204)
def delete_slot(slot_id: Id, who: Admin, app: App) -> None:
    gw = app.gw
    write(gw, lambda c: store.delete_slot(c, gw.now(), who.name, slot_id))
