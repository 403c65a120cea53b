"""Accounts and API tokens: admins only."""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from datetime import timedelta
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from gateway.accounts.passwords import RESERVED_ACTORS, hash_password, password_refusal, username_problem
from gateway.api.auth import Admin
from gateway.api.deps import App, Db, Id, IdempotencyKey, KeyedWrites, local, made_once, read_only, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.errors import NotFound
from gateway.runtime.gateway import Gateway
from gateway.store import accounts as store
from gateway.typed import typed_text

log = logging.getLogger(__name__)
router = APIRouter(tags=["admin"], responses=ERRORS)
Role = Literal["guard", "admin"]
# Idempotency-Key -> the write that makes an account, per admin (the last 500). Sent again after an
# answer lost on the Wi-Fi, it was refused "the user name is taken, choose another": the guard got a
# second account under another name. The repeat is answered the account made.
_accounts: KeyedWrites[store.Account] = KeyedWrites("account")
# Idempotency-Key -> the write that makes an API token, per admin. Sent again, it was refused "a token
# named ... exists": a live token nobody saw, its name taken for good. The repeat is answered the
# same token, to the admin who made it alone; the token is held in memory for that (never logged,
# never stored), for the last TOKENS_KEPT made, as a retry comes within seconds. A token revoked
# meanwhile is 409 revoked_since, never shown "once" as if it worked (_token_kept).
TOKENS_KEPT = 20
_tokens: KeyedWrites[tuple[int, str]] = KeyedWrites("API token", TOKENS_KEPT)


class AccountIn(BaseModel):
    username: str = Field(min_length=2, max_length=32)
    # 40 characters once cleaned (the store judges it: a paste's invisible characters do not count);
    # this bound only keeps out a page of text.
    display_name: str = Field(
        "", max_length=200, description="Shown in the audit trail, e.g. 张师傅 (at most 40)."
    )
    role: Role = "guard"
    password: str = Field(min_length=1, max_length=256)
    language: Literal["zh", "en"] | None = None


class AccountChange(BaseModel):
    display_name: str | None = Field(None, max_length=200)  # 40 once cleaned, as AccountIn
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="A new password; ends the account's sessions.",
    )
    language: Literal["zh", "en"] | None = None


class AccountOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    language: Literal["zh", "en"] | None
    disabled: bool
    created_at: str | None = Field(description="When it was made, in the site's time (ISO 8601).")
    created_by: str = Field(
        description="Who made it: an admin's user name, `token:NAME`, or `cli:USER` for "
        "`gateway user add` (the installer's first admin)."
    )
    last_login_at: str | None = Field(
        description="Its last login, in the site's time; null: none on record (never, or not since "
        "the upgrade that began keeping it, where the audit trail held none)."
    )


def _out(gw: Gateway, account: store.Account) -> AccountOut:
    shown = account.public() | {
        "created_at": local(gw, account.created_at),
        "created_by": account.created_by,
        "last_login_at": local(gw, account.last_login_at),
    }
    return AccountOut(**shown)


class TokenIn(BaseModel):
    # The rules `gateway token add` checks too (store.token_name_problem, token_days_problem).
    name: str = Field(
        min_length=store.TOKEN_NAME_LENGTH[0],
        max_length=store.TOKEN_NAME_LENGTH[1],
        pattern=store.TOKEN_NAME_PATTERN,
        description="Names the machine client in the audit trail.",
    )
    role: Role = "guard"
    days: int | None = Field(
        None,
        ge=store.TOKEN_DAYS[0],
        le=store.TOKEN_DAYS[1],
        description="Expires after; none: until revoked.",
    )


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    token: str = Field(description="Shown once: store it in the client now.")


def _password(username: str, password: str) -> str:
    refusal = password_refusal(username, password)
    if refusal:
        raise ApiError(422, "weak_password", *refusal)
    return hash_password(password)


@router.get("/api/accounts", summary="Accounts (admin)", response_model=list[AccountOut])
def list_accounts(who: Admin, app: App, db: Db) -> list[AccountOut]:
    return [_out(app.gw, a) for a in store.list_accounts(db)]


@router.post(
    "/api/accounts",
    summary="Add a guard or admin account (admin)",
    status_code=201,
    response_model=AccountOut,
)
def add_account(body: AccountIn, who: Admin, app: App, idempotency_key: IdempotencyKey = None) -> AccountOut:
    problem = username_problem(body.username)
    if problem:
        code = "reserved_username" if body.username.lower() in RESERVED_ACTORS else "bad_username"
        raise ApiError(422, code, problem, "choose another user name")
    hashed, gw = _password(body.username, body.password), app.gw
    shown = typed_text(body.display_name)  # as typed, but for a paste's invisible characters

    def create(c: sqlite3.Connection) -> store.Account:  # made and read back in one turn (_create)
        aid = store.create_account(
            c, gw.now(), who.name, body.username, shown, body.role, hashed, body.language
        )
        return store.get_account(c, aid)

    asked = body.model_dump_json()
    made, again = made_once(_accounts, who.name, idempotency_key, asked, lambda: gw.on_worker(create))
    return _out(gw, _account_kept(gw, who.name, idempotency_key, made) if again else made)


