"""One error shape for the whole HTTP API: {"error": {"code", "message", "fix"}}.

An error about a form's fields adds "fields": the names of the fields at fault, so that a page names
them in its own language (the message is English, for API clients and the log). An error of the
gateway's may add data the page words too (GatewayError.data: "tickets", the tickets of the cars with
no plate inside; "left_at", when a car left; a 503 storage_failed's "state", why it was not stored;
"by" and "at", who did a change done already and when).

A browser opening a guard page (not under /api/) is answered a page in the guard's language
instead (`answer`, with the page the guard app gives): a missing pass, an address mistyped.

A fault of the gateway's own (an exception nothing here handles: a bug) is 500 `internal_error`
in the same shape, its traceback in the journal (AnswerFaults), never Starlette's plain-text
"Internal Server Error", which the pages could only show in English.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import GatewayError
from gateway.store.database import storage_cause, storage_fix

log = logging.getLogger(__name__)

# /openapi.json, not /docs: the Swagger page loads its script from the internet, which a booth
# often cannot reach (docs/guard-app.md).
SCHEMA_FIX = "see the OpenAPI schema at /openapi.json for the expected shape"
HTTP_ERRORS = {
    413: (
        "body_too_large",
        "send less: no form or API call of the gateway needs more (registers go up by gateway "
        "import or the centre's MQTT entries)",
    ),
    404: ("not_found", "check the address against the paths in the OpenAPI schema at /openapi.json"),
    405: (
        "method_not_allowed",
        "use a method the address allows: the Allow header, or the OpenAPI schema at /openapi.json",
    ),
    401: ("unauthorized", "log in, or send an API token as Authorization: Bearer egw_..."),
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fix: str = "",
        headers: dict[str, str] | None = None,
        fields: list[str] | None = None,
        data: Mapping[str, Any] | None = None,
    ):
        self.status, self.code, self.message, self.fix = status, code, message, fix
        self.headers = headers
        self.fields = fields
        self.data = data  # what the pages word besides the code (error_body)


# A reason is what the audit trail keeps for a fee let go or corrected: spaces say nothing.
LEAST_REASON = 2


def reason_given(reason: str) -> str:
    """A reason stripped, refused as too short (`reason_required`, naming the field and its least,
    as a reason left out is told by _invalid) when only spaces make it long enough: a model's
    min_length counts them, and a stay closed, its fee let go, for "   " says nothing."""
    stripped = reason.strip()
    if len(stripped) < LEAST_REASON:
        raise ApiError(
            422,
            "reason_required",
            f"reason: {len(stripped)} characters besides spaces, {LEAST_REASON} needed",
            f"say why, in {LEAST_REASON} characters or more",
            fields=["reason"],
            data={"least": LEAST_REASON},
        )
    return stripped


def error_body(
    code: str,
    message: str,
    fix: str = "",
    fields: list[str] | None = None,
    data: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    error: dict[str, Any] = {**(data or {}), "code": code, "message": message, "fix": fix}
    if fields:
        error["fields"] = fields
    return {"error": error}


# A guard page's error as a page (api/guard.py sets it on app.state.error_page): (request, status,
# the body's "error") -> the page, in the guard's language, with a link back.
ErrorPage = Callable[[Request, int, Mapping[str, Any]], Response]


def wants_page(request: Request) -> bool:
    """A browser opening a guard page (/passes/999, /audit?before=abc, an address mistyped), not a
    program calling the API: it is answered a page it can read, the API the one error shape."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/")) and "text/html" in request.headers.get("accept", "")


def answer(
    request: Request, body: dict[str, dict[str, Any]], status: int, headers: Mapping[str, str] | None = None
) -> Response:
    page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    if page is not None and wants_page(request):
        shown = page(request, status, body["error"])
        shown.headers.update(headers or {})  # a Retry-After, an Allow: true of the page too
        return shown
    return JSONResponse(body, status_code=status, headers=headers)


def storage_failed(exc: sqlite3.Error, data_dir: Path) -> dict[str, dict[str, Any]]:
    """The answer to a change the database of `data_dir` did not take: its fix by the cause, as the
    journal words it (database.storage_fix), and the cause as the error's `state` (full, unwritable,
    locked, damaged), which the pages word (err.storage_failed.<state>): only a full disk sends the
    guard to free disk space, as the live panel's words of a decision refused so do."""
    cause = storage_cause(exc, data_dir)
    return error_body(
        "storage_failed",
        f"the gateway could not store this, and nothing of it was changed: {exc}",
        f"{storage_fix(cause, data_dir)}; then try again",
        data={"state": cause},
    )


# A fault's answer: the change may have been stored before it (an answer that failed to be made),
# so the fix is to look before doing it again, as for an answer lost on the Wi-Fi.
FAULT = error_body(
    "internal_error",
    "the gateway failed on this request (a fault of its own, in its log with its traceback)",
    "reload to see whether it was done before doing it again; if it happens again, tell the "
    "installer, with the time, to read the gateway's log",
)


