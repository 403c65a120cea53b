"""A request's body is bounded: one large POST, from anything on the estate's network and before
any login, was read whole into the lanes' process (a 300 MB body to /api/session took the
gateway's memory to 1 GB, 3.3 times the body), and on a 1-2 GB box the kernel's OOM killer ended
the gateway, every lane with it (Review 66 G). The largest body a tablet or the API sends is a few
KB; the centre's big lists come over MQTT, bounded there by max_received_kb. Pure ASGI: a body
declared too large (Content-Length) is answered 413 unread; one sent in chunks is counted as it
is read and answered 413 once past the bound, what came so far dropped."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.errors import HTTP_ERRORS, error_body

MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = f"the request's body is over {MAX_BODY_BYTES // 1024} KB, the most the gateway takes"


class BodyTooLarge(HTTPException):
    """Raised as a chunked body's reading passes the bound: FastAPI passes an HTTPException met
    reading a body on as it is (any other it answers 400), and the app answers it as any 413."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


def _too_large() -> JSONResponse:
    code, fix = HTTP_ERRORS[413]
    return JSONResponse(error_body(code, TOO_LARGE, fix), status_code=413)


class BodiesBounded:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _too_large()(scope, receive, send)
            return
        taken = 0
        started = False

        async def counted() -> Message:
            nonlocal taken
            message = await receive()
            if message["type"] == "http.request":
                taken += len(message.get("body", b""))
                if taken > MAX_BODY_BYTES:
                    raise BodyTooLarge
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge:
            if started:
                raise
            await _too_large()(scope, receive, send)