def _account_kept(gw: Gateway, admin: str, key: str | None, made: store.Account) -> store.Account:
    """A repeat's account as it stands (disabled since, say), read on a connection of its own, as a
    repeated pass is (passes._as_it_stands); gone, it is 409 deleted_since, and the key names nothing,
    so that the form sent again makes it anew. Not read (the file locked), it is answered as made."""
    try:
        with closing(read_only(gw)) as db:
            now = store.get_account(db, made.id)
    except NotFound:
        now = None
    except sqlite3.Error as exc:
        log.warning("account %s made earlier answered as made: it could not be read again: %s", made.id, exc)
        return made
    if now is not None and now.username == made.username:  # an id deleted is taken by the next one
        return now
    if key:
        _accounts.forget(admin, key)
    raise ApiError(
        409,
        "deleted_since",
        f"the account {made.username!r} this form made was deleted after it was made",
        "send the form again to make it as a new one",
    )


@router.patch(
    "/api/accounts/{account_id}",
    summary="Change an account: role, name, password, disabled (admin)",
    response_model=AccountOut,
)
def change_account(account_id: Id, body: AccountChange, who: Admin, app: App, db: Db) -> AccountOut:
    gw = app.gw
    target = store.get_account(db, account_id)
    hashed = _password(target.username, body.password) if body.password is not None else None
    done = write(
        gw,
        lambda c: store.update_account(
            c,
            gw.now(),
            who.name,
            account_id,
            role=body.role,
            disabled=body.disabled,
            display_name=None if body.display_name is None else typed_text(body.display_name),
            password_hash=hashed,
            language=body.language,
        ),
    )
    if hashed is not None:
        # The reset is what the locked-out guard's 401 points to (session.py): it lifts the lock.
        app.limiter.forget_user(done.username)
    return _out(gw, done)


@router.get("/api/tokens", summary="API tokens for machine clients (admin)")
def list_tokens(who: Admin, app: App, db: Db) -> list[dict[str, Any]]:
    rows = store.list_tokens(db)
    for row in rows:
        for key in ("created_at", "expires_at", "revoked_at"):
            row[key] = local(app.gw, row[key])
    return rows


@router.post(
    "/api/tokens",
    summary="Make an API token; it is shown once (admin)",
    status_code=201,
    response_model=TokenOut,
)
def add_token(body: TokenIn, who: Admin, app: App, idempotency_key: IdempotencyKey = None) -> TokenOut:
    gw = app.gw
    expires = gw.now() + timedelta(days=body.days) if body.days else None

    def create(c: sqlite3.Connection) -> tuple[int, str]:
        return store.create_token(c, gw.now(), who.name, body.name, body.role, expires)

    asked = body.model_dump_json()
    (tid, token), again = made_once(_tokens, who.name, idempotency_key, asked, lambda: gw.on_worker(create))
    if again:
        _token_kept(gw, who.name, idempotency_key, tid, token)
    return TokenOut(id=tid, name=body.name, role=body.role, token=token)


def _token_kept(gw: Gateway, admin: str, key: str | None, tid: int, token: str) -> None:
    """A repeat's token is live still, read on a connection of its own: revoked since (by the admin
    who saw in the list a token he was never shown), it was answered 201 "shown once", and every
    call made with it was refused 401. It is 409 revoked_since, and the key names nothing. Not read
    (the file locked), it is answered as made."""
    try:
        with closing(read_only(gw)) as db:
            row = db.execute(
                "SELECT revoked_at FROM api_tokens WHERE id = ? AND token_hash = ?",
                (tid, store.digest(token)),
            ).fetchone()
    except sqlite3.Error as exc:
        log.warning("API token %s made earlier answered as made: it could not be read again: %s", tid, exc)
        return
    if row is not None and row[0] is None:
        return
    if key:
        _tokens.forget(admin, key)
    raise ApiError(
        409,
        "revoked_since",
        "the API token this form made was revoked after it was made: it works no more",
        "make a new token, under a new name (the revoked one keeps its name in the audit trail)",
    )


@router.delete("/api/tokens/{token_id}", summary="Revoke an API token (admin)", status_code=204)
def revoke_token(token_id: Id, who: Admin, app: App) -> None:
    gw = app.gw
    write(gw, lambda c: store.revoke_token(c, gw.now(), who.name, token_id))
