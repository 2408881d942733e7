"""`CacheDep` is the app's cache; `CacheInvalidationDep` invalidates after the commit.

Invalidate after the write is committed, never before: invalidating earlier would let a
concurrent read cache the old row again between the invalidation and the commit. The
invalidation is registered with the request's session (`after_commit`), so it runs
whatever order FastAPI resolves the dependencies in, and not at all if the request fails.
"""

from collections.abc import Iterable
from functools import partial
from typing import Annotated

from fastapi import Depends, Request

from app.cache.service import CacheService
from app.db.session import SessionDep, after_commit


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


async def get_cache(request: Request) -> CacheService:
    cache: CacheService = request.app.state.cache
    return cache


CacheDep = Annotated[CacheService, Depends(get_cache)]


async def invalidate_after_commit(cache: CacheDep, session: SessionDep) -> CacheInvalidation:
    pending = CacheInvalidation()
    after_commit(session, partial(pending.run, cache))
    return pending


CacheInvalidationDep = Annotated[CacheInvalidation, Depends(invalidate_after_commit)]
