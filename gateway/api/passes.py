"""Visitor registration and contractor passes: create, list, check by QR, check out, find again."""

from __future__ import annotations

import logging
import re
import sqlite3
from concurrent.futures import Future
from contextlib import closing
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import Response as RawResponse
from pydantic import BaseModel, Field

from gateway.api.auth import Admin, Principal, User
from gateway.api.deps import (
    App,
    Db,
    End,
    GuardApp,
    Id,
    IdempotencyKey,
    KeyedWrites,
    When,
    Words,
    aware,
    local,
    made_once,
    read_only,
    write,
)
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.core.windows import (
    DIFFERENT_END_OR_EMPTY,
    Validity,
    Window,
    asked_of_each_occupant,
    first_open,
    hours_text,
    stored_windows,
)
from gateway.privacy import IdKind, id_number_problem, mask_name, normalize_number
from gateway.runtime.gateway import Gateway
from gateway.store import passes as store
from gateway.store.csv_rows import RowError, plate_value
from gateway.timefmt import from_db, later, to_db
from gateway.typed import AS_HYPHEN, typed, typed_text
from gateway.web.qr import qr_svg
from plates.grammar import as_written

log = logging.getLogger(__name__)
router = APIRouter(tags=["visitors"], responses=ERRORS)
# Idempotency-Key -> the write that makes its pass, per user (the last 500 of each kind).
_made: KeyedWrites[dict[str, Any]] = KeyedWrites("registration")
_issued: KeyedWrites[dict[str, Any]] = KeyedWrites("contractor pass")
# A problem's field: "phone: ...", "occupants: ...", or a person's in the vehicle, "occupants[2]
# (occupant 3) id_number: ...", named occupants.2.id_number for the page to name his row and input.
_FIELD = re.compile(r"(?P<field>[a-z_]+)(?:\[(?P<row>\d+)\] \([^)]*\) (?P<own>[a-z_]+))?")
# A phone number as typed or copied from a contact card: its digits in groups with spaces, dashes or
# dots between, its country code with + or in brackets: 138 1234 5678, 138.1234.5678, 139·1234·5678,
# (+86)139 1234 5678, +852 9123 4567 (hashed and masked by its digits, privacy.normalize_phone).
_PHONE = re.compile(r"\(?\+?[0-9][0-9 .·()-]*")
_PHONE_DIGITS = range(7, 21)
_PHONE_FORM = (
    "is not a phone number: type its 7 to 20 digits, in groups if you like, with +, spaces, dashes, dots "
    "or brackets between them (138 0013 8000, (+86)138 0013 8000, +852 6000 0000), and nothing else "
    "(the value is not repeated here)"
)
# Longer than any phone typed in its groups, so one typed with its extension or a word after it
# (0571-8765 4321 转 8001) is refused by _PHONE_FORM, naming the field, not as a request of the wrong shape.
PHONE_TYPED = 40
# An ID number as typed: an ID card's read out or copied in groups (110105 1949 1231 002X, 21
# characters) is taken, its spaces and dashes left out when it is checked, hashed and masked.
ID_NUMBER_TYPED = 30
_ID_NUMBER_DESCRIPTION = (
    "Stored masked plus a keyed hash only, as its letters and digits: spaces and dashes typed "
    "between its groups are left out."
)


VehicleClass = Literal["car", "motorcycle", "bicycle"]
MAX_OCCUPANTS = 60
_ID_KIND_IN = (
    "The document the ID number is from: resident_id (居民身份证, 18 characters with a check character), "
    "passport (护照, 5-17 letters and digits), hk_macau_permit (港澳居民来往内地通行证, H or M and 8 or 10 "
    "digits), taiwan_permit (台湾居民来往大陆通行证, 8 digits), foreign_permanent (外国人永久居留身份证, 3 "
    "letters and 12 digits, or 18 characters beginning with 9). Hashed with the number."
)
_ID_KIND_OUT = "The document the ID number is from; empty without an ID number."


class OccupantIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field("", max_length=PHONE_TYPED, description="Stored masked plus a keyed hash only.")
    id_number: str = Field("", max_length=ID_NUMBER_TYPED, description=_ID_NUMBER_DESCRIPTION)
    id_kind: IdKind = Field("resident_id", description=_ID_KIND_IN)


class OccupantOut(BaseModel):
    name: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    id_number: str = Field(description="Masked.")
    id_kind: IdKind | Literal[""] = Field(description=_ID_KIND_OUT)


class VisitorIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field("", max_length=PHONE_TYPED, description="Stored masked plus a keyed hash only.")
    id_number: str = Field("", max_length=ID_NUMBER_TYPED, description=_ID_NUMBER_DESCRIPTION)
    id_kind: IdKind = Field("resident_id", description=_ID_KIND_IN)
    host_building: str = Field("", max_length=20)
    host_unit: str = Field("", max_length=20)
    destination: Words = Field("", max_length=60)
    reason: Words = Field("", max_length=100)
    passengers: int | None = Field(
        None, ge=1, le=60, description="People, driver included; with occupants, their number."
    )
    plate: str = Field("", max_length=16, description="When driving: admitted for the pass's window.")
    vehicle_class: VehicleClass = Field(
        "car", description="The vehicle's class: counted and billed as one (with a plate only)."
    )
    occupants: list[OccupantIn] = Field(
        default_factory=list,
        max_length=MAX_OCCUPANTS,
        description="With a plate: the driver first, then everyone else in the vehicle (the visitor "
        "too, when in it).",
    )
    valid_from: When | None = Field(None, description="Default now; local time if no zone.")
    valid_to: End | None = Field(
        None,
        description="Default: valid_from plus the site's visitor hours; a bare date includes that whole day.",
    )


class ContractorIn(VisitorIn):
    company: Words = Field("", max_length=60)
    valid_from: When | None = Field(None, description="Default now; local time if no zone.")
    valid_to: End = Field(description="End of the work; a bare date includes that whole day.")  # type: ignore[assignment]
    hours: list[str] = Field(
        default_factory=list,
        max_length=4,
        description="Daily HH:MM-HH:MM windows, e.g. 08:00-18:00; none: any time.",
    )


class ExtendIn(BaseModel):
    valid_to: End = Field(
        description="The pass's new end, after its present one; a bare date includes that whole day."
    )


class PassOut(BaseModel):
    id: int
    kind: Literal["visitor", "contractor"]
    name: str = Field(description="Masked.")
    phone: str = Field(description="Masked.")
    id_number: str = Field(description="Masked.")
    id_kind: IdKind | Literal[""] = Field(description=_ID_KIND_OUT)
    host_building: str
    host_unit: str
    company: str
    destination: str
    reason: str
    passengers: int
    occupants: list[OccupantOut] = Field(description="The driver first; numbers masked.")
    plate: str | None
    vehicle_class: VehicleClass
    valid_from: str | None
    valid_to: str | None
    hours: list[str]
    registered_fields: list[str]
    created_at: str | None
    created_by: str
    checked_out_at: str | None
    state: Literal[
        "active",
        "outside_hours",
        "upcoming",
        "expired",
        "checked_out",
        "blocked",
        "vehicle_blocked",
        "closed_management",
    ] = Field(
        description="As the door decides the pass's QR now; vehicle_blocked: the door lets its visitor "
        "in while its car is refused at the car lanes (on foot only)."
    )
    vehicle_blocked: bool = Field(
        description="Its plate is blocked: the car lanes refuse its car, on its plate and its QR. "
        "Shown whatever the state, which says vehicle_blocked only where the pass is otherwise valid "
        "(an expired pass whose car is blocked is expired, with this true)."
    )
    qr: str | None = Field(None, description="The QR token; only on the pass itself.")
    inside: int | None = Field(
        description="How many people on the pass are recorded inside on foot now (a party walks in one "
        "by one on its QR); null where the site has no exit on foot, so nobody is seen leaving. A car "
        "inside on the pass is a stay (the occupancy page), not counted here."
    )
    overstaying: bool = Field(
        description="Its window has ended (state expired, or blocked since) while someone on it is still "
        "inside, the pass not checked out: listed first, for the guard to find them."
    )


