"""Every failure as an `ErrorResponse`: the exception handlers, and the OpenAPI
descriptions of the error responses, so clients see the real error schema.

The handlers turn an `AppError` into its status and code, and the framework's and the
database's errors into the same body: a conflict is a 409, data the database refuses a 422,
a database that is down (or not migrated) or a pool that is exhausted a 503 with
`Retry-After`.

Routers declare what their own logic answers (`ERROR_RESPONSES`, and the modules' 401,
403 and 429); `document_errors` adds what the framework answers for a route of that shape:
400 and 413 for a body it cannot decode or that is too large, 404 for a path parameter
naming nothing, 422 for any invalid input, and 431 (headers too large), 500 and 503
for every route.
"""

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.dependencies.utils import get_flat_params
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException

from app.core.errors import AppError, sqlstate
from app.core.logging import current_request_id
from app.db.problems import UNDEFINED_TABLE
from app.schema.errors import Error, ErrorDetail, ErrorResponse

log = structlog.get_logger(__name__)

# SQLSTATE classes: 23 is an integrity violation, 22 is data the column cannot hold.
_CONFLICT_SQLSTATES = frozenset({"23505", "23P01"})
# A database restart or failover takes seconds; clients that retry sooner only add load.
DATABASE_RETRY_AFTER_SECONDS = "2"

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (404, 409, 422, 503)
}


def document_errors(route: APIRoute) -> None:
    statuses = {431, 500, 503}
    if route.body_field is not None:
        statuses |= {400, 413, 422}
    if route.param_convertors:
        statuses.add(404)
    if get_flat_params(route.dependant):
        statuses.add(422)
    # What the route declares itself (/health/ready's 503, say) wins.
    route.responses = {
        **{status: {"model": ErrorResponse} for status in sorted(statuses)},
        **route.responses,
    }


def error_response(
    status: int, code: str, message: str, details: Sequence[ErrorDetail] = ()
) -> JSONResponse:
    body = ErrorResponse(
        error=Error(
            code=code, message=message, request_id=current_request_id(), details=list(details)
        )
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=int(status))


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
