from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.core.settings import Settings
from app.rate_limit.limiter import RateLimiter


@asynccontextmanager
async def rate_limiter(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The lifespan's part: the counters every `RateLimit` dependency uses."""
    app.state.rate_limiter = RateLimiter(app.state.redis, enabled=settings.rate_limit_enabled)
    yield
