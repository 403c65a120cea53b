"""Logging in and out, and what a logged-in user may change about themselves."""

from __future__ import annotations

import hashlib
import hmac
import logging
import sqlite3
import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Cookie, Depends, Request, Response
from pydantic import BaseModel, Field

from gateway.accounts.passwords import (
    burn_time,
    hash_password,
    needs_rehash,
    password_refusal,
    typed_username,
    verify_password,
)
from gateway.accounts.ratelimit import LockedBy
from gateway.api.auth import CSRF_HEADER, SESSION_COOKIE, Principal, User, current, same_origin, user
from gateway.api.deps import App, Db, GuardApp, IdempotencyKey, KeyedWrites, made_once, saved, write
from gateway.api.errors import ApiError
from gateway.api.shapes import ERRORS
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.store.accounts import (
    Account,
    AccountChanged,
    create_session,
    find_account,
    rehash_password,
    update_account,
)

log = logging.getLogger(__name__)

Language = Literal["zh", "en"]
router = APIRouter(tags=["session"], responses=ERRORS)
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]
# Idempotency-Key -> the change of one's own password, per session that sent it (the last 100). The
# change ends that session: sent again after an answer lost on the Wi-Fi, the repeat was refused 401
# "log in first", and the guard, sent to the login with nothing said, typed the password he had just
# replaced, refused until the user name was locked out. The repeat is answered what the first did.
_changes: KeyedWrites[None] = KeyedWrites("password change", 100)


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    username: str
    display_name: str
    role: Literal["guard", "admin"]
    via: Literal["session", "token"]
    language: Literal["zh", "en"]
    csrf: str = Field("", description="Send as X-CSRF-Token with every change made with the cookie.")


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=1, max_length=256)


class LanguageChoice(BaseModel):
    language: Literal["zh", "en"]


class LoginLocked(ApiError):
    """429: the login limits refuse a check for `seconds`. `locked_by` says which limit: the
    user name's leaves other accounts free to log in meanwhile, the address's does not (the login
    page words the two apart, docs/guard-app.md)."""

    def __init__(self, seconds: int, locked_by: LockedBy):
        self.seconds, self.locked_by = seconds, locked_by
        if locked_by == "address":
            message = "too many failed logins from this address"
            fix = f"wait {seconds} seconds, then try again: until then no account logs in from this address"
        else:
            message = "too many failed logins for this user name"
            fix = f"wait {seconds} seconds, then try again, or log in with another account meanwhile"
        super().__init__(429, "too_many_attempts", message, fix, headers={"Retry-After": str(seconds)})


def log_in(app: GuardApp, db: Db, address: str, username: str, password: str) -> tuple[Account, str, str]:
    """Check the password (rate limited per address and user name); a new session on success."""
    # Read as the account's name before the limit too, so `guard1 ` and ｇｕａｒｄ１ count as guard1.
    account = _limited(app, db, address, typed_username(username), password)
    signed_in = None if account is None else _new_session(app, account, password, address)
    if signed_in is None:
        raise ApiError(
            401,
            "bad_login",
            "wrong user name or password",
            "check the keyboard language; an admin can reset the password",
        )
    return signed_in


def _password_checked(db: Db, username: str, password: str, address: str) -> Account | None:
    """The account, when `password` is its password and it may log in."""
    account = find_account(db, username)
    if account is None:
        burn_time()
        return None
    # A disabled account's password is checked too (the same time as burn_time): its login is
    # refused as a wrong password is, the client told nothing more, but the journal says it apart,
    # a dismissed guard (or whoever he gave his password to) trying it (Review 67 D2).
    right = verify_password(account.password_hash, password)
    if account.disabled:
        log.warning(
            "a login to the disabled account %r from %s, %s; refused (enable the account on the admin "
            "page if that person still works here)",
            account.username,
            address,
            "with its password" if right else "with a wrong password",
        )
        return None
    return account if right else None


