"""Application errors and the handlers that turn every failure into an `ErrorResponse`."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from app.core.logging import current_request_id
from app.db.problems import UNDEFINED_TABLE
from app.schema.errors import Error, ErrorDetail, ErrorResponse

log = structlog.get_logger(__name__)

# SQLSTATE classes: 23 is an integrity violation, 22 is data the column cannot hold.
_CONFLICT_SQLSTATES = frozenset({"23505", "23P01"})
# A database restart or failover takes seconds; clients that retry sooner only add load.
DATABASE_RETRY_AFTER_SECONDS = "2"


class AppError(Exception):
    """An error the client can act on. Subclasses set the status and the code."""

    status_code = HTTPStatus.BAD_REQUEST
    code = "bad_request"
    default_headers: ClassVar[Mapping[str, str]] = {}
    # Most refusals undo the request's writes. One whose side effect is the point (revoking
    # stolen credentials, say) sets this, and the request's transaction is committed.
    keeps_changes: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        details: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.headers = {**self.default_headers, **(headers or {})}


class NotFoundError(AppError):
    status_code = HTTPStatus.NOT_FOUND
    code = "not_found"


class ConflictError(AppError):
    status_code = HTTPStatus.CONFLICT
    code = "conflict"


class InvalidRequestError(AppError):
    status_code = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_error"


def error_response(
    status: int, code: str, message: str, details: Sequence[ErrorDetail] = ()
) -> JSONResponse:
    body = ErrorResponse(
        error=Error(
            code=code, message=message, request_id=current_request_id(), details=list(details)
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=int(status))


def sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    response = error_response(exc.status_code, exc.code, exc.message, exc.details)
    response.headers.update(exc.headers)
    return response


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    status = HTTPStatus(exc.status_code)
    code = status.phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else status.phrase
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is left out on purpose: it may be a password.
    details = [
        ErrorDetail(loc=list(error["loc"]), message=error["msg"], type=error["type"])
        for error in exc.errors()
    ]
    return error_response(422, "validation_error", "The request is invalid.", details)


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    state = sqlstate(exc) or ""
    if isinstance(exc, IntegrityError) and state in _CONFLICT_SQLSTATES:
        return error_response(409, "conflict", "The request conflicts with existing data.")
    if state.startswith(("22", "23")):
        log.warning("rejected_by_database", sqlstate=state)
        return error_response(422, "validation_error", "The database rejected the data.")
    if state == UNDEFINED_TABLE:
        # Not an outage but a database nobody migrated: the log says what to run.
        log.error("database_not_migrated", sqlstate=state, hint="run `make migrate`")
    else:
        log.error("database_unavailable", sqlstate=state, error=type(exc.orig).__name__)
    return _unavailable("The database is unavailable.")


async def _pool_timeout(_: Request, __: Exception) -> JSONResponse:
    log.error("database_pool_exhausted")
    return _unavailable("The service is overloaded; retry shortly.")


def _unavailable(message: str) -> JSONResponse:
    response = error_response(503, "service_unavailable", message)
    response.headers["Retry-After"] = DATABASE_RETRY_AFTER_SECONDS
    return response


def register_error_handlers(app: FastAPI) -> None:
    handlers: dict[type[Exception], Any] = {
        AppError: _app_error,
        HTTPException: _http_error,
        RequestValidationError: _validation_error,
        DBAPIError: _database_error,
        PoolTimeoutError: _pool_timeout,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)
