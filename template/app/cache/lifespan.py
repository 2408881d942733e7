from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from app.cache.backend import RedisBackend
from app.cache.service import CacheService
from app.cache.versions import TagVersions
from app.state import AppState


@asynccontextmanager
async def cache_service(state: AppState) -> AsyncIterator[None]:
    """The lifespan's part: the app's cache over the shared Redis client, for `@cached`
    and `CacheDep`."""
    state.cache = CacheService(
        RedisBackend(state.redis),
        TagVersions(state.database.reader),
        state.settings.cache_default_ttl,
        enabled=state.settings.cache_enabled,
    )
    yield
