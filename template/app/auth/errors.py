from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from app.core.errors import AppError
from app.schema.errors import ErrorResponse


class AuthenticationError(AppError):
    """Who is asking is unknown or not believed: log in (again)."""

    status_code = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"
    default_headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class PermissionDeniedError(AppError):
    """Who is asking is known, and may not do this."""

    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"


# For the OpenAPI description of routes that need a signed-in or privileged caller.
AUTH_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (401, 403)
}
