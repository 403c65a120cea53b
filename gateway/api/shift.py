"""The guard's shift (交班) over HTTP: what he took this shift, and its handover; and its page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import AwareDatetime, BaseModel, Field

from gateway.accounts.passwords import typed_username
from gateway.api.auth import Principal, User
from gateway.api.deps import App, Db, IdempotencyKey, KeyedWrites, guard_app, made_once
from gateway.api.errors import ApiError
from gateway.api.pages import page_user, render
from gateway.api.shapes import ERRORS
from gateway.parking.desk_checks import TAKEN_AT_THE_GATE
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import find_account
from gateway.store.audit import shown_actor
from gateway.store.shifts import COUNTED, Handover, Shift, hand_over, shift_of

router = APIRouter(tags=["shift"], responses=ERRORS)
page_router = APIRouter(include_in_schema=False)
# Idempotency-Key -> the handover it recorded, per user (the last 500).
_handed: KeyedWrites[Handover] = KeyedWrites("handover")
MOST_FEN = 100_000_000  # a million yuan: more than any booth's drawer


class HandoverIn(BaseModel):
    # Checked by the route (counted_fen), so that a wrong amount is told what to send, in fen.
    counted_cash_fen: Any = Field(
        None,
        description="The cash counted in the drawer, in fen (分), a whole number, 0 or more: "
        "123.50 元 is 12350.",
        json_schema_extra={"type": "integer", "minimum": 0},
    )
    note: str = Field(
        "",
        max_length=200,
        description="Optional: what the next guard or the office should know (a phone or ID number "
        "in it is stored and sent masked).",
    )
    recorded_cash_fen: int | None = Field(
        None,
        ge=0,
        description="Optional: the cash on record, in fen, the guard was shown as he confirmed. If a "
        "fee taken for him since changed it, the handover is 409 `shift_changed` (nothing stored) "
        "with the figure now in `recorded_cash_fen`: show it and confirm again. Left out: the "
        "figure at the time of the handover.",
    )
    shift_start: AwareDatetime | None = Field(
        None,
        description="Optional: the `start` of the shift the guard was shown (GET /api/shift, "
        "2025-03-10T08:00:00+08:00). If that shift was handed over since (the same guard on another "
        "tablet), the handover is 409 `already_done`, by whom and when in its data, nothing stored. "
        "Left out: the shift as it stands at the handover.",
    )


def in_yuan(fen: int) -> str:
    """Fen as the cash drawer counts it: 12350 -> '123.50', -300 -> '-3.00'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def counted_fen(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MOST_FEN:
        return value
    raise ApiError(
        422,
        "invalid_amount",
        f"counted_cash_fen must be a whole number of fen from 0 to {MOST_FEN}, not {value!r}",
        "count the cash in the drawer and send it in fen (分): 123.50 元 is 12350, an empty drawer 0",
        fields=["counted_cash_fen"],
    )


def _person(who: Principal) -> str:
    if who.account_id is None:
        raise ApiError(
            400,
            "not_an_account",
            "an API token has no shift of its own",
            "log in as the guard; an admin's token may name him: GET /api/shift?guard=USERNAME, "
            "and POST /api/shift/handover?guard=USERNAME hands it over (fees a token took for a "
            "guard, with `actor`, count in his shift)",
        )
    return who.name


def _guard_asked(who: Principal, db: Any, guard: str | None) -> str:
    """Whose shift: one's own, or, for an admin, the guard he names (a disabled account's too: a
    dismissed guard's last shift is handed over by an admin)."""
    named = typed_username(guard or "")
    if not named or named.casefold() == who.name.casefold():
        return _person(who)
    if not who.is_admin:
        raise ApiError(
            403,
            "admin_only",
            "only an admin may see or hand over another guard's shift",
            "leave out `guard`: yours is shown; an admin hands over the shift of a guard who cannot",
        )
    account = find_account(db, named)
    if account is None:
        raise ApiError(
            404, "unknown_guard", f"no account {named!r}", "give the guard's user name, as he logs in"
        )
    return account.username


def shift_json(gw: Gateway, shift: Shift) -> dict[str, Any]:
    tz = gw.site.tz
    return {
        "guard": shift.guard,
        "start": shift.start.at.astimezone(tz).isoformat(timespec="seconds"),
        "since": shift.start.since,
        "by_method": {m: {"count": n, "total_fen": fen} for m, (n, fen) in shift.by_method.items()},
        "cash_fen": shift.cash_fen,
        "taken_fen": shift.taken_fen,
        "total_fen": shift.total_fen,
        "payments": [
            {
                "at": p.at.astimezone(tz).isoformat(timespec="seconds"),
                "plate": p.plate,
                "amount_fen": p.amount_fen,
                "method": p.method,
                "receipt": p.receipt,
                "lane": p.lane,
                "actor": p.actor,
            }
            for p in shift.payments
        ],
        "counts": shift.counts,
    }


def handover_json(gw: Gateway, h: Handover) -> dict[str, Any]:
    tz = gw.site.tz
    return {
        "guard": h.guard,
        "handed_over_at": h.at.astimezone(tz).isoformat(timespec="seconds"),
        "shift_start": h.start.at.astimezone(tz).isoformat(timespec="seconds"),
        "recorded_cash_fen": h.recorded_cash_fen,
        "counted_cash_fen": h.counted_cash_fen,
        "difference_fen": h.difference_fen,
        "note": h.note,
        "audit_id": h.audit_id,
        "handed_over_by": h.by or h.guard,
    }


@router.get("/api/shift", summary="This shift's takings and work: one's own, or an admin names a guard")
def get_shift(
    who: User, app: App, db: Db, guard: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    gw = app.gw
    return shift_json(gw, shift_of(db, _guard_asked(who, db, guard), gw.now()))


@router.post(
    "/api/shift/handover",
    summary="Hand the shift over (交班): the cash counted against the cash on record; the next "
    "shift starts from zero. An admin names a guard (`guard`) to hand over his shift for him",
    status_code=201,
)
def handover(
    body: HandoverIn,
    who: User,
    app: App,
    db: Db,
    guard: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Admins only: the user name of the guard whose shift is handed over (one "
            "dismissed, his account disabled, or away); audited under the admin's name, the guard "
            "its target. Left out: one's own.",
        ),
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    whose, counted = _guard_asked(who, db, guard), counted_fen(body.counted_cash_fen)
    note = body.note.strip()
    gw = app.gw
    # Sent again after a lost answer, a second handover would start a second, empty shift and put
    # two rows on record: the repeat is answered the handover made (of the same guard's shift).
    made, _ = made_once(
        _handed,
        who.name,
        idempotency_key,
        f"{whose}\n{body.model_dump_json()}",
        lambda: gw.on_worker(
            lambda c: hand_over(
                c,
                whose,
                gw.now(),
                counted,
                note,
                gw.site.tz,
                body.recorded_cash_fen,
                body.shift_start,
                by=who.name,
            )
        ),
    )
    return handover_json(gw, made)


@page_router.get("/shift", response_class=HTMLResponse)
def shift_page(
    request: Request, db: Db, guard: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """One's own shift; for an admin, with `?guard=NAME` (the admin page's 代为交班), a guard's who
    cannot hand it over himself (dismissed, his account disabled): the handover is the admin's."""
    who = page_user(request, db)
    gw = guard_app(request).gw
    whose = _guard_asked(who, db, guard)
    shift = shift_of(db, whose, gw.now())
    shown = shift_json(gw, shift)
    for_guard = None if whose == who.name else whose
    booted: dict[str, Any] = {"cash_fen": shift.cash_fen, "start": shown["start"]}
    if for_guard:
        booted["guard"] = for_guard
    return render(
        request,
        db,
        who,
        "shift.html",
        "shift",
        boot={"shift": booted},
        for_guard=for_guard,
        for_guard_name=for_guard and shown_actor(db, for_guard, who.language),
        shift=shown,
        taken=shift.taken,
        taken_methods=TAKEN_AT_THE_GATE,
        counted=COUNTED.values(),
        lane_names=gw.site.lane_names(),
        yuan=in_yuan,
    )
