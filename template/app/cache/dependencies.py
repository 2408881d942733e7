"""`CacheDep` is the app's cache; `CacheInvalidationDep` invalidates after the commit.

Invalidate after the write is committed, never before: declare `CacheInvalidationDep`
before the dependencies that open the database session. FastAPI exits dependencies in
reverse order, so it runs after the session has committed (and not at all if the
request failed). Invalidating earlier would let a concurrent read cache the old row
again between the invalidation and the commit.
"""

from collections.abc import AsyncIterator, Iterable
from typing import Annotated

from fastapi import Depends, Request

from app.cache.service import CacheService


class CacheInvalidation:
    def __init__(self) -> None:
        self.prefixes: list[str] = []
        self.tags: list[str] = []

    def add(self, *, prefix: str | None = None, tags: Iterable[str] = ()) -> None:
        if prefix is not None:
            self.prefixes.append(prefix)
        self.tags.extend(tags)

    async def run(self, cache: CacheService) -> None:
        for prefix in self.prefixes:
            await cache.invalidate(prefix=prefix)
        await cache.invalidate(tags=self.tags)


def get_cache(request: Request) -> CacheService:
    cache: CacheService = request.app.state.cache
    return cache


CacheDep = Annotated[CacheService, Depends(get_cache)]


async def invalidate_after_commit(cache: CacheDep) -> AsyncIterator[CacheInvalidation]:
    pending = CacheInvalidation()
    yield pending
    await pending.run(cache)


CacheInvalidationDep = Annotated[
    CacheInvalidation, Depends(invalidate_after_commit, scope="function")
]
