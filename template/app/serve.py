"""Runs the service as its container does: `python -m app.serve --host 0.0.0.0 --port 8000`.

This is uvicorn with an orderly shutdown. On SIGTERM (or Ctrl+C) readiness answers 503 at
once while the listener goes on accepting and serving for SHUTDOWN_DRAIN_SECONDS, so that a
load balancer takes the process out of rotation before it stops answering; then the
listener closes, requests in flight get SHUTDOWN_TIMEOUT_SECONDS to finish, and the process
exits 0. A second signal cuts the drain short.
"""

import argparse
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.state import app_state

# The app is imported where it is used, not here: with WEB_CONCURRENCY, every worker
# process starts by importing this module, and one that takes too long to answer its
# supervisor (5 s) is killed as hung.
if TYPE_CHECKING:
    from fastapi import FastAPI

    from app.core.settings import Settings

log = structlog.get_logger(__name__)


class HeadLimitedProtocol(HttpToolsProtocol):
    """httptools, uvicorn's fast parser, buffers a request line and headers of any length
    (h11, its other one, stops at `h11_max_incomplete_event_size`): this one answers 431
    and closes the connection once a head still incomplete has passed that same limit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_limit = self.config.h11_max_incomplete_event_size or 16_384  # h11's default
        self.head_bytes = 0
        self.reading_head = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.reading_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > self.head_limit:
            from app.api.errors import error_response

            message = f"The request headers are larger than {self.head_limit} bytes."
            body = error_response(431, "headers_too_large", message).body
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()


class DrainingServer(uvicorn.Server):
    """uvicorn's server, with the drain put in front of its shutdown."""

    def __init__(self, settings: "Settings", **options: Any) -> None:
        super().__init__(uvicorn.Config(self.create_app, **options))
        self.settings = settings
        self.app: FastAPI | None = None
        self.drain_until: float | None = None

    def create_app(self) -> "FastAPI":
        from app.main import create_app

        self.app = create_app(self.settings)
        return self.app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.drain_until is None and self.app is not None:
            # Only flags are set here, in the signal handler; on_tick does the rest.
            app_state(self.app).draining = True
            self.drain_until = time.monotonic() + self.settings.shutdown_drain_seconds
        else:
            super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_until is not None and not self.should_exit:
            if counter % 10 == 0:  # once a second
                seconds_left = max(0.0, self.drain_until - time.monotonic())
                log.info("shutdown_draining", seconds_left=round(seconds_left, 1))
            self.should_exit = time.monotonic() >= self.drain_until
        return await super().on_tick(counter)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    from app.core.runtime import configure_process
    from app.core.settings import get_settings

    settings = get_settings()
    configure_process(settings)
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "access_log": False,  # the app logs every request itself
        "http": HeadLimitedProtocol,
        "h11_max_incomplete_event_size": settings.max_request_header_bytes,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
    }
    server = DrainingServer(settings, **options)
    # uvicorn reads WEB_CONCURRENCY itself. Several workers run under its own supervisor,
    # which stops them without the drain: that is for one process per container.
    if server.config.workers > 1:
        uvicorn.run("app.main:create_app", **options)
        return
    server.run()


if __name__ == "__main__":
    main()
