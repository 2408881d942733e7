"""Rate limits: 429 with Retry-After past the limit, per caller, switchable, and open when
Redis is down."""

from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.settings import Settings
from app.db.database import Database
from app.main import create_app
from app.rate_limit.limiter import RateLimit
from app.state import app_state
from tests.redis_helpers import UNREACHABLE_REDIS

probe = APIRouter(
    prefix="/probe", dependencies=[Depends(RateLimit(times=5, seconds=60, name="probe"))]
)


@probe.get("/strict", dependencies=[Depends(RateLimit(times=2, seconds=30, name="strict"))])
async def strict() -> None:
    return None


@probe.get("/loose")
async def loose() -> None:
    return None


def build(settings: Settings, database: Database, **changes: Any) -> FastAPI:
    app = create_app(settings.model_copy(update=changes), database=database)
    app.include_router(probe)
    return app


async def statuses(app: FastAPI, path: str, times: int, ip: str = "10.0.0.1") -> list[int]:
    transport = ASGITransport(app=app, client=(ip, 1234))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        return [(await client.get(path)).status_code for _ in range(times)]


@pytest.fixture
def limited(app: FastAPI) -> FastAPI:
    app.include_router(probe)
    return app


async def test_past_the_limit_is_429_with_retry_after(limited: FastAPI) -> None:
    transport = ASGITransport(app=limited, client=("10.0.0.1", 1234))
    async with (
        limited.router.lifespan_context(limited),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        answers = [await client.get("/probe/strict") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 30


async def test_router_and_route_limits_both_apply(limited: FastAPI) -> None:
    assert await statuses(limited, "/probe/loose", 6) == [200] * 5 + [429]


async def test_each_client_has_its_own_budget(limited: FastAPI) -> None:
    assert await statuses(limited, "/probe/strict", 3, ip="10.0.0.1") == [200, 200, 429]
    assert await statuses(limited, "/probe/strict", 2, ip="10.0.0.2") == [200, 200]


async def test_limits_can_be_switched_off(settings: Settings, database: Database) -> None:
    app = build(settings, database, rate_limit_enabled=False)

    assert await statuses(app, "/probe/strict", 4) == [200] * 4


async def test_without_redis_requests_are_let_through(
    settings: Settings, database: Database
) -> None:
    app = build(settings, database, redis_url=UNREACHABLE_REDIS)

    assert await statuses(app, "/probe/strict", 4) == [200] * 4
    assert app_state(app).redis.failures == 1


@pytest.mark.parametrize(("times", "seconds", "name"), [(0, 60, "a"), (5, 0, "a"), (5, 60, "")])
def test_nonsense_limits_are_refused_at_import(times: int, seconds: int, name: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        RateLimit(times=times, seconds=seconds, name=name)


async def test_a_router_limit_is_one_budget_for_all_its_routes(limited: FastAPI) -> None:
    transport = ASGITransport(app=limited, client=("10.0.0.3", 1234))
    async with (
        limited.router.lifespan_context(limited),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        loose = [(await client.get("/probe/loose")).status_code for _ in range(4)]
        strict = (await client.get("/probe/strict")).status_code
        over = (await client.get("/probe/loose")).status_code

    assert loose == [200] * 4
    assert strict == 200  # the router's fifth request
    assert over == 429
