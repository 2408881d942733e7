"""`@cached`: cache what an async function returns, keyed by its arguments.

    @router.get("/{item_id}")
    @cached(prefix="items", tags=["item:{item_id}"], ttl=60)
    async def get_item(item_id: int, items: ItemReadsDep) -> ItemRead: ...

Works on service functions and on path operations (FastAPI still sees the original
signature). The return annotation says how values are stored and read back, so pydantic
models round-trip. Tags are templates over the arguments; invalidate them after a write
with `CacheInvalidation`.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar, get_type_hints

from pydantic import TypeAdapter

from app.cache.keys import KeyBuilder, default_key_builder
from app.cache.service import MISSING, CacheService

P = ParamSpec("P")
R = TypeVar("R")

# The app's cache while it runs (set by its lifespan); with none, or a disabled one, calls go
# straight through (and no key is built).
_current: CacheService | None = None


def use_cache(cache: CacheService | None) -> None:
    # One cache per process, like the Redis pool under it.
    global _current
    _current = cache


def cached(
    *,
    ttl: int | None = None,
    prefix: str | None = None,
    tags: Iterable[str] = (),
    key_builder: KeyBuilder = default_key_builder,
) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    tag_templates = tuple(tags)

    def decorate(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        adapter: TypeAdapter[Any] = TypeAdapter(get_type_hints(func)["return"])
        signature = inspect.signature(func)
        namespace = prefix or f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _current
            if cache is None or not cache.enabled:
                return await func(*args, **kwargs)
            arguments = signature.bind(*args, **kwargs).arguments
            key = f"{namespace}:{key_builder(func, arguments)}"
            hit = await cache.get(key, adapter)
            if hit is not MISSING:
                return hit  # type: ignore[no-any-return]
            value = await func(*args, **kwargs)
            labels = [template.format_map(arguments) for template in tag_templates]
            await cache.set(key, value, adapter, ttl, labels)
            return value

        return wrapper

    return decorate
