"""The one error body every failing request gets, whatever failed."""

from pydantic import BaseModel

from app.core.errors import ErrorDetail

__all__ = ["Error", "ErrorDetail", "ErrorResponse"]


class Error(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: Error
