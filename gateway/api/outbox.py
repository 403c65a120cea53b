"""Uploads to the central server: what waits, what was set aside, and sending set-aside records again
(admins; audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gateway.api.auth import Admin
from gateway.api.deps import MAX_ID, App, Db, local, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.store.outbox import backlog
from gateway.store.set_aside import send_again, set_aside

router = APIRouter(tags=["uploads"], responses=ERRORS)

Seq = Annotated[int, Field(ge=1, le=MAX_ID)]


class SetAsideOut(BaseModel):
    seq: int
    record_type: str
    event_id: str
    set_aside_at: str | None
    reason: str


class OutboxOut(BaseModel):
    pending: int = Field(description="Records waiting to go upstream.")
    pending_bytes: int
    oldest_pending_at: str | None
    set_aside: list[SetAsideOut] = Field(
        description="Records the broker refused for good, oldest first (the first `limit`)."
    )
    set_aside_total: int = Field(description="How many are set aside in all.")


class SendAgainIn(BaseModel):
    seqs: list[Seq] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="The set-aside records to send again; leave out for all.",
    )


class SendAgainOut(BaseModel):
    sent_again: list[int] = Field(description="Put back in line: the link sends them within seconds.")
    not_set_aside: list[int] = Field(description="Asked for, but not set aside (sent already?).")


@router.get("/api/outbox", summary="Records waiting to go upstream and those set aside (admin)")
def get_outbox(who: Admin, app: App, db: Db, limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> OutboxOut:
    waiting = backlog(db)
    return OutboxOut(
        pending=waiting["pending"],
        pending_bytes=waiting["pending_bytes"],
        oldest_pending_at=local(app.gw, waiting["oldest_pending_at"]),
        set_aside=[
            SetAsideOut(
                seq=row.seq,
                record_type=row.record_type,
                event_id=row.event_id,
                set_aside_at=local(app.gw, row.set_aside_at or None),
                reason=row.reason,
            )
            for row in set_aside(db, limit)
        ],
        set_aside_total=waiting["quarantined"],
    )


@router.post(
    "/api/outbox/send-again",
    summary="Send set-aside records again, once the cause is fixed (admin, audited)",
    description="The cause is what the record's reason says: the broker's ACL or its size limit. "
    "A record the broker still refuses is set aside again, with a new alarm.",
)
def post_send_again(body: SendAgainIn, who: Admin, app: App) -> SendAgainOut:
    gw = app.gw
    done = write(gw, lambda conn: send_again(conn, body.seqs, gw.now(), who.name))
    missing = sorted(set(body.seqs or []) - set(done))
    if body.seqs and not done:
        raise ApiError(
            404,
            "not_set_aside",
            f"not set aside: seq {', '.join(map(str, missing))}",
            "it may have been sent again already; GET /api/outbox lists the records set aside",
        )
    if done:
        app.hub.publish("alarms", {"changed": "outbox"})
    return SendAgainOut(sent_again=done, not_set_aside=missing)
