"""Who is asking: a guard's session cookie, or a machine client's API token; roles and CSRF.

Session cookies are HttpOnly and SameSite=Strict (Secure with TLS). A state change made with a
session must carry the session's CSRF token in the X-CSRF-Token header (pages send it from their
meta tag) or, for the login and logout forms, in a form field. Requests with an API token carry no
cookie a browser could be tricked into sending, so they need no CSRF token.
"""

from __future__ import annotations

import hmac
import sqlite3
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gateway.api.deps import Db, guard_app
from gateway.api.errors import ApiError
from gateway.store.accounts import Role, session_account, token_made_ahead, token_role

SESSION_COOKIE = "egw_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="An API token (egw_...) made by an admin")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="The session cookie the login page sets"
)


@dataclass(frozen=True, slots=True)
class Principal:
    name: str  # the audit trail's actor: a user name, or token:NAME
    shown_name: str
    role: Role
    via: Literal["session", "token"]
    account_id: int | None = None
    csrf: str = ""
    language: str = "zh"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def identify(
    request: Request, db: sqlite3.Connection, token: str | None, session: str | None
) -> Principal | None:
    gw = guard_app(request).gw
    now = gw.now()
    default_language = gw.site.config.site.language
    if token is not None:
        found = token_role(db, token, now)
        ahead = None if found is not None else token_made_ahead(db, token, now)
        if ahead is not None:
            name, made = ahead
            raise ApiError(
                401,
                "bad_token",
                f"the API token {name!r} was made while the gateway's clock was ahead ({made[:10]}): "
                "its expiry was counted from then, so it is refused now that the clock is right",
                "make a new token on the admin page (and revoke this one)",
            )
        if found is None:
            # A wrong token is an error, never a fall back to the cookie.
            raise ApiError(
                401,
                "bad_token",
                "the API token is unknown, revoked or expired",
                "ask an admin for a new token (admin page, API tokens)",
            )
        name, role = found
        return Principal(f"token:{name}", name, role, "token", language=default_language)
    if session and not gw.kept_sessions.ended(session):
        live = session_account(db, session, now, gw.site.config.http.session_hours)
        # Else one whose login storage refused (a card gone read-only): kept in memory till written.
        live = live or gw.kept_sessions.account(db, session)
        if live is not None:
            account, csrf = live
            return Principal(
                account.username,
                account.shown_name,
                account.role,
                "session",
                account.id,
                csrf,
                account.language or default_language,
            )
    return None


def _bearer_token(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    return bearer.credentials if bearer else None


# The API token sent as Authorization: Bearer ("bearer" in any case), None when none was sent.
BearerToken = Annotated[str | None, Depends(_bearer_token)]


def current(
    request: Request,
    db: Db,
    token: BearerToken,
    session: Annotated[str | None, Depends(_cookie)],
) -> Principal | None:
    return identify(request, db, token, session)


def _csrf_ok(request: Request, who: Principal) -> bool:
    sent = request.headers.get(CSRF_HEADER, "")
    return bool(who.csrf) and hmac.compare_digest(sent.encode(), who.csrf.encode())


def same_origin(request: Request) -> bool:
    """A browser's Origin, when it sends one, must be this gateway (defence in depth for CSRF)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def user(request: Request, who: Annotated[Principal | None, Depends(current)]) -> Principal:
    if who is None:
        raise ApiError(
            401,
            "login_required",
            "log in first",
            "log in on the guard page, or send an API token as Authorization: Bearer",
        )
    needs_csrf = request.method not in SAFE_METHODS and who.via == "session"
    if needs_csrf and not (same_origin(request) and _csrf_ok(request, who)):
        raise ApiError(
            403,
            "csrf",
            "the request is missing this session's CSRF token",
            "reload the page and try again (pages send it as X-CSRF-Token)",
        )
    return who


def admin(who: Annotated[Principal, Depends(user)]) -> Principal:
    if not who.is_admin:
        raise ApiError(
            403,
            "admin_only",
            "only an admin may do this",
            "ask the estate's admin; guards can look up but not manage",
        )
    return who


User = Annotated[Principal, Depends(user)]
Admin = Annotated[Principal, Depends(admin)]
