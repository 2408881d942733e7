"""`FlatRouters`: the app's routers, each included straight into the app.

An `APIRouter` that gathers the others and is itself included into the app is the usual
layout, but FastAPI matches a request again at every level of included routers: that
second level cost a sixth of the instructions of a cheap request (docs/performance.md in
the template's repository). `FlatRouters` takes the same `include_router` calls and hands
them to the app itself.
"""

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app.api.errors import document_errors
from app.api.methods import MethodFallback


class FlatRouters:
    def __init__(self) -> None:
        self._included: list[tuple[APIRouter, dict[str, Any]]] = []

    def include_router(self, router: APIRouter, **options: Any) -> None:
        """Takes `FastAPI.include_router`'s options (prefix, tags, dependencies, ...)."""
        self._included.append((router, options))

    def include_into(self, app: FastAPI) -> None:
        for router, options in self._included:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    document_errors(route)
            app.include_router(router, **options)
        # Last, so that it sees only requests no other route takes (app/api/methods.py).
        app.router.routes.append(MethodFallback(app.router.routes))
