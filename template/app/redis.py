"""The one Redis client the modules share, and a guard for callers that can do without it."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.core.readiness import ReadinessCheck
from app.state import AppState

T = TypeVar("T")
log = structlog.get_logger(__name__)

# After a failure Redis is left alone this long, so an outage costs one timeout, not one
# per request.
COOLDOWN_SECONDS = 5.0


class RedisGuard:
    """Runs Redis commands for callers that can do without them: a failure is logged,
    counted and answered with None (the caller's fallback), and Redis is skipped until the
    cooldown has passed."""

    def __init__(self, client: Redis, prefix: str, cooldown: float = COOLDOWN_SECONDS) -> None:
        self.client = client
        self.prefix = prefix
        self.cooldown = cooldown
        self.failures = 0
        self._retry_at = 0.0

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def run(self, operation: Callable[[Redis], Awaitable[T]], what: str) -> T | None:
        if time.monotonic() < self._retry_at:
            return None
        try:
            return await operation(self.client)
        except (RedisError, OSError, TimeoutError) as exc:
            self.failures += 1
            self._retry_at = time.monotonic() + self.cooldown
            log.warning(
                "redis_unavailable",
                operation=what,
                error=type(exc).__name__,
                failures=self.failures,
            )
            return None


@asynccontextmanager
async def redis_client(state: AppState) -> AsyncIterator[None]:
    """The lifespan's part: one connection pool for the process. Nothing connects yet, so
    the service starts (degraded) even when Redis is down."""
    settings = state.settings
    client = Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
    )
    state.redis = RedisGuard(client, settings.redis_key_prefix)
    state.readiness_checks["redis"] = ReadinessCheck(client.ping, critical=False)
    try:
        yield
    finally:
        await client.aclose()
