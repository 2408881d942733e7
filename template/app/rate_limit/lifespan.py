from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.rate_limit.limiter import RateLimiter
from app.state import AppState


@asynccontextmanager
async def rate_limiter(state: AppState) -> AsyncIterator[None]:
    """The lifespan's part: the counters every `RateLimit` dependency uses."""
    state.rate_limiter = RateLimiter(state.redis, enabled=state.settings.rate_limit_enabled)
    yield
