"""OpenAPI descriptions of the error responses, so clients see the real error schema.

Routers declare what their own logic answers (`ERROR_RESPONSES`, and the modules' 401,
403 and 429); `document_errors` adds what the framework answers for a route of that shape:
400 and 413 for a body it cannot decode or that is too large, 404 for a path parameter
naming nothing, 422 for any invalid input, and 431 (headers too large), 500 and 503
for every route.
"""

from typing import Any

from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute

from app.schema.errors import ErrorResponse

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
