"""Rate limits as dependencies, on a router or a route:

    router = APIRouter(dependencies=[Depends(RateLimit(times=100, seconds=60, name="orders"))])

    @router.post("/token", dependencies=[Depends(RateLimit(times=5, seconds=60, name="login"))])

A fixed window per limit and per caller (see `caller_key`), counted in Redis: a limit on a
router is one budget for all its routes. The name identifies the budget, so it must be
unique and stable (every process of the service counts into the same one). Over the
limit: 429 with `Retry-After`. Redis unavailable: the request is let through (and the
failure logged): a limiter must not become the outage.
"""

from http import HTTPStatus
from typing import Any

from fastapi import Request
from redis.asyncio import Redis

from app.core.errors import AppError
from app.rate_limit.keys import caller_key
from app.redis import RedisGuard
from app.schema.errors import ErrorResponse
from app.state import app_state

# Count the hit and read the window's remaining time in one atomic round trip.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""


# For the OpenAPI description of rate-limited routes.
RATE_LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {429: {"model": ErrorResponse}}


class RateLimitedError(AppError):
    status_code = HTTPStatus.TOO_MANY_REQUESTS
    code = "rate_limited"


class RateLimiter:
    """The counters behind every `RateLimit`, over the shared Redis client."""

    def __init__(self, guard: RedisGuard, *, enabled: bool) -> None:
        self.guard = guard
        self.enabled = enabled
        self._hit = guard.client.register_script(_HIT)

    async def hit(self, key: str, seconds: int) -> tuple[int, int] | None:
        """(hits in the current window, seconds until it ends), or None if Redis failed."""

        async def hit(client: Redis) -> tuple[int, int]:
            count, ttl = await self._hit(
                keys=[self.guard.key("rate", key)], args=[seconds], client=client
            )
            return int(count), max(int(ttl), 1)

        return await self.guard.run(hit, "rate_limit.hit")


class RateLimit:
    def __init__(self, *, times: int, seconds: int, name: str) -> None:
        if times < 1 or seconds < 1 or not name:
            msg = "a rate limit needs times >= 1, seconds >= 1 and a name"
            raise ValueError(msg)
        self.times = times
        self.seconds = seconds
        self.name = name

    async def __call__(self, request: Request) -> None:
        limiter = app_state(request.app).rate_limiter
        if not limiter.enabled:
            return
        outcome = await limiter.hit(f"{self.name}:{caller_key(request)}", self.seconds)
        if outcome is None:
            return
        count, retry_after = outcome
        if count > self.times:
            raise RateLimitedError(
                f"Too many requests: at most {self.times} every {self.seconds} seconds.",
                headers={"Retry-After": str(retry_after)},
            )
