"""Typed reads and writes over a backend: values go in as JSON and come out validated.

A value that no longer validates (the model changed since it was cached) is dropped and
read again from the source; a backend that fails is a miss, never an error.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import TypeAdapter, ValidationError

from app.cache.backend import CacheBackend

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
    def __init__(self, backend: CacheBackend, default_ttl: int, *, enabled: bool = True) -> None:
        self.backend = backend
        self.default_ttl = default_ttl
        self.enabled = enabled
        self.stats = CacheStats()

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
            await self.backend.delete(key)
            return MISSING
        self.stats.hits += 1
        return value

    async def set(
        self,
        key: str,
        value: Any,
        adapter: TypeAdapter[Any],
        ttl: int | None = None,
        tags: Iterable[str] = (),
    ) -> None:
        if self.enabled:
            raw = adapter.dump_json(value)
            await self.backend.set(key, raw, ttl or self.default_ttl, tags)

    async def invalidate(self, *, prefix: str | None = None, tags: Iterable[str] = ()) -> None:
        if prefix is not None:
            await self.backend.delete_prefix(prefix)
        if tags := list(tags):
            await self.backend.delete_tags(tags)
