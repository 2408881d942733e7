"""The cache on its own: the in-memory backend over the real tag versions in PostgreSQL
(Redis is tested in test_cache_items)."""

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import delete, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from app.cache import versions
from app.cache.backend import MemoryBackend
from app.cache.decorator import cached
from app.cache.keys import default_key_builder
from app.cache.service import CacheService
from app.cache.versions import TagVersions, bump, invalidate, namespace_tags
from app.core.settings import Settings
from app.db.database import Database
from app.db.reads import Reader
from app.models import CacheVersion, Item
from app.state import AppState, use_app_state


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
def cache(settings: Settings, database: Database) -> Iterator[CacheService]:
    # `@cached` uses the cache of the app serving the request: here, of a state of our own.
    calls.clear()
    state = AppState(settings)
    state.cache = CacheService(MemoryBackend(), TagVersions(database.reader), default_ttl=30)
    use_app_state(state)
    yield state.cache
    use_app_state(None)


async def write(
    database: Database,
    *,
    tags: Iterable[str] = (),
    prefixes: Iterable[str] = (),
    commit: bool = True,
) -> None:
    async with database.sessionmaker() as session:
        session.add(Item(name=f"item {uuid.uuid4().hex[:8]}", quantity=1))
        invalidate(session, tags=tags, prefixes=prefixes)
        await (session.commit() if commit else session.rollback())


async def version(database: Database, tag: str) -> int:
    return await TagVersions(database.reader).current([tag])


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


async def test_a_committed_write_invalidates_its_tags_and_prefixes(
    cache: CacheService, database: Database
) -> None:
    await load_widget("bolt")
    await load_widget("nut")
    await count(2)

    await write(database, tags=["widget:bolt"])
    await load_widget("bolt")
    await load_widget("nut")
    await write(database, prefixes=["counts"])
    await count(2)

    assert calls == ["bolt", "nut", 2, "bolt", 2]


async def test_a_rolled_back_write_invalidates_nothing(
    cache: CacheService, database: Database
) -> None:
    await load_widget("bolt")

    await write(database, tags=["widget:bolt"], prefixes=["widgets"], commit=False)
    await load_widget("bolt")

    assert calls == ["bolt"]
    assert await version(database, "widget:bolt") == 0


async def test_a_rollback_drops_what_was_recorded_before_it(database: Database) -> None:
    async with database.sessionmaker() as session:
        invalidate(session, tags=["widget:bolt"])
        await session.rollback()
        await session.commit()  # the session's next transaction, with nothing to bump

    assert await version(database, "widget:bolt") == 0


async def test_versions_move_in_the_writing_transaction_and_at_its_commit(
    engine: AsyncEngine,
) -> None:
    # On the real engine, outside the test's transaction: what other connections see.
    tag = f"probe:{uuid.uuid4().hex}"
    committed = select(CacheVersion.version).where(CacheVersion.tag == tag)
    try:
        async with async_sessionmaker(engine)() as session:
            invalidate(session, tags=[tag, tag])
            invalidate(session, tags=[tag])
            await session.flush()
            async with engine.connect() as other:
                before = await other.scalar(committed)
            await session.commit()
        async with engine.connect() as other:
            after = await other.scalar(committed)
    finally:
        async with engine.begin() as cleanup:
            await cleanup.execute(delete(CacheVersion).where(CacheVersion.tag == tag))

    assert (before, after) == (None, 1)


async def test_bump_moves_versions_in_a_connections_transaction(
    connection: AsyncConnection, database: Database
) -> None:
    await bump(connection, tags=["a", "b", "a"], prefixes=["p"])
    await bump(connection, tags=["a"])

    assert await version(database, "a") == 2
    assert await version(database, "b") == 1
    assert await version(database, "prefix:p") == 1
    assert await TagVersions(database.reader).current(["a", "b", "prefix:p", "never"]) == 4


async def bump_while_another_writer_holds_its_row(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, stripes: list[int]
) -> int:
    """Two writers bump one tag, the first holding its row uncommitted: the version after
    both, or DBAPIError when the second had to wait for the first."""
    tag = f"probe:{uuid.uuid4().hex}"
    drawn = iter(stripes)
    monkeypatch.setattr(versions, "_stripe", lambda: next(drawn))
    try:
        async with engine.connect() as first, engine.connect() as second:
            await bump(first, tags=[tag])
            await second.execute(text("SET LOCAL lock_timeout = '1s'"))
            await bump(second, tags=[tag])
            await second.commit()
            await first.commit()
        return await TagVersions(Reader(engine)).current([tag])
    finally:
        async with engine.begin() as cleanup:
            await cleanup.execute(delete(CacheVersion).where(CacheVersion.tag == tag))


async def test_writers_that_draw_different_rows_of_a_tag_do_not_wait_for_each_other(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await bump_while_another_writer_holds_its_row(engine, monkeypatch, [3, 7]) == 2


async def test_writers_that_draw_the_same_row_queue_for_it(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the rows per tag are for: the same row makes the second writer wait.
    with pytest.raises(DBAPIError, match="lock timeout"):
        await bump_while_another_writer_holds_its_row(engine, monkeypatch, [3, 3])


def test_a_namespace_depends_on_each_of_its_prefixes() -> None:
    assert namespace_tags("items:list") == ("prefix:items", "prefix:items:list")


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
    use_app_state(None)
    calls.clear()

    await count(7)
    await count(7)

    assert calls == [7, 7]
