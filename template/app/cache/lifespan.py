from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.cache.backend import RedisBackend
from app.cache.decorator import use_cache
from app.cache.service import CacheService
from app.cache.versions import TagVersions
from app.core.settings import Settings


@asynccontextmanager
async def cache_service(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The lifespan's part: a cache over the shared Redis client, for `@cached` and for
    `request.app.state.cache`."""
    cache = CacheService(
        RedisBackend(app.state.redis),
        TagVersions(app.state.database.reader),
        settings.cache_default_ttl,
        enabled=settings.cache_enabled,
    )
    app.state.cache = cache
    use_cache(cache)
    try:
        yield
    finally:
        use_cache(None)
