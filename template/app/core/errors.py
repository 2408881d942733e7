"""The errors the application raises, each with the status and code the client gets.

`app.api.errors` turns them, and every other failure, into an `ErrorResponse`.
"""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError


class ErrorDetail(BaseModel):
    """One thing wrong with the input, as an error carries it and its response shows it."""

    loc: list[str | int]
    message: str
    type: str


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


def sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None
