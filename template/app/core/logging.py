"""Structured logging: one JSON object per line, request ids attached, secrets redacted."""

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog
from structlog.types import EventDict, Processor

# Keys whose values never reach a log line, whatever logs them.
SENSITIVE_KEYS = frozenset(
    {"authorization", "cookie", "password", "secret", "secret_key", "token", "access_token"}
)
REDACTED = "[redacted]"


def redact_sensitive(_: Any, __: str, event_dict: EventDict) -> EventDict:
    for key in event_dict.keys() & SENSITIVE_KEYS:
        event_dict[key] = REDACTED
    return event_dict


class _CurrentStdout:
    """Writes to whatever sys.stdout is at the time of writing. Loggers are cached on first
    use, so a stream fixed then would miss a later swap (pytest's capsys, reloaders)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def configure_logging(level: str, fmt: Literal["json", "console"]) -> None:
    """Route structlog and the standard library (uvicorn, SQLAlchemy) to one stdout stream."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_sensitive,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(file=_CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )

    handler = logging.StreamHandler(_CurrentStdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn installs its own handlers before the app is imported; send its records through
    # ours. Its access log is dropped: RequestContextMiddleware logs each request instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = name != "uvicorn.access"


def bind_request_id(request_id: str) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


def current_request_id() -> str | None:
    context: MutableMapping[str, Any] = structlog.contextvars.get_contextvars()
    value = context.get("request_id")
    return value if isinstance(value, str) else None