def _new_session(
    app: GuardApp, account: Account, password: str, address: str = ""
) -> tuple[Account, str, str] | None:
    """A session for `account`, as it was when its password was checked; None when an admin has
    changed its password, role or state since (that change ends the account's sessions, this one too)."""
    gw = app.gw
    if needs_rehash(account.password_hash):
        fresh = hash_password(password)
        stored = _rehashed(gw, account, fresh)
        # Another login with this password (a second tablet, a double submit) may have stored its
        # own stronger hash first: that is no change of password. A reset stores a hash that this
        # password does not verify, and create_session then refuses the login.
        if stored is not None and (stored == fresh or verify_password(stored, password)):
            account = replace(account, password_hash=stored)
    hours = gw.site.config.http.session_hours
    try:
        token, csrf = write(gw, lambda c: create_session(c, gw.now(), account, hours, address))
    except AccountChanged:
        return None
    except sqlite3.Error as exc:
        # A card gone read-only, a full disk: the next shift must still log in to open by hand.
        # The session is kept in memory, its record waiting with the openings' (kept_sessions.py).
        kept = None
        if storage_failure(exc):
            kept = gw.kept_sessions.keep_login(account, gw.now(), hours, address, exc)
        if kept is None:
            raise
        token, csrf = kept
    return account, token, csrf


def _rehashed(gw: Gateway, account: Account, fresh: str) -> str | None:
    """rehash_password on the worker; None (the old hash kept, made stronger at a later login)
    where storage takes no writes: the login goes on without it."""
    try:
        return write(gw, lambda c: rehash_password(c, account.id, account.password_hash, fresh))
    except sqlite3.Error as exc:
        if not storage_failure(exc):
            raise
        log.warning("the password hash of %r not made stronger now: %s", account.username, exc)
        return None


def end_login(gw: Gateway, token: str, username: str) -> None:
    """A logout: the session ends at once; its record is written in turn with the records that
    wait for storage, or waits with them (kept_sessions.py): a guard leaving on a card gone
    read-only is logged out all the same."""
    saved(gw.kept_sessions.end(token, gw.now(), username))


def _limited(app: GuardApp, db: Db, address: str, username: str, password: str) -> Account | None:
    """_password_checked under the login limits (at login or changing a password): 429 while
    `username` or `address` has failed too often; a check under way counts until it proves right."""
    now = time.monotonic()
    wait = app.limiter.book_or_wait(address, username, now)
    if wait.locked_by is not None:
        raise LoginLocked(int(wait.seconds) + 1, wait.locked_by)
    passed: Account | None = None
    try:
        passed = _password_checked(db, username, password, address)
    finally:
        if passed is None:
            app.limiter.failed(address, username, now)
        else:
            app.limiter.succeeded(address, username, now)
    if passed is None:
        # For the admin of a locked-out account (docs/guard-app.md); the limit bounds these lines.
        # A name no account has is not written (review 61b): it is as likely a guard's password
        # typed in the user-name box, which the log would then hold in clear.
        known = find_account(db, username)
        if known is None:
            log.warning("a login under a user name no account has from %s (the name is not logged)", address)
        elif not known.disabled:  # a disabled one's is said by _password_checked
            log.warning("a wrong password for user %r from %s", username, address)
    return passed


def set_session_cookie(app: GuardApp, response: Response, token: str) -> None:
    http = app.gw.site.config.http
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(http.session_hours * 3600),
        path="/",
        httponly=True,
        samesite="strict",
        secure=http.tls,
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "/api/session",
    summary="Log in: sets the session cookie, returns the CSRF token",
    response_model=Me,
)
def login(body: Login, request: Request, response: Response, app: App, db: Db) -> Me:
    account, token, csrf = log_in(app, db, client_address(request), body.username, body.password)
    set_session_cookie(app, response, token)
    language = account.language or app.gw.site.config.site.language
    return Me(
        username=account.username,
        display_name=account.shown_name,
        role=account.role,
        via="session",
        language=cast(Language, language),
        csrf=csrf,
    )


@router.delete("/api/session", summary="Log out: ends this session", status_code=204)
def logout(
    who: User,
    app: App,
    response: Response,
    session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None,
) -> None:
    if who.via == "session" and session:
        end_login(app.gw, session, who.name)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/api/me", summary="Who is logged in", response_model=Me)
