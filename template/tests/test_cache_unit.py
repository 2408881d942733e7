"""The cache on its own, over the in-memory backend (Redis is tested in test_cache_items)."""

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from app.cache.backend import MemoryBackend
from app.cache.decorator import cached, use_cache
from app.cache.keys import default_key_builder
from app.cache.service import CacheService


class Widget(BaseModel):
    name: str
    tags: list[str]


calls: list[Any] = []


@cached(prefix="widgets", tags=["widget:{name}"], ttl=60)
async def load_widget(name: str, service: object = None) -> Widget:
    calls.append(name)
    return Widget(name=name, tags=["a", "b"])


@cached(prefix="counts")
async def count(n: int) -> int:
    calls.append(n)
    return n * 2


@pytest.fixture
def cache() -> Iterator[CacheService]:
    calls.clear()
    service = CacheService(MemoryBackend(), default_ttl=30)
    use_cache(service)
    yield service
    use_cache(None)


async def test_second_call_is_served_from_the_cache(cache: CacheService) -> None:
    first = await load_widget("bolt")
    second = await load_widget("bolt")

    assert first == second == Widget(name="bolt", tags=["a", "b"])
    assert isinstance(second, Widget)
    assert calls == ["bolt"]
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)


async def test_arguments_that_are_not_data_do_not_change_the_key(cache: CacheService) -> None:
    await load_widget("bolt", service=object())
    await load_widget("bolt", service=object())

    assert calls == ["bolt"]


async def test_invalidation_by_tag_and_by_prefix(cache: CacheService) -> None:
    await load_widget("bolt")
    await load_widget("nut")
    await count(2)

    await cache.invalidate(tags=["widget:bolt"])
    await load_widget("bolt")
    await load_widget("nut")
    await cache.invalidate(prefix="counts")
    await count(2)

    assert calls == ["bolt", "nut", 2, "bolt", 2]


async def test_entries_expire(cache: CacheService) -> None:
    await count(3)
    backend = cache.backend
    assert isinstance(backend, MemoryBackend)
    for key, (value, _) in list(backend.values.items()):
        backend.values[key] = (value, 0.0)  # expired

    await count(3)

    assert calls == [3, 3]


@pytest.mark.parametrize("odd", ["a:b c", "ünï/cødé\n", "*?[]", "x" * 10_000, ""])
async def test_any_argument_makes_a_short_safe_key(cache: CacheService, odd: str) -> None:
    key = default_key_builder(load_widget, {"name": odd})

    await load_widget(odd)
    await load_widget(odd)

    assert len(key) == 32
    assert key.isalnum()
    assert calls == [odd]


async def test_a_custom_key_builder_is_used(cache: CacheService) -> None:
    @cached(prefix="custom", key_builder=lambda func, args: str(args["n"] % 2))
    async def parity(n: int) -> int:
        calls.append(n)
        return n % 2

    assert [await parity(1), await parity(3), await parity(2)] == [1, 1, 0]
    assert calls == [1, 2]


async def test_entries_that_no_longer_validate_are_read_again(cache: CacheService) -> None:
    await load_widget("bolt")
    backend = cache.backend
    assert isinstance(backend, MemoryBackend)
    for key, (_, expires) in list(backend.values.items()):
        backend.values[key] = (b'{"name": "bolt", "tags": "not a list"}', expires)

    widget = await load_widget("bolt")

    assert widget.tags == ["a", "b"]
    assert calls == ["bolt", "bolt"]
    assert cache.stats.invalid == 1


async def test_a_disabled_cache_calls_through(cache: CacheService) -> None:
    cache.enabled = False

    await count(5)
    await count(5)

    assert calls == [5, 5]


async def test_without_a_cache_calls_go_straight_through() -> None:
    use_cache(None)
    calls.clear()

    await count(7)
    await count(7)

    assert calls == [7, 7]
