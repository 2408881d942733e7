"""Typed reads and writes over a backend: values go in as JSON and come out validated.

A value that no longer validates (the model changed since it was cached) is a miss, read
again from the source and stored over; a backend that fails is a miss, never an error.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import TypeAdapter, ValidationError

from app.cache.backend import CacheBackend
from app.cache.versions import TagVersions

log = structlog.get_logger(__name__)


class _Missing:
    """The result of a miss (None is a value that can be cached)."""


MISSING = _Missing()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    invalid: int = 0


class CacheService:
    def __init__(
        self,
        backend: CacheBackend,
        versions: TagVersions,
        default_ttl: int,
        *,
        enabled: bool = True,
    ) -> None:
        self.backend = backend
        self.versions = versions
        self.default_ttl = default_ttl
        self.enabled = enabled
        self.stats = CacheStats()

    async def version(self, tags: Iterable[str]) -> int:
        """What a key over these tags carries: it changes with every committed invalidation
        of any of them (app/cache/versions.py)."""
        return await self.versions.current(tags)

    async def get(self, key: str, adapter: TypeAdapter[Any]) -> Any:
        """The cached value, or MISSING."""
        if not self.enabled:
            return MISSING
        raw = await self.backend.get(key)
        if raw is None:
            self.stats.misses += 1
            return MISSING
        try:
            value = adapter.validate_json(raw)
        except ValidationError:
            self.stats.invalid += 1
            log.warning("cache_entry_invalid", key=key)
            return MISSING
        self.stats.hits += 1
        return value

    async def set(
        self, key: str, value: Any, adapter: TypeAdapter[Any], ttl: int | None = None
    ) -> None:
        if self.enabled:
            await self.backend.set(key, adapter.dump_json(value), ttl or self.default_ttl)
