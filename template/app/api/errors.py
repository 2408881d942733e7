"""OpenAPI descriptions of the error responses, so clients see the real error schema."""

from typing import Any

from app.schema.errors import ErrorResponse

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (404, 409, 413, 422, 431, 503)
}