class Rules(BaseModel):
    required: list[str] = Field(
        description="Fields closed management asks for, for the window asked about (by default a pass "
        "starting now)."
    )
    closed_now: bool
    default_hours: float


class TokenIn(BaseModel):
    token: str = Field(min_length=4, max_length=100)


class FindIn(BaseModel):
    phone: str = Field("", max_length=PHONE_TYPED)
    id_number: str = Field("", max_length=ID_NUMBER_TYPED)
    id_kind: IdKind = Field("resident_id", description="A pass is found by an ID number of this kind only.")


class Returning(BaseModel):
    found: bool
    name: str = Field("", description="Masked for guards (李*), as everywhere else; whole for admins.")
    name_masked: bool = Field(False, description="The page then asks the guard to type the name.")
    host_building: str = ""
    host_unit: str = ""
    destination: str = ""
    plate: str | None = Field(
        None,
        description="The last visit's plate, to fill in the form with: as a guard types it, an army "
        "plate with its separator (ED-12345; typed ED12345 is a green plate without its province).",
    )
    vehicle_class: VehicleClass | None = Field(
        None, description="The class of the last visit's plate, to fill in with it; null without a plate."
    )
    last_visit: str | None = None
    visits_masked_phone: str = ""


def seen_leaving(gw: Gateway) -> bool:
    """Whether the site has an exit on foot: elsewhere nobody is seen leaving, and everyone who walked
    in stays recorded inside (store/passes.py list_passes)."""
    return any(lane.type == "pedestrian" and lane.direction == "exit" for lane in gw.site.lanes.values())


def pass_out(gw: Gateway, row: dict[str, Any], with_qr: bool = False) -> PassOut:
    now = gw.now()
    known = seen_leaving(gw)
    return PassOut(
        id=row["id"],
        kind=row["kind"],
        name=mask_name(row["name"]),
        phone=row["phone_masked"],
        id_number=row["id_masked"],
        id_kind=store.id_kind_of(row),
        host_building=row["host_building"],
        host_unit=row["host_unit"],
        company=row["company"],
        destination=row["destination"],
        reason=row["reason"],
        passengers=row["passengers"],
        occupants=[
            OccupantOut(
                name=mask_name(o["name"]),
                phone=o["phone_masked"],
                id_number=o["id_masked"],
                id_kind=store.id_kind_of(o),
            )
            for o in row["occupants"]
        ],
        plate=row["plate"],
        vehicle_class=row["vehicle_class"],
        valid_from=local(gw, row["valid_from"]),
        valid_to=local(gw, row["valid_to"]),
        hours=[h for h in row["hours"].split(",") if h],
        registered_fields=[f for f in row["registered_fields"].split(",") if f],
        created_at=local(gw, row["created_at"]),
        created_by=row["created_by"],
        checked_out_at=local(gw, row["checked_out_at"]),
        state=store.state_of(row, now, gw.site.policy.closed_period(now)),  # type: ignore[arg-type]
        vehicle_blocked=bool(row["vehicle_blocked"]),
        qr=row["qr"] if with_qr else None,
        inside=row["inside"] if known else None,
        overstaying=known and store.overstaying(row, now),
    )


