"""The cache module's dependencies: `CacheDep` is the app's cache; `CacheInvalidationDep`
invalidates in the request's transaction.

`invalidate.add(...)` bumps the tags' versions in the request's own transaction, right
before it commits (app/cache/versions.py): a write that commits has invalidated, one that
fails has not, and Redis plays no part in it.
"""

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.cache.service import CacheService
from app.cache.versions import invalidate
from app.db.session import SessionDep
from app.state import app_state


class CacheInvalidation:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, *, prefix: str | None = None, tags: Iterable[str] = ()) -> None:
        invalidate(self.session, tags=tags, prefixes=() if prefix is None else (prefix,))


async def get_cache(request: Request) -> CacheService:
    return app_state(request.app).cache


CacheDep = Annotated[CacheService, Depends(get_cache)]


async def get_invalidation(session: SessionDep) -> CacheInvalidation:
    return CacheInvalidation(session)


CacheInvalidationDep = Annotated[CacheInvalidation, Depends(get_invalidation)]
