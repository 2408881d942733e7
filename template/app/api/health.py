"""Liveness (the process answers) and readiness (its dependencies answer)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 2.0

router = APIRouter(prefix="/health", tags=["health"])
log = structlog.get_logger(__name__)


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, Literal["ok", "unavailable"]] = {}


@router.get("/live")
async def live() -> Health:
    return Health(status="ok")


@router.get("/ready", responses={503: {"model": Health}})
async def ready(request: Request, response: Response) -> Health:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
    names = list(checks)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(checks[name](), CHECK_TIMEOUT_SECONDS) for name in names),
        return_exceptions=True,
    )
    results: dict[str, Literal["ok", "unavailable"]] = {}
    for name, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            log.warning("readiness_check_failed", check=name, error=type(outcome).__name__)
            results[name] = "unavailable"
        else:
            results[name] = "ok"
    if "unavailable" in results.values():
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", checks=results)
    return Health(status="ok", checks=results)
