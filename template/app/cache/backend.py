"""Where cached bytes live. The service talks to this interface; Redis is the real one, the
in-memory one serves unit tests (and is a model for writing another)."""

import time
from collections.abc import Iterable
from typing import Protocol

from redis.asyncio import Redis

from app.redis import RedisGuard


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: int, tags: Iterable[str]) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    async def delete_tags(self, tags: Iterable[str]) -> None: ...


# Store a value and file it under its tags in one atomic round trip. A tag's set lives as
# long as its longest-lived entry, so invalidating the tag always reaches every entry.
_SET_WITH_TAGS = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('TTL', KEYS[i]) < tonumber(ARGV[2]) then
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
end
"""


class RedisBackend:
    """Values under `<prefix>:cache:<key>`; a tag is a set of the keys filed under it."""

    def __init__(self, guard: RedisGuard) -> None:
        self.guard = guard
        self._set_with_tags = guard.client.register_script(_SET_WITH_TAGS)

    def _key(self, key: str) -> str:
        return self.guard.key("cache", key)

    def _tag(self, tag: str) -> str:
        return self.guard.key("tag", tag)

    async def get(self, key: str) -> bytes | None:
        async def get(client: Redis) -> bytes | None:
            value = await client.get(self._key(key))
            # The client is built without decode_responses, so values stay bytes.
            return value if isinstance(value, bytes) else None

        return await self.guard.run(get, "cache.get")

    async def set(self, key: str, value: bytes, ttl: int, tags: Iterable[str]) -> None:
        async def set_(client: Redis) -> None:
            keys = [self._key(key), *(self._tag(tag) for tag in tags)]
            await self._set_with_tags(keys=keys, args=[value, ttl], client=client)

        await self.guard.run(set_, "cache.set")

    async def delete(self, key: str) -> None:
        async def delete(client: Redis) -> None:
            await client.unlink(self._key(key))

        await self.guard.run(delete, "cache.delete")

    async def delete_prefix(self, prefix: str) -> None:
        async def delete_prefix(client: Redis) -> None:
            # SCAN walks the keyspace: fine for rare, broad invalidation; tags are cheaper.
            async for found in client.scan_iter(match=self._key(prefix) + "*", count=500):
                await client.unlink(found)

        await self.guard.run(delete_prefix, "cache.delete_prefix")

    async def delete_tags(self, tags: Iterable[str]) -> None:
        async def delete_tags(client: Redis) -> None:
            for tag in tags:
                members = await client.smembers(self._tag(tag))
                await client.unlink(self._tag(tag), *members)

        await self.guard.run(delete_tags, "cache.delete_tags")


class MemoryBackend:
    """A process-local backend for unit tests: same semantics, no Redis."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[bytes, float]] = {}
        self.tags: dict[str, set[str]] = {}

    async def get(self, key: str) -> bytes | None:
        value, expires = self.values.get(key, (None, 0.0))
        if value is None or expires <= time.monotonic():
            self.values.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: bytes, ttl: int, tags: Iterable[str]) -> None:
        self.values[key] = (value, time.monotonic() + ttl)
        for tag in tags:
            self.tags.setdefault(tag, set()).add(key)

    async def delete(self, key: str) -> None:
        self.values.pop(key, None)

    async def delete_prefix(self, prefix: str) -> None:
        for key in [k for k in self.values if k.startswith(prefix)]:
            del self.values[key]

    async def delete_tags(self, tags: Iterable[str]) -> None:
        for tag in tags:
            for key in self.tags.pop(tag, set()):
                self.values.pop(key, None)
