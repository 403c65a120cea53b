"""Parking over HTTP: occupancy, fees and payments at exit lanes, stays, daily reports, the price table.

Plain JSON for the guard and admin pages (the guard web app renders them), and one server-rendered
public page: the published price table (明码标价) at /prices.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, Field

from gateway.accounts.passwords import typed_username
from gateway.api.auth import Admin, Principal, User
from gateway.api.deps import (
    MAX_ID,
    PLATE_TYPED_MAX,
    Day,
    Db,
    Id,
    IdempotencyKey,
    KeyedWrites,
    made_once,
    saved,
    write,
)
from gateway.api.errors import ApiError, reason_given
from gateway.api.prices_page import page_language, prices_html
from gateway.api.shapes import ERRORS
from gateway.api.views import shown_value
from gateway.parking.desk_checks import typed_plate
from gateway.parking.fees import tariff_at, yuan
from gateway.parking.inside import CarInside, entered_at_of, record_inside
from gateway.parking.patrol import round_closes
from gateway.parking.report import report_csv
from gateway.parking.tariffs import CLASSES, price_lines
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import find_account
from gateway.store.database import transaction
from gateway.store.occupancy import occupancy, open_stays
from gateway.store.patrol import not_counted_in_round
from gateway.timefmt import from_db, local_iso

log = logging.getLogger(__name__)
T = TypeVar("T")

# How long a parking change (a fee, a stay closed) waits for the worker before the busy answer.
PARKING_WRITE_S = 30.0
# Idempotency-Key -> the write that records a car inside, per user (the last 500).
_recorded: KeyedWrites[dict[str, Any]] = KeyedWrites("car recorded inside")
# The errors of a route that answers HTML or CSV: JSON as everywhere (api/errors.py), where FastAPI
# would document them under the route's own media type.
JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": response["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }
    for status, response in ERRORS.items()
}


# Who acts: a guard's session or an API token (gateway/api/auth.py); the name goes into payments
# and the audit trail.
def _guard(who: User) -> str:
    return who.name


Operator = Annotated[str, Depends(_guard)]


def _actor(who: Principal, named: str, db: sqlite3.Connection, *, fee: bool = False) -> str:
    """The actor of a parking change's payments, audit row and upstream record: the principal that
    made the request first, which the audit trail's person filter finds (store/audit.py). A machine
    client (a payment kiosk's token) may add the guard it acts for: `token:booth for guard1`, his
    account's own spelling, as his shift (store/shifts.py) finds it, however the kiosk typed him
    (ｇｕａｒｄ１, `guard1 `), or as typed where no account matches. A person logged in acts for
    himself alone, so a fee he took is always found under his name."""
    typed = typed_username(named)
    if not typed or typed.casefold() == who.name.casefold():
        return who.name
    if who.via == "token":
        account = find_account(db, typed)
        if account is None:
            if fee:
                # Taken all the same: the driver has paid at the kiosk, and refusing the record
                # would lose it and keep the lane shut. The name is left out (personal data).
                log.warning(
                    "%s took a fee for a guard who has no account: it is in no guard's 交班 shift; "
                    "have the kiosk send the guard's login name in `actor`",
                    who.name,
                )
            return f"{who.name} for {typed}"  # an admin correction may name a manager with no login
        if account.disabled and fee:
            # Taken all the same, as for a name with no account, and in his shift as before; but he
            # can no longer log in to hand it over (a dismissed guard the kiosk still names): said
            # each time, as above, with the way an admin hands it over. A user name, no personal data.
            log.warning(
                "%s took a fee for %s, whose account is disabled: it is in his 交班 shift, which only "
                "an admin can hand over now (/shift?guard=%s); have the kiosk send the login name of "
                "the guard on duty in `actor`",
                who.name,
                account.username,
                account.username,
            )
        return f"{who.name} for {account.username}"
    raise ApiError(
        403,
        "actor_not_allowed",
        f"{who.name} is logged in and acts for no one else (actor {named!r})",
        f"leave out `actor`: what you do is recorded under {who.name}; a machine client that acts "
        "for a guard sends its API token and names the guard in `actor`",
    )


class Payment(BaseModel):
    plate: str = Field(max_length=PLATE_TYPED_MAX, description="The car's plate, e.g. 皖A12345.")
    amount_fen: int = Field(gt=0, le=100_000_000, description="The fee taken, in fen; must be the fee due.")
    method: Literal["cash", "qr", "monthly"] = Field(
        description="cash or qr (QR code payment): money taken; or monthly (月租): the fee put on the "
        "car's monthly account, no money taken, only for a car on the register with a monthly period "
        "(paid up or run out). Any other car is refused 422 `no_monthly_account`: take cash or qr."
    )
    receipt: str = Field("", max_length=40, description="Receipt number; made by the gateway if empty.")
    actor: str = Field(
        "",
        max_length=40,
        description="With an API token: the guard it acts for (audited as token:NAME for GUARD). "
        "A logged-in guard leaves it out (or names himself).",
    )


class LanePayment(Payment):
    plate: str = Field(
        "",
        max_length=PLATE_TYPED_MAX,
        description="The car's plate, e.g. 皖A12345; empty for a car named by its pass or resident.",
    )
    pass_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="A car let in on a pass without a plate: the pass's id, as the lane's quote names it.",
    )
    resident_id: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="A car held on a resident's card that names no car: the resident's id, as the lane's "
        "quote names it.",
    )


class Closing(BaseModel):
    # Left out, it is "" and too short (validate_default): refused saying its least, 2 (errors._invalid).
    reason: str = Field(  # phone and ID numbers masked where it is stored (close_stay, record_inside)
        "",
        min_length=2,
        max_length=200,
        validate_default=True,
        description="Why, in 2 to 200 characters: e.g. car left while the camera was down.",
    )
    actor: str = Field("", max_length=40)


class Inside(BaseModel):
    plate: str = Field(
        "",
        max_length=PLATE_TYPED_MAX,
        description="The car's plate, e.g. 皖A12345; 无牌车 for a car with no plate, as no_plate. Never "
        "a ticket: the gateway gives those.",
    )
    no_plate: bool = Field(
        False,
        description="A car with no plate (无牌车): the gateway gives it the next ticket of the day it "
        "came in, the answer's `plate`, to write on its paper ticket; `plate` is then left empty.",
    )
    vehicle_class: str | None = Field(
        None, max_length=12, description="car, motorcycle or bicycle; empty: the register's class, else car."
    )
    zone: str | None = Field(
        None,
        max_length=40,
        description="The zone it is parked in; needed only for a car with no fixed slot at a site of "
        "several zones.",
    )
    entered_at: str | None = Field(
        None,
        max_length=40,
        description="When it came in, in the site's time (YYYY-MM-DD HH:MM); empty: now. Never in the "
        "future.",
    )
    # Left out, it is "" and too short (validate_default): refused saying its least, 2 (errors._invalid).
    reason: str = Field(  # phone and ID numbers masked where it is stored (close_stay, record_inside)
        "",
        min_length=2,
        max_length=200,
        validate_default=True,
        description="Why, in 2 to 200 characters: e.g. parked before the gateway; camera down at entry.",
    )
    actor: str = Field("", max_length=40)


class Validation(BaseModel):
    building: str = Field(max_length=20, description="The host's building, e.g. 3栋.")
    unit: str = Field(max_length=20, description="The host's unit, e.g. 2单元.")
    actor: str = Field("", max_length=40)


def parking_router(gw: Gateway) -> APIRouter:
    router = APIRouter(tags=["parking"], responses=ERRORS)
    desk = gw.parking
    language = gw.site.config.site.language

    # A ParkingError raised here or on the worker answers with its own status (api/errors.py).
    def on_worker(fn: Callable[[sqlite3.Connection], T]) -> T:
        return write(gw, fn, PARKING_WRITE_S)

    # Open without a login, as the prices are: a free-space sign at the gate reads it (counts only).
    @router.get("/api/parking/occupancy", summary="Cars inside and free spaces, per zone and vehicle class")
    def get_occupancy(db: Db) -> list[dict[str, Any]]:
        names = {z.id: z.name for z in gw.site.config.zones}  # as /api/occupancy names them
        return occupancy(db, gw.site.capacity, names, gw.stays_leaving)  # as the entrance counts

    @router.get("/api/parking/prices", summary="The published tariffs (明码标价); ?lang=zh or en")
    def get_prices(db: Db, lang: Annotated[str | None, Query(max_length=2)] = None) -> dict[str, Any]:
        return _prices(gw, db, gw.now(), page_language(lang, language))

    @router.get(
        "/prices",
        response_class=HTMLResponse,
        summary="The public price table page; ?lang=zh or en",
        responses=JSON_ERRORS,
    )
    def prices_page(db: Db, lang: Annotated[str | None, Query(max_length=2)] = None) -> str:
        shown = page_language(lang, language)
        return prices_html(_prices(gw, db, gw.now(), shown), gw.site.config.site.name, shown)

    @router.get("/api/parking/stays", summary="Cars recorded inside, newest first")
    def get_stays(
        db: Db,
        _: Operator,
        plate: Annotated[str | None, Query(max_length=PLATE_TYPED_MAX)] = None,
        zone: Annotated[str | None, Query(max_length=40)] = None,
        limit: Annotated[int, Query(ge=1, le=2000)] = 200,
    ) -> list[dict[str, Any]]:
        stays = open_stays(db, typed_plate(plate, db) if plate else None, zone, limit)
        for stay in stays:  # the store keeps UTC; the API answers in the site's time
            stay["entered_at"], stay["billed_until"] = (
                local_iso(stay["entered_at"], gw.site.tz),
                local_iso(stay["billed_until"], gw.site.tz),
            )
        return stays

    @router.post("/api/parking/stays", summary="Admin correction: record a car already inside")
    def record_stay(
        body: Inside, who: Admin, db: Db, idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        actor = _actor(who, body.actor, db)
        car = CarInside(
            body.plate,
            entered_at_of(body.entered_at, gw.site.tz),
            body.vehicle_class or None,
            body.zone or None,
            body.no_plate,
        )
        # Sent again after a lost answer, a car with no plate was given a second ticket and stay:
        # the repeat is answered the stay and ticket already made.
        recorded, _ = made_once(
            _recorded,
            who.name,
            idempotency_key,
            body.model_dump_json(),
            lambda: gw.on_worker(
                lambda c: _tx(c, lambda: record_inside(c, gw.site, car, body.reason, actor, gw.now()))
            ),
            PARKING_WRITE_S,
        )
        return recorded

    @router.post("/api/parking/stays/{stay_id}/close", summary="Admin correction: the car has left unseen")
    def close_stay(stay_id: Id, body: Closing, who: Admin, db: Db) -> dict[str, Any]:
        actor = _actor(who, body.actor, db)
        reason = reason_given(body.reason)
        return on_worker(lambda c: _tx(c, lambda: desk.close_stay(c, stay_id, reason, actor, gw.now())))

    @router.post("/api/parking/stays/{stay_id}/validate", summary="The host unit validates its visitor")
    def validate(stay_id: Id, body: Validation, who: User, db: Db) -> dict[str, Any]:
        actor = _actor(who, body.actor, db)
        return on_worker(
            lambda c: _tx(c, lambda: desk.validate(c, stay_id, body.building, body.unit, actor, gw.now()))
        )

    @router.get("/api/parking/quote", summary="What a car owes now")
    def quote(
        db: Db, _: Operator, plate: Annotated[str, Query(max_length=PLATE_TYPED_MAX)]
    ) -> dict[str, Any]:
        return desk.quote(db, plate, gw.now())

    @router.get("/api/parking/lanes/{lane}/quote", summary="The car held at an exit lane, and its fee")
    def lane_quote(db: Db, _: Operator, lane: str) -> dict[str, Any]:
        now = gw.now()
        return desk.lane_quote(db, lane, now) or _no_car_held(lane, now.astimezone(gw.site.tz))

    @router.post("/api/parking/lanes/{lane}/pay", summary="The guard took the fee: record it and open")
    def pay(lane: str, body: LanePayment, who: User, db: Db) -> dict[str, Any]:
        actor = _actor(who, body.actor, db, fee=True)
        taken = desk.pay_at_lane(
            lane,
            body.plate,
            body.amount_fen,
            body.method,
            body.receipt,
            actor,
            gw.now(),
            pass_id=body.pass_id,
            resident_id=body.resident_id,
        )
        ev = saved(gw.decide_after(taken), PARKING_WRITE_S)
        # A car let out on its pass's QR: the QR opens the gate to whoever holds it, never shown.
        # The receipt and tariff version: what the guard hands the driver (the number, if made here).
        return {
            **ev.as_json(),
            "value": shown_value(ev.kind, ev.value),
            "receipt": taken.receipt,
            "tariff_version": taken.tariff_version,
        }

    @router.post("/api/parking/prepay", summary="Paying ahead at the booth (the grace period starts)")
    def prepay(body: Payment, who: User, db: Db) -> dict[str, Any]:
        actor = _actor(who, body.actor, db, fee=True)
        return on_worker(
            lambda c: _tx(
                c,
                lambda: desk.prepay(
                    c, body.plate, body.amount_fen, body.method, body.receipt, actor, gw.now()
                ),
            )
        )

    @router.get("/api/parking/reports", summary="Daily reports built, newest first, with headline figures")
    def reports(db: Db, _: Operator, limit: Annotated[int, Query(ge=1, le=400)] = 31) -> list[dict[str, Any]]:
        rows = db.execute("SELECT day, built_at, body FROM daily_reports ORDER BY day DESC LIMIT ?", (limit,))
        out = []
        for day, built_at, body in rows:
            b = json.loads(body)
            out.append(
                {
                    "day": day,
                    "built_at": built_at,
                    "vehicle_entries": b["vehicles"]["entries"]["total"],
                    "vehicle_exits": b["vehicles"]["exits"]["total"],
                    "refusals": b["refusals"]["total"],
                    "revenue_fen": b["parking"]["revenue_fen"],
                    "patrol_missed": b["patrol"]["missed"],
                    # None for a report built before the gateway kept its own downtime
                    "gateway_down_s": (b.get("gateway_down") or {}).get("seconds"),
                }
            )
        return out

    @router.get(
        "/api/parking/reports/{day}.csv",
        response_class=PlainTextResponse,
        summary="A report as CSV",
        responses=JSON_ERRORS,
    )
    def report_as_csv(db: Db, _: Operator, day: Day) -> PlainTextResponse:
        body = _report(db, day)
        return PlainTextResponse(
            report_csv(body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="report-{day}.csv"'},
        )

    @router.get("/api/parking/reports/{day}", summary="A daily report")
    def report(db: Db, _: Operator, day: Day) -> dict[str, Any]:
        return _report(db, day)

    @router.post(
        "/api/parking/reports/{day}/build", summary="Build (or rebuild) a report whose period has ended"
    )
    def build(db: Db, who: Operator, day: Day) -> dict[str, Any]:
        now = gw.now()
        end = gw.operations.report_period(db, day)[1]  # a kept report keeps its own period
        if end > now:
            raise ApiError(
                409,
                "not_ended",
                f"the report period of {day} ends at {end.isoformat()}",
                "build it after the period has ended",
            )
        # A car refused near the period's end and let in after it was not turned away: built now,
        # the report would say it was, and the one sent upstream would stay so.
        until = gw.operations.let_ins_open(db, day, now)
        if until is not None:
            local = until.astimezone(gw.site.tz)
            raise ApiError(
                409,
                "let_ins_open",
                f"a car refused in the report period of {day} may still be let in until "
                f"{local.strftime('%H:%M')}, and then was not turned away",
                f"build it after {local.isoformat()}, or wait: the gateway builds it then",
            )
        # A round due in the period and still being walked would be left out of the report for
        # good (the operations thread never builds a kept day again): refused as the automatic
        # report waits, until the round is judged or, at the latest, its next round is due.
        until = gw.operations.rounds_open(db, day, now)
        if until is not None:
            at = until.astimezone(gw.site.tz).isoformat()
            raise ApiError(
                409,
                "rounds_open",
                f"a patrol round due in the report period of {day} is still open, until {at} at the latest",
                f"build it after {at}, or wait: the gateway builds it once the round is done, late or missed",
            )
        # So would a device back online before the period ended, whose fault clears as of then.
        until = gw.operations.returns_open(db, day, now)
        if until is not None:
            at = until.astimezone(gw.site.tz).isoformat()
            raise ApiError(
                409,
                "returns_open",
                f"a device back online in the report period of {day} waits to clear its fault until {at}",
                f"build it after {at}, or wait: the gateway builds it once the fault is cleared or the "
                "device is off again",
            )
        gw.operations.check_rebuild(db, day, now)
        # Waited for as the API's other writes are: a stuck worker answers busy (503, try again),
        # not after the operations thread's 5 minutes.
        return gw.operations.build_report(day, now, actor=who, run=on_worker)

    @router.get("/api/parking/patrols", summary="Patrol rounds recorded, newest first")
    def patrols(db: Db, _: Operator, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
        cur = db.execute(
            "SELECT route, due_at, status, finished_at, missing FROM patrol_rounds "
            "ORDER BY due_at DESC LIMIT ?",
            (limit,),
        )
        routes = {route.id: route for route in gw.operations.routes}
        rounds = []
        for r, d, s, f, miss in cur.fetchall():
            missing = [m for m in miss.split(",") if m]
            due, route = from_db(d), routes.get(r)
            # The missing checkpoints a card that does not count tapped (a resident's, a card not
            # in [patrol] guard_cards), with why: the round's alarm says them too.
            tapped = (
                not_counted_in_round(db, missing, due, round_closes(route, due, gw.site.tz))
                if missing and due is not None and route is not None
                else []
            )
            rounds.append(
                {
                    "route": r,
                    "due_at": local_iso(d, gw.site.tz),
                    "status": s,
                    "finished_at": local_iso(f, gw.site.tz),
                    "missing": missing,
                    "not_counted": [{"checkpoint": c, "why": why} for c, why in tapped],
                }
            )
        return rounds

    return router


def _no_car_held(lane: str, now: datetime) -> dict[str, Any]:
    """The quote of an exit lane where no car waits to pay: the keys a held car's quote has
    (service.lane_quote, quote_json), each empty, so that a client reads `pass` or `resident` alike."""
    return {
        "lane": lane,
        "plate": None,
        "at": now.isoformat(),
        "stay_id": None,
        "entered_at": None,
        "billing": None,
        "validated": False,
        "fee_fen": 0,
        "carried_fen": 0,
        "paid_fen": 0,
        "due_fen": 0,
        "due_text": f"{yuan(0)}元",
        "tariff_version": None,
        "charged_until": None,
        "monthly_ended": None,
        "pass": None,
        "resident": None,
        "hold_ends_in_s": None,
    }


def _tx(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
    with transaction(conn):
        return fn()


def _report(db: sqlite3.Connection, day: date) -> dict[str, Any]:
    row = db.execute("SELECT body FROM daily_reports WHERE day = ?", (day.isoformat(),)).fetchone()
    if row is None:
        raise ApiError(404, "no_report", f"no report for {day}", "reports are built when their period ends")
    body: dict[str, Any] = json.loads(row[0])
    return body


def _prices(gw: Gateway, db: sqlite3.Connection, now: datetime, language: str) -> dict[str, Any]:
    tariffs = gw.parking.tariffs(db, now)  # as the fees read them: the version in force is the one charged
    current = tariff_at(tariffs, now.astimezone(gw.site.tz))
    shown = [t for t in tariffs if t is current or t.effective_from > now.astimezone(gw.site.tz).date()]
    grace = int(gw.parking.rules.grace / timedelta(minutes=1))
    return {
        "site": gw.site.config.site.name,
        "grace_minutes": grace,
        "tariffs": [
            {
                "version": t.version,
                "effective_from": t.effective_from.isoformat(),
                "current": t is current,
                "classes": {c: price_lines(t.rate(c), language) for c in CLASSES},
            }
            for t in shown
        ],
    }