def pass_window(
    gw: Gateway, valid_from: datetime | None, valid_to: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The window a visitor pass gets from what was typed: from now when no start is given, and
    `visitors.default_hours` long when no end is (a time without a zone is the site's)."""
    start = aware(gw, valid_from) if valid_from else now
    hours = timedelta(hours=gw.site.config.visitors.default_hours)
    return start, aware(gw, valid_to) if valid_to else later(start, hours)


def visitor_rules_for(gw: Gateway, window: tuple[datetime, datetime], now: datetime) -> Rules:
    """What registering a visitor for `window` needs: the visitor page marks it, the POST checks it."""
    return Rules(
        required=sorted(required_fields(gw, *window)),
        closed_now=gw.site.policy.closed_period(now) is not None,
        default_hours=gw.site.config.visitors.default_hours,
    )


def required_fields(gw: Gateway, start: datetime, end: datetime) -> set[str]:
    """What the closed-management periods with hours within the pass's window ask visitors for: a
    visit after the day's closed hours are over is let in as usual, so it is registered as usual."""
    start = start.astimezone(gw.site.tz)
    needed: set[str] = set()
    for period in gw.site.policy.closed_periods:
        if period.overlaps(start, end):  # as the gate counts it: overnight hours run past midnight
            needed |= set(period.visitor_fields)
    return needed


def _number_problems(phone: str, id_number: str, id_kind: IdKind, whose: str) -> list[str]:
    """What is wrong with a person's phone and ID number (of a document of `id_kind`), each named
    after `whose`."""
    problems = []
    if phone and not (
        _PHONE.fullmatch(phone.translate(AS_HYPHEN)) and len(normalize_number(phone)) in _PHONE_DIGITS
    ):
        problems.append(f"{whose}phone: {_PHONE_FORM}")
    if id_number and (problem := id_number_problem(id_number, id_kind)):
        problems.append(f"{whose}id_number: {problem}")
    return problems


def _id_kinds(body: VisitorIn, fields: list[str]) -> dict[str, str]:
    """The document kind of each ID number among `fields` (the page says what that kind's number
    looks like: a passport's, not an ID card's 18 characters)."""
    kinds = {"id_number": body.id_kind}
    kinds |= {f"occupants.{i}.id_number": o.id_kind for i, o in enumerate(body.occupants)}
    return {f: kinds[f] for f in fields if f in kinds}


def _new_pass(
    gw: Gateway,
    kind: Literal["visitor", "contractor"],
    body: VisitorIn,
    now: datetime,
    hours: tuple[str, ...] = (),
    company: str = "",
) -> store.NewPass:
    # As the guard meant them: a phone or ID number typed full-width (１３８…) is checked and hashed
    # as its digits (typed); a name pasted with a zero-width space is stored without it, but with
    # its Chinese brackets (typed_text: 王芳（租户） as the guard wrote her).
    phone, id_number = typed(body.phone), typed(body.id_number)
    problems = _number_problems(phone, id_number, body.id_kind, "")
    if not typed_text(body.name):  # spaces, or only the invisible character a paste carried
        problems.append("name: is empty")
    plate = None
    plate_words: dict[str, str] = {}  # a refusal's words (ProvinceLeftOut.data), as the lane's
    if body.plate.strip():
        try:
            plate = plate_value(body.plate)
        except RowError as exc:
            problems.append(f"plate: {exc}")
            plate_words = exc.data or {}
    occupants = _occupants(body, plate, problems)
    passengers = body.passengers
    if occupants and passengers is None:
        passengers = len(occupants)
    elif occupants and passengers != len(occupants):
        problems.append(
            f"passengers: {passengers} people, but occupants lists {len(occupants)}; "
            "list everyone in the vehicle, or leave passengers empty"
        )
    if body.vehicle_class != "car" and plate is None:
        problems.append("vehicle_class: give the vehicle's plate too (a visitor on foot has no vehicle)")
    for h in hours:
        try:
            Window.parse(h, fix=DIFFERENT_END_OR_EMPTY)
        except ValueError as exc:
            problems.append(f"hours: {exc}")
    hours = tuple(hours_text(h) for h in hours)  # stored as parsed: 08：00-18：00 is 08:00-18:00
    start, end = pass_window(gw, body.valid_from, body.valid_to, now)
    limits = gw.site.config.visitors
    longest = limits.visitor_max_days if kind == "visitor" else limits.contractor_max_days
    if end <= start:
        problems.append("valid_to: must be after valid_from")
    elif end - start > timedelta(days=longest):
        problems.append(f"valid_to: a {kind} pass lasts at most {longest} days")
    elif end <= now:
        problems.append("valid_to: is in the past")
    if problems:
        fields = _fields_of(problems)
        # The page words each field named (app.js errorText): a green plate typed without its
        # province (ED12345) as the lane does, err.invalid_plate.data, filled with `plate` and `army`.
        data = plate_words | ({"id_kinds": kinds} if (kinds := _id_kinds(body, fields)) else {})
        raise ApiError(
            422,
            "invalid_pass",
            "; ".join(problems),
            "correct the fields named",
            fields=fields,
            data=data or None,
        )
    new = store.NewPass(
        kind=kind,
        name=typed_text(body.name),
        valid_from=start,
        valid_to=end,
        phone=phone,
        id_number=id_number,
        id_kind=body.id_kind,
        host_building=body.host_building.strip(),
        host_unit=body.host_unit.strip(),
        company=typed_text(company),
        destination=body.destination.strip(),
        reason=body.reason.strip(),
        passengers=passengers,
        plate=plate,
        hours=hours,
        vehicle_class=body.vehicle_class,
        occupants=occupants,
    )
    if kind == "contractor":
        _opens_some_time(gw, Validity(start, end, tuple(Window.parse(h) for h in hours)), now)
    if kind == "visitor":
        required = required_fields(gw, start, end)
        missing = sorted(required - new.registered_fields())
        # Each person in the car gives the numbers the visitor gives, as each on foot does with a
        # pass of their own (Review 65 D1: a car of three came in on the visitor's ID alone).
        each = sorted(asked_of_each_occupant(required))
        unnamed = [f"occupants.{i}.{f}" for i, o in enumerate(occupants) for f in each if not getattr(o, f)]
        if missing or unnamed:
            fix = "ask the visitor for these and fill them in"
            if "occupants" in missing:
                fix += " (occupants: the driver and everyone in the vehicle, the driver first)"
            if unnamed:
                fix += f"; each person in the vehicle gives their own {' and '.join(each)}"
            # Still the code a runtime refusal has ("refused"), with the fields for the page to name.
            raise ApiError(
                422,
                "refused",
                f"closed management needs: {', '.join(missing + unnamed)}",
                fix,
                fields=missing + unnamed,
            )
    return new


def _opens_some_time(
    gw: Gateway, validity: Validity, now: datetime, fields: tuple[str, ...] = ("hours", "valid_to")
) -> None:
    """A crew's pass that closed-management periods refusing contractors keep out at every moment
    of its window and hours from `now` on (08:00-18:00 to 30 April, under 07:00-21:00 to 31 May) is
    refused: its QR would open no door on any day of it, with nothing said when it was issued (Review
    66 E). From now, not from its first day: a pass for today 06:00-18:00 issued at 10:00 had its
    one open hour behind it, a pass back-dated to before the period its open days (Review K). An
    extension (延期) is checked alike, with the pass's new end. Visitors are told a period's rules up
    front too (visitor_rules). One whose window and hours are over from `now` whatever the periods
    (today's 08:00-18:00 issued at 19:00) is told so, at a site with no period too (Review V): not
    that closed management keeps it out."""
    if first_open(validity, gw.site.policy.closed_periods, "contractor", gw.site.tz, now) is not None:
        return
    if first_open(validity, (), "contractor", gw.site.tz, now) is None:
        raise ApiError(
            422,
            "invalid_pass",
            "valid_to: the pass has no open hour left from now (its days and hours are over): its QR "
            "would open no door",
            "give a later end, or hours still to come",
            fields=["valid_to"],
        )
    raise ApiError(
        422,
        "closed_management",
        "closed management turns contractors away all through this pass's days and hours from now "
        "on: its QR would open no door",
        "give hours outside the closed hours, or an end after the period; or admit contractors in "
        'the period (policy.closed_management contractors = "admit")',
        fields=list(fields),
    )


def _fields_of(problems: list[str]) -> list[str]:
    """The fields named by `problems` (each begins with its field: "phone: ...", "occupants[0] ..."),
    a person's in the vehicle as occupants.<row>.<field> (occupants.0.id_number: the driver's ID)."""
    fields = [
        ".".join(m.group("field", "row", "own")) if m.group("row") else m.group("field")
        for p in problems
        if (m := _FIELD.match(p))
    ]
    return list(dict.fromkeys(fields))


def _occupants(body: VisitorIn, plate: str | None, problems: list[str]) -> tuple[store.Occupant, ...]:
    """The people in the vehicle, checked like the visitor's own phone and ID; the driver first."""
    if body.occupants and plate is None:
        problems.append(
            "occupants: only a visitor with a vehicle lists its occupants; give the plate, "
            "or for people on foot set passengers"
        )
    people = []
    for i, person in enumerate(body.occupants):
        who = "driver" if i == 0 else f"occupant {i + 1}"
        phone, id_number = typed(person.phone), typed(person.id_number)
        problems += _number_problems(phone, id_number, person.id_kind, f"occupants[{i}] ({who}) ")
        name = typed_text(person.name)
        if not name:
            problems.append(f"occupants[{i}] ({who}) name: is empty")
        people.append(store.Occupant(name=name, phone=phone, id_number=id_number, id_kind=person.id_kind))
    return tuple(people)


def _register(
    app: GuardApp,
    who: Principal,
    key: str | None,
    kind: Literal["visitor", "contractor"],
    body: VisitorIn,
    hours: tuple[str, ...] = (),
    company: str = "",
) -> PassOut:
    """A pass made once for its Idempotency-Key (`key`): a repeat (a second tap, a retry after a
    reply lost on the Wi-Fi) is answered the pass already made, as it stands now."""
    writes = _made if kind == "visitor" else _issued
    made, again = made_once(
        writes,
        who.name,
        key,
        body.model_dump_json(),
        lambda: _start_create(app, who, kind, body, hours, company),
    )
    return pass_out(app.gw, _as_it_stands(app.gw, made) if again else made, with_qr=True)


def _as_it_stands(gw: Gateway, made: dict[str, Any]) -> dict[str, Any]:
    """A pass an earlier request made, read again (checked out since, say) on a connection of its
    own: read on the decision worker, a busy box answered a pass that is saved 503 busy, "did not
    save this", and the guard registered the visitor again. Not read (another process holds the
    file locked), it is answered as it was made: it is saved whatever the read says."""
    try:
        with closing(read_only(gw)) as db:
            return store.get_pass(db, made["id"])
    except sqlite3.Error as exc:
        log.warning("pass %s made earlier answered as made: it could not be read again: %s", made["id"], exc)
        return made


def _start_create(
    app: GuardApp,
    who: Principal,
    kind: Literal["visitor", "contractor"],
    body: VisitorIn,
    hours: tuple[str, ...] = (),
    company: str = "",
) -> Future[dict[str, Any]]:
    """The pass checked (422 before anything is sent) and its write sent to the worker, not waited for."""
    gw = app.gw
    # One moment for the registration and a window left empty: re-dated together after NTP steps
    # a stale boot clock (gateway/store/redate.py), while a time the guard typed stays as typed.
    now = gw.now()
    new = _new_pass(gw, kind, body, now, hours, company)
    if kind == "visitor":  # a crew may renovate a flat before its owner moves in (the register's)
        _check_host(gw, new)
    # Made and read back in one turn on the worker: a reply of "busy, not saved" between two turns
    # would be false (the pass made), and the guard's retry would make a second one.
    return gw.on_worker(lambda c: store.get_pass(c, store.create_pass(c, gw.secrets, new, now, who.name)))


def _check_host(gw: Gateway, new: store.NewPass) -> None:
    """A pass for a place where no resident lives (30栋 for 3栋) is refused as materials leaving and a
    stay's validation refuse it (no_such_unit): it would open the doors all day to someone visiting
    nobody. Read on a connection of its own, not the worker (a busy box answers a read queued there
    503). A site whose residents were never imported registers as before (store.host_unknown); a
    pass the centre sends down is the centre's to check."""
    with closing(read_only(gw)) as db:
        unknown = store.host_unknown(db, new.host_building, new.host_unit, new.valid_from)
    if not unknown:
        return
    place = " ".join(p for p in (new.host_building, new.host_unit) if p)
    fix = "check the building and unit with the visitor"
    data = {"unit": place}
    # Not where closed management asks for the host: the pass for the office is then not made either.
    if not {"host_building", "host_unit"} & required_fields(gw, new.valid_from, new.valid_to):
        fix += "; for a visit to the management office leave both empty"
        data["state"] = "may_be_empty"  # the page's words say so too (err.no_such_unit.may_be_empty)
    fields = ["host_building", "host_unit"]
    raise ApiError(422, "no_such_unit", f"no resident lives in {place}", fix, fields=fields, data=data)


@router.get(
    "/api/visitors/rules",
    summary="What registering a visitor needs: for the window given, or a pass starting now",
    response_model=Rules,
)
def visitor_rules(
    who: User,
    app: App,
    valid_from: Annotated[When | None, Query(description="As POST /api/visitors takes it.")] = None,
    valid_to: Annotated[End | None, Query(description="As POST /api/visitors takes it.")] = None,
) -> Rules:
    # The visitor page asks again as the guard types the window (a visit for tomorrow morning, typed
    # in after tonight's closed hours): the same window and rule the registration is checked by.
    gw = app.gw
    now = gw.now()
    return visitor_rules_for(gw, pass_window(gw, valid_from, valid_to, now), now)


@router.post(
    "/api/visitors",
    summary="Register a visitor: a pass with a QR code, and the plate admitted for its window",
    status_code=201,
    response_model=PassOut,
)
def register_visitor(body: VisitorIn, who: User, app: App, idempotency_key: IdempotencyKey = None) -> PassOut:
    return _register(app, who, idempotency_key, "visitor", body)


@router.get(
    "/api/visitors",
    summary="Visitor passes: those overstaying first (current only), then newest first",
    description="The first `limit` of them; the `X-Total-Count` header says how many there are in all.",
    response_model=list[PassOut],
)
def list_visitors(
    who: User,
    app: App,
    db: Db,
    response: Response,
    current: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PassOut]:
    return _listed(app.gw, db, response, "visitor", current, limit)


@router.post(
    "/api/visitors/find",
    summary="A returning visitor, found by phone or ID number",
    response_model=Returning,
)
def find_visitor(body: FindIn, who: User, app: App, db: Db) -> Returning:
    phone, id_number = typed(body.phone), typed(body.id_number)
    if not phone and not id_number:
        raise ApiError(422, "nothing_to_find", "give a phone or an ID number", "type one of them")
    row = store.find_returning(db, app.gw.secrets, phone, id_number, body.id_kind)
    if row is None:
        return Returning(found=False)
    return Returning(
        found=True,
        name=row["name"] if who.is_admin else mask_name(row["name"]),
        name_masked=not who.is_admin,
        host_building=row["host_building"],
        host_unit=row["host_unit"],
        destination=row["destination"],
        plate=as_written(row["plate"]) if row["plate"] else None,
        vehicle_class=row["vehicle_class"] if row["plate"] else None,
        last_visit=local(app.gw, row["created_at"]),
        visits_masked_phone=row["phone_masked"],
    )


@router.post(
    "/api/contractors",
    summary="Issue a contractor pass (admin)",
    status_code=201,
    response_model=PassOut,
)
def register_contractor(
    body: ContractorIn, who: Admin, app: App, idempotency_key: IdempotencyKey = None
) -> PassOut:
    return _register(app, who, idempotency_key, "contractor", body, tuple(body.hours), body.company)


@router.get(
    "/api/contractors",
    summary="Contractor passes: those overstaying first (current only), then newest first",
    description="The first `limit` of them; the `X-Total-Count` header says how many there are in all.",
    response_model=list[PassOut],
)
def list_contractors(
    who: User,
    app: App,
    db: Db,
    response: Response,
    current: bool = True,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PassOut]:
    return _listed(app.gw, db, response, "contractor", current, limit)


def _listed(
    gw: Gateway, db: sqlite3.Connection, response: Response, kind: store.PassKind, current: bool, limit: int
) -> list[PassOut]:
    """The first `limit` passes of `kind` (the current ones as the pages list them), and how many
    there are in all in X-Total-Count, as GET /api/lookup says it: a list cut says so."""
    if current:
        listed = store.current_passes(db, kind, gw.now(), limit, seen_leaving(gw))
        rows, total = listed.passes, listed.total
    else:
        rows, total = store.list_passes(db, kind, gw.now(), False, limit), store.count_passes(db, kind)
    response.headers["X-Total-Count"] = str(total)
    return [pass_out(gw, r) for r in rows]


@router.get("/api/passes/{pass_id}", summary="One pass, with its QR token", response_model=PassOut)
def get_pass(pass_id: Id, who: User, app: App, db: Db) -> PassOut:
    return pass_out(app.gw, store.get_pass(db, pass_id), with_qr=True)


@router.get(
    "/api/passes/{pass_id}/qr.svg",
    summary="The pass's QR code",
    response_class=RawResponse,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def pass_qr(pass_id: Id, who: User, db: Db) -> Response:
    row = store.get_pass(db, pass_id)
    return Response(
        qr_svg(row["qr"] or ""),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.post(
    "/api/passes/check",
    summary="Check a scanned or typed QR pass: is it valid now?",
    response_model=PassOut,
)
def check_pass(body: TokenIn, who: User, app: App, db: Db) -> PassOut:
    return pass_out(app.gw, store.pass_by_token(db, body.token))


@router.post(
    "/api/passes/{pass_id}/checkout",
    summary="Check out: the pass admits nobody any more",
    response_model=PassOut,
)
def check_out(pass_id: Id, who: User, app: App, db: Db) -> PassOut:
    gw = app.gw
    if store.get_pass(db, pass_id)["kind"] == "contractor" and not who.is_admin:
        raise ApiError(403, "admin_only", "only an admin ends a contractor pass", "ask the estate's admin")
    row = write(gw, lambda c: store.check_out(c, pass_id, gw.now(), who.name))
    return pass_out(gw, row)


@router.post(
    "/api/passes/{pass_id}/extend",
    summary="Extend a pass (admin): the same pass and QR, a later end",
    response_model=PassOut,
)
def extend_pass(pass_id: Id, body: ExtendIn, who: Admin, app: App, db: Db) -> PassOut:
    """延期: a crew's job runs on. Those of its party inside walk out on the QR they walked in on;
    on a new pass they were left inside on the old one (Review 66 E2)."""
    gw = app.gw
    now = gw.now()
    row = store.get_pass(db, pass_id)
    end = aware(gw, body.valid_to)
    start = max(from_db(row["valid_from"]) or now, now)
    limits = gw.site.config.visitors
    longest = limits.visitor_max_days if row["kind"] == "visitor" else limits.contractor_max_days
    problem = ""
    if end <= now:
        problem = "valid_to: is in the past"
    elif end - start > timedelta(days=longest):
        problem = f"valid_to: a {row['kind']} pass lasts at most {longest} days"
    if problem:
        raise ApiError(422, "invalid_pass", problem, "correct the fields named", fields=["valid_to"])
    if row["kind"] == "contractor" and _extends(row, end):
        # Refused as a pass issued for that window would be: its QR would open no door again.
        validity = Validity(from_db(row["valid_from"]) or now, end, stored_windows(row["hours"]))
        _opens_some_time(gw, validity, now, ("valid_to",))
    return pass_out(gw, write(gw, lambda c: store.extend(c, pass_id, end, now, who.name)), with_qr=True)


def _extends(row: dict[str, Any], end: datetime) -> bool:
    """Whether store.extend would give the pass `end`: not one it refuses (ended, the centre's, an
    earlier end), which it says so of, nor the same end again, which it answers as it is."""
    return not row["checked_out_at"] and row["ref"] is None and to_db(end) > row["valid_to"]
