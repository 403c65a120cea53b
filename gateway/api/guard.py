"""The guard app mounted on the gateway's API: pages, static files, routes, live push, security."""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import closing

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.accounts.ratelimit import LoginLimiter
from gateway.api import (
    admin,
    clips,
    corrections,
    lanes,
    materials,
    outbox,
    passes,
    payments,
    registry,
    session,
    shift,
    site,
)
from gateway.api.deps import GuardApp
from gateway.api.errors import answer, error_body
from gateway.api.hub import Hub
from gateway.api.pages import STATIC_DIR, LoginRequired, error_page
from gateway.api.pages import router as pages_router
from gateway.api.views import from_event
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import LaneRecord, Recorded
from gateway.store.alarms import to_acknowledge
from gateway.store.database import open_read_only

log = logging.getLogger(__name__)

# Every script, style and image comes from the gateway itself; nothing inline runs.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Pure ASGI (no buffering), so the live stream passes through untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        docs = path.startswith(("/docs", "/redoc"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + _HEADERS
                if not docs:
                    headers.append((b"content-security-policy", CSP.encode()))
                if path.startswith("/static/"):
                    # Pages name static files with their content hash (?v=): tablets keep them.
                    headers.append((b"cache-control", b"public, max-age=604800, immutable"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _open_alarms(gw: Gateway) -> int:
    with closing(open_read_only(gw.db_path, 2)) as conn:
        return to_acknowledge(conn)


def install_guard_app(app: FastAPI, gw: Gateway) -> GuardApp:
    hub = Hub(status=lambda: {**lanes.lanes_status(gw), "alarms": _open_alarms(gw)})
    guard = GuardApp(gw, hub, LoginLimiter())
    app.state.guard = guard
    app.state.error_page = error_page  # a guard page's error is a page for the guard (errors.answer)

    def push(ev: AccessEvent) -> None:
        if hub.clients:
            hub.publish("access", from_event(gw, ev), ev.event_id)

    gw.subscribe(push)

    def push_action(record: LaneRecord, done: Recorded) -> None:
        if (action := lanes.pushed_action(gw, record, done)) is not None:  # rare: no page count asked
            hub.publish("action", action)

    gw.by_hand.subscribe(push_action)
    for module in (
        session,
        lanes,
        corrections,
        passes,
        materials,
        registry,
        site,
        admin,
        outbox,
        shift,
        payments,
    ):
        app.include_router(module.router)
    app.include_router(pages_router)
    app.include_router(shift.page_router)
    app.include_router(clips.page_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(_: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={exc.next_path}", status_code=303)

    # A change not begun in time was called off (deps.saved), so it is not saved later: "did not
    # save this" holds. One already being saved is answered still_saving instead.
    @app.exception_handler(FutureTimeout)
    async def _busy(request: Request, exc: FutureTimeout) -> Response:
        log.error("a change waited too long for the decision worker")
        return answer(
            request,
            error_body(
                "busy",
                "the gateway is busy and did not save this",
                "try again in a moment; if it persists, check the gateway log",
            ),
            503,
        )

    app.add_middleware(SecurityHeaders)
    return guard
