"""Where cached bytes live. The service talks to this interface; Redis is the real one, the
in-memory one serves unit tests (and is a model for writing another).

A backend only gets and sets: invalidation moves keys (app/cache/versions.py), it never
deletes them, so old entries are simply left to expire.
"""

import time
from typing import Protocol

from redis.asyncio import Redis

from app.redis import RedisGuard


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: int) -> None: ...


class RedisBackend:
    """Values under `<prefix>:cache:<key>`."""

    def __init__(self, guard: RedisGuard) -> None:
        self.guard = guard

    def _key(self, key: str) -> str:
        return self.guard.key("cache", key)

    async def get(self, key: str) -> bytes | None:
        async def get(client: Redis) -> bytes | None:
            value = await client.get(self._key(key))
            # The client is built without decode_responses, so values stay bytes.
            return value if isinstance(value, bytes) else None

        return await self.guard.run(get, "cache.get")

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        async def set_(client: Redis) -> None:
            await client.set(self._key(key), value, ex=ttl)

        await self.guard.run(set_, "cache.set")


class MemoryBackend:
    """A process-local backend for unit tests: same semantics, no Redis."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[bytes, float]] = {}

    async def get(self, key: str) -> bytes | None:
        value, expires = self.values.get(key, (None, 0.0))
        if value is None or expires <= time.monotonic():
            self.values.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: bytes, ttl: int) -> None:
        self.values[key] = (value, time.monotonic() + ttl)
