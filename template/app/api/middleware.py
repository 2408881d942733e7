"""Request id, access log, the last-resort 500 and request size limits, as plain ASGI
middleware (cheap)."""

import re
import time
import uuid

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.core.logging import bind_request_id
from app.state import AppState, use_app_state

REQUEST_ID_HEADER = b"x-request-id"
CONTENT_LENGTH_HEADER = b"content-length"
TRANSFER_ENCODING_HEADER = b"transfer-encoding"
_HTTP1 = frozenset({"1.0", "1.1"})
# An incoming id is echoed only if it is short and safe to put in logs and headers.
_VALID_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")

log = structlog.get_logger("app.access")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        bind_request_id(request_id)
        use_app_state(self.state)
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
                client=scope["client"][0] if scope.get("client") else None,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.fullmatch(value):
            return str(value.decode())
    return None


class RequestLimitsMiddleware:
    """Refuses a request whose headers or body are over the limits before anything parses
    it: headers over `max_header_bytes` get 431; a declared Content-Length over
    `max_body_bytes` gets 413 without a byte of the body read; a body of unknown length is
    counted as it streams in and cut off with 413 as soon as it passes the limit."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = 0
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            if name == CONTENT_LENGTH_HEADER:
                declared = value
            elif name == TRANSFER_ENCODING_HEADER:
                chunked = True
        if size > self.max_header_bytes:
            message = f"The request headers are larger than {self.max_header_bytes} bytes."
            await error_response(431, "headers_too_large", message)(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse_body(scope, receive, send)
            return
        # The server passes on no more than a declared length, and in HTTP/1 a request with
        # neither length nor transfer coding has no body: only the rest need counting.
        if not chunked and (declared is not None or scope.get("http_version") in _HTTP1):
            await self.app(scope, receive, send)
            return

        received = 0
        started = cut_off = answered = False

        async def counted_receive() -> Message:
            nonlocal received, cut_off, answered
            if cut_off:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] != "http.request":
                return message
            received += len(message.get("body", b""))
            if received <= self.max_body_bytes:
                return message
            cut_off = True
            if not started:
                await self._refuse_body(scope, receive, send)
                answered = True
            # To the app the client has gone away, so it stops reading; what it answers
            # instead is dropped, as the 413 has gone out in its place.
            return {"type": "http.disconnect"}

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = True
            await send(message)

        await self.app(scope, counted_receive, tracked_send)

    async def _refuse_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_body_bytes} bytes."
        await error_response(413, "payload_too_large", message)(scope, receive, send)
