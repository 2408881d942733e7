"""Liveness (the process answers) and readiness (its dependencies answer)."""

import asyncio
from typing import Literal

import structlog
from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.state import app_state

CHECK_TIMEOUT_SECONDS = 2.0
Status = Literal["ok", "degraded", "unavailable"]

router = APIRouter(prefix="/health", tags=["health"])
log = structlog.get_logger(__name__)


class Health(BaseModel):
    status: Status
    checks: dict[str, Literal["ok", "unavailable"]] = {}


@router.get("/live")
async def live() -> Health:
    return Health(status="ok")


@router.get("/ready", responses={503: {"model": Health}})
async def ready(request: Request, response: Response) -> Health:
    # Shutting down (app.serve sets this on SIGTERM): not ready, so that the load balancer
    # sends new requests elsewhere while this process still serves what reaches it.
    state = app_state(request.app)
    if state.draining:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable")
    checks = state.readiness_checks
    names = list(checks)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(checks[name].probe(), CHECK_TIMEOUT_SECONDS) for name in names),
        return_exceptions=True,
    )
    results: dict[str, Literal["ok", "unavailable"]] = {}
    overall: Status = "ok"
    for name, outcome in zip(names, outcomes, strict=True):
        if not isinstance(outcome, BaseException):
            results[name] = "ok"
            continue
        log.warning("readiness_check_failed", check=name, error=type(outcome).__name__)
        results[name] = "unavailable"
        if checks[name].critical:
            overall = "unavailable"
        elif overall == "ok":
            overall = "degraded"
    if overall == "unavailable":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status=overall, checks=results)
