"""A payment's method corrected over HTTP (扫码已付 tapped for cash, or the reverse): the guard who
took it, within his shift, or an admin (gateway/store/payment_method.py)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from gateway.api.auth import User
from gateway.api.deps import App, IdempotencyKey, KeyedWrites, made_once
from gateway.api.errors import LEAST_REASON, ApiError, reason_given
from gateway.api.shapes import ERRORS
from gateway.store.payment_method import MethodCorrected, correct_method

router = APIRouter(tags=["parking"], responses=ERRORS)
# A receipt is what the guard typed (a QR transaction number) or 20250303-0001: `path`, so that one
# holding a slash still reaches here.
PaymentRef = Annotated[
    str, Path(min_length=1, max_length=40, description="The receipt number, or the payment's id.")
]
# Idempotency-Key -> the correction it made, per user (the last 500).
_corrected: KeyedWrites[MethodCorrected] = KeyedWrites("method correction")


class MethodIn(BaseModel):
    method: Literal["cash", "qr"] = Field(description="How the driver really paid: cash, or qr (QR code).")
    # Left out, it is "" and too short (validate_default): refused saying its least (errors._invalid).
    reason: str = Field(
        "",
        min_length=LEAST_REASON,
        max_length=200,
        validate_default=True,
        description="Why, in 2 to 200 characters: e.g. 司机付的现金，点错成扫码.",
    )


@router.post(
    "/api/payments/{ref:path}/method",
    summary="Correct how a payment was paid, cash or QR code (audited; sent upstream; its day's "
    "report sent again, its revenue by method moved): the guard who took it within his shift, or an admin",
)
def correct_payment_method(
    ref: PaymentRef, body: MethodIn, who: User, app: App, idempotency_key: IdempotencyKey = None
) -> dict[str, Any]:
    reason = reason_given(body.reason)
    if not who.is_admin and who.account_id is None:
        raise ApiError(
            403,
            "not_an_account",
            "a guard's API token has no shift: it corrects no payment",
            "log in as the guard who took the fee, or ask an admin",
        )
    gw = app.gw
    now = gw.now()

    done, _ = made_once(
        _corrected,
        who.name,
        idempotency_key,
        f"{ref}\n{body.model_dump_json()}",
        lambda: gw.on_worker(
            lambda c: correct_method(
                c,
                ref,
                body.method,
                reason,
                by=who.name,
                admin=who.is_admin,
                now=now,
                tz=gw.site.tz,
                max_bytes=gw.site.config.mqtt.max_message_bytes,
            )
        ),
    )
    tz = gw.site.tz
    return {
        "receipt": done.receipt,
        "amount_fen": done.amount_fen,
        "taken_at": done.taken_at.astimezone(tz).isoformat(timespec="seconds"),
        "taken_by": done.taken_by,
        "previous_method": done.previous_method,
        "method": done.method,
        "corrected_by": done.by,
        "corrected_at": done.at.astimezone(tz).isoformat(timespec="seconds"),
        "reason": done.reason,
        "audit_id": done.audit_id,
        "reports_sent_again": [day.isoformat() for day in done.reports],
    }