class AnswerFaults:
    """An exception no handler took, answered FAULT (a page, for a browser opening a guard page)
    and logged once with its traceback. Not an exception handler for Exception: Starlette raises
    the exception again after that one answers, and uvicorn then logs it a second time. Pure ASGI,
    so the live stream passes untouched; a fault after the answer began is left to the server."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            log.error("a fault answering %s %s", scope["method"], scope["path"], exc_info=exc)
            await answer(Request(scope), FAULT, 500)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    from gateway.api.body_limit import BodiesBounded  # it words its answer with error_body, here

    app.add_middleware(AnswerFaults)
    app.add_middleware(BodiesBounded)  # added last, so outermost: a body too large meets it first

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        body = error_body(exc.code, exc.message, exc.fix, exc.fields, exc.data)
        return answer(request, body, exc.status, exc.headers)

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        # Errors of the store and the runtime carry their HTTP status (500 unless they say), and
        # some the fields at fault (ParkingError, a new resident's fields left out).
        fields = getattr(exc, "fields", None)
        return answer(
            request, error_body(exc.http_code, exc.message, exc.fix, fields, exc.data), exc.http_status
        )

    @app.exception_handler(sqlite3.IntegrityError)
    async def _clash(request: Request, exc: sqlite3.IntegrityError) -> Response:
        # A constraint the store did not check first: the request clashes with a stored row.
        log.warning("a change clashes with what is stored: %s", exc)
        return answer(
            request,
            error_body(
                "conflict",
                f"this clashes with what is stored, and nothing of it was changed: {exc}",
                "look for a duplicate (the same plate, card or number given twice, or already "
                "registered) and send it once",
            ),
            409,
        )

    @app.exception_handler(sqlite3.Error)
    async def _storage_error(request: Request, exc: sqlite3.Error) -> Response:
        # A change is one transaction: when it cannot be written, none of it was (a full disk,
        # a read-only or failing card, the database held or damaged).
        log.error("a change could not be stored: %s", exc)
        return answer(request, storage_failed(exc, request.app.state.gateway.data_dir), 503)

    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, exc: OverflowError) -> Response:
        # A date at the end of Python's calendar (a report for 9999-12-31) that no bound on the
        # request caught: the request is out of range, the gateway is not at fault.
        log.warning("out of range: %s %s: %s", request.method, request.url.path, exc)
        return answer(
            request,
            error_body(
                "invalid_request",
                f"a date or number in the request is out of range: {exc}",
                "use a date between the years 2000 and 2200",
            ),
            422,
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # Raised by the router, not by a route of ours: an address or method the API does not have.
        code, fix = HTTP_ERRORS.get(exc.status_code, ("http_error", ""))
        return answer(
            request, error_body(code, str(exc.detail), fix), exc.status_code, getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        field = _field_left_short(first)
        if field in FIELDS_WITH_CODES:
            code, fix = FIELDS_WITH_CODES[field]
            # A required field left out ("missing") has no least of its own: one character.
            least = first.get("ctx", {}).get("min_length") or 1
            said = f"{fix}, in {_characters(least)} or more"
            body = error_body(code, message, said, [field], {"least": least})
            return answer(request, body, 422)
        field = _field_too_long(request, first)
        if field is not None:
            longest = _characters(first.get("ctx", {}).get("max_length"))
            said = f"type {field} again: at most {longest}"
            body = error_body("invalid_value", f"{field} is longer than {longest}", said, [field])
            return answer(request, body, 422)
        return answer(request, error_body("invalid_request", message, SCHEMA_FIX), 422)


# A field of a request's body left empty or too short that the pages word on its own, as the route
# checking it further says it: a reason of one character for 登记场内车辆 or 已离场 is told to be the
# reason (请填写原因，至少 2 个字: the error's `least`), not "something typed is not valid" naming no field.
# A field that takes more than one character is declared with the default "" and validate_default, so
# that one left out is too short, with its least, rather than "missing" with none (told 1, then refused).
FIELDS_WITH_CODES = {"reason": ("reason_required", "say why")}
_LEFT_SHORT = {"missing", "string_too_short"}


def _characters(count: int) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def _field_too_long(request: Request, error: Mapping[str, Any]) -> str | None:
    """The body field of an API request a validation error finds longer than its limit (maxLength in
    /openapi.json), as a form's fields are named: `name`, `occupants.2.name`. Said `invalid_value`
    naming it, as the register's own check says a resident's name too long (registry._as_imported),
    not `invalid_request` naming nothing. A guard page's form (the login) keeps its own words."""
    loc = tuple(error.get("loc", ()))
    if (
        request.url.path.startswith("/api/")
        and len(loc) >= 2
        and loc[0] == "body"
        and error.get("type") == "string_too_long"
    ):
        return ".".join(str(p) for p in loc[1:])
    return None


def _field_left_short(error: Mapping[str, Any]) -> str | None:
    """The body field a validation error is about, where it was left empty or too short."""
    loc = tuple(error.get("loc", ()))
    if len(loc) == 2 and loc[0] == "body" and error.get("type") in _LEFT_SHORT:
        return str(loc[1])
    return None
