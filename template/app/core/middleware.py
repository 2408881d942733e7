"""Request id, access log and the last-resort 500, as plain ASGI middleware (cheap)."""

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_response
from app.core.logging import bind_request_id

REQUEST_ID_HEADER = b"x-request-id"
# An incoming id is echoed only if it is short and safe to put in logs and headers.
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")

log = structlog.get_logger("app.access")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        bind_request_id(request_id)
        header = (REQUEST_ID_HEADER, request_id.encode())
        status = 0
        started = time.perf_counter()

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            # Answered here rather than by Starlette's outermost error middleware, so that
            # the 500 is in the error schema and carries the request id like any response.
            log.exception("unhandled_error", error=type(exc).__name__)
            if status:
                raise  # the response has started; all that is left is to drop the connection
            response = error_response(500, "internal_error", "An unexpected error occurred.")
            await response(scope, receive, send_with_request_id)
        finally:
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.fullmatch(value):
            return str(value.decode())
    return None
