"""The one error body every failing request gets, whatever failed."""

from pydantic import BaseModel


class ErrorDetail(BaseModel):
    loc: list[str | int]
    message: str
    type: str


class Error(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: Error
