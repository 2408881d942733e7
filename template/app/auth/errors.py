from collections.abc import Mapping
from http import HTTPStatus
from typing import ClassVar

from app.core.errors import AppError


class AuthenticationError(AppError):
    """Who is asking is unknown or not believed: log in (again)."""

    status_code = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"
    headers: ClassVar[Mapping[str, str]] = {"WWW-Authenticate": "Bearer"}


class PermissionDeniedError(AppError):
    """Who is asking is known, and may not do this."""

    status_code = HTTPStatus.FORBIDDEN
    code = "forbidden"
