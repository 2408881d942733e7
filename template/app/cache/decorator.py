"""`@cached`: cache what an async function returns, keyed by its arguments.

    @router.get("")
    @cached(prefix="items:list", tags=["items:list"], ttl=60)
    async def list_items(params: ItemListParams, service: ItemServiceDep) -> Page[ItemRead]: ...

Works on service functions and on path operations (FastAPI still sees the original
signature). The return annotation says how values are stored and read back, so pydantic
models round-trip. Tags are templates over the arguments; a write invalidates them with
`invalidate` (app/cache/versions.py) or `CacheInvalidationDep`.

The key is `<prefix>:<hash of the arguments>:<version of the tags and prefix>`: the
version is read from PostgreSQL first, so a call costs one small query even on a hit. Do
not call a cached function inside a transaction that has changed what it reads: the
version it sees is the committed one, and a rollback would leave the uncommitted value
under it.
"""

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, ParamSpec, TypeVar, get_type_hints

from pydantic import TypeAdapter

from app.cache.keys import KeyBuilder, default_key_builder
from app.cache.service import MISSING, CacheService
from app.cache.versions import namespace_tags
from app.state import current_app_state

P = ParamSpec("P")
R = TypeVar("R")


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
        prefix_tags = namespace_tags(namespace)

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            cache = _cache()
            if cache is None or not cache.enabled:
                return await func(*args, **kwargs)
            arguments = signature.bind(*args, **kwargs).arguments
            labels = [template.format_map(arguments) for template in tag_templates]
            # The version first, the source after: a value read from the source is never
            # older than the version it is stored under.
            version = await cache.version([*prefix_tags, *labels])
            key = f"{namespace}:{key_builder(func, arguments)}:{version}"
            hit = await cache.get(key, adapter)
            if hit is not MISSING:
                return hit  # type: ignore[no-any-return]
            value = await func(*args, **kwargs)
            await cache.set(key, value, adapter, ttl)
            return value

        return wrapper

    return decorate


def _cache() -> CacheService | None:
    # The cache of the app serving the request. Outside a request (a script, a task), or
    # with the cache disabled, calls go straight through and no key is built.
    state = current_app_state()
    return None if state is None else state.cache