def me(who: User) -> Me:
    return Me(
        username=who.name,
        display_name=who.shown_name,
        role=who.role,
        via=who.via,
        language=cast(Language, who.language),
        csrf=who.csrf,
    )


def _sent_by(request: Request, session: str | None) -> str | None:
    """What names the session a change came from, the same once the change has ended it: its cookie
    and the CSRF token sent, hashed (a forged request has the cookie alone). None without both."""
    csrf = request.headers.get(CSRF_HEADER, "")
    if not session or not csrf:
        return None
    return hashlib.sha256(f"{session}\n{csrf}".encode()).hexdigest()


def _changer(
    request: Request,
    who: Annotated[Principal | None, Depends(current)],
    session: SessionCookie = None,
    idempotency_key: IdempotencyKey = None,
) -> Principal | None:
    """Who changes his password (as auth.user), or None for a repeat, from the page that made it,
    of a change that has ended its session: change_password answers what that change did."""
    sent_by = _sent_by(request, session)
    if who is not None or not (sent_by and idempotency_key and same_origin(request)):
        return user(request, who)
    return None if _changes.started(sent_by, idempotency_key) else user(request, who)


def _forgotten() -> Future[None]:
    # A repeat's change gone between _changer and here (failed, or the oldest of 100 made since).
    raise ApiError(401, "login_required", "log in first", "log in on the guard page")


@router.post("/api/me/password", summary="Change one's own password (ends its sessions)", status_code=204)
def change_password(
    body: PasswordChange,
    request: Request,
    who: Annotated[Principal | None, Depends(_changer)],
    app: App,
    db: Db,
    session: SessionCookie = None,
    idempotency_key: IdempotencyKey = None,
) -> None:
    sent_by = _sent_by(request, session) or ""
    # The form hashed with the session's cookie as key: what the key store keeps cannot be tried
    # against guessed passwords without that cookie, which it does not keep.
    asked = hmac.new((session or "").encode(), body.model_dump_json().encode(), "sha256").hexdigest()
    if who is None:
        # Sent again after the change ended this session: its current password is wrong since, and
        # checking it would count a failed login. Answered what the change did (a 204, or its error).
        made_once(_changes, sent_by, idempotency_key, asked, _forgotten)
        return
    if who.account_id is None:
        raise ApiError(
            400,
            "not_an_account",
            "API tokens have no password",
            "log in as the person to change their password, or ask an admin to reset it; a token's "
            "secret is changed by an admin making a new token and revoking this one (admin page, API tokens)",
        )
    # The current password is checked like a login, under the same limits: a session left open on
    # the booth tablet must not let anyone guess it without end.
    address = client_address(request)
    account = _limited(app, db, address, who.name, body.current)
    if account is None:
        raise ApiError(403, "bad_password", "the current password is wrong", "type it again")
    refusal = password_refusal(account.username, body.new)
    if refusal:
        raise ApiError(422, "weak_password", *refusal)
    actor, account_id, fresh = who.name, account.id, hash_password(body.new)

    def change(c: sqlite3.Connection) -> None:  # nothing kept for a repeat: not even the new hash
        update_account(c, app.gw.now(), actor, account_id, password_hash=fresh)

    # A repeat sent while this one is still being saved, its session still open, waits for it.
    made_once(_changes, sent_by, idempotency_key, asked, lambda: app.gw.on_worker(change))


@router.post("/api/me/language", summary="Choose the language of one's pages", status_code=204)
def choose_language(body: LanguageChoice, who: User, app: App) -> None:
    if who.account_id is None:
        raise ApiError(
            400,
            "not_an_account",
            "API tokens have no language setting",
            "log in as the person to choose the language of their pages, or ask an admin to set it "
            "on their account; a token is answered in the site's language ([site] language)",
        )
    account_id = who.account_id
    write(
        app.gw,
        lambda c: update_account(c, app.gw.now(), who.name, account_id, language=body.language),
    )
