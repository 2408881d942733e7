"""List pages of items are cached in Redis, and a read after a write is never stale."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from redis.asyncio import Redis

from app.state import app_state
from tests.redis_helpers import UNREACHABLE_REDIS

ITEMS = "/api/v1/items"


async def create(client: AsyncClient, name: str = "bolt", quantity: int = 1) -> dict[str, Any]:
    response = await client.post(ITEMS, json={"name": name, "quantity": quantity})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stats(app: FastAPI) -> tuple[int, int]:
    cache = app_state(app).cache
    return cache.stats.hits, cache.stats.misses


async def test_repeated_list_reads_are_cache_hits(client: AsyncClient, app: FastAPI) -> None:
    await create(client)

    first = await client.get(ITEMS)
    second = await client.get(ITEMS)

    assert first.json() == second.json()
    assert stats(app) == (1, 1)


async def test_an_item_by_id_is_read_from_the_database(client: AsyncClient, app: FastAPI) -> None:
    # A version lookup and a Redis GET would cost more than the one primary-key read.
    item = await create(client)

    assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item
    assert (await client.get(f"{ITEMS}/{item['id']}")).json() == item
    assert stats(app) == (0, 0)


async def test_a_read_after_an_update_is_fresh(client: AsyncClient) -> None:
    item = await create(client, quantity=1)
    await client.get(ITEMS)  # cached with quantity 1

    await client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 2})

    assert (await client.get(ITEMS)).json()["items"][0]["quantity"] == 2


async def test_lists_see_new_and_deleted_items(client: AsyncClient) -> None:
    first = await create(client, "bolt")
    assert (await client.get(ITEMS)).json()["total"] == 1

    await create(client, "nut")
    assert (await client.get(ITEMS)).json()["total"] == 2

    await client.delete(f"{ITEMS}/{first['id']}")
    assert (await client.get(ITEMS)).json()["total"] == 1
    assert (await client.get(f"{ITEMS}/{first['id']}")).status_code == 404


async def test_a_failed_write_leaves_the_cache_alone(client: AsyncClient, app: FastAPI) -> None:
    await create(client, "taken")
    item = await create(client, "bolt")
    await client.get(ITEMS)

    conflict = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "taken"})
    again = await client.get(ITEMS)

    assert conflict.status_code == 409
    assert sorted(i["name"] for i in again.json()["items"]) == ["bolt", "taken"]
    assert stats(app) == (1, 1)


async def test_a_write_while_redis_is_unreachable_is_not_lost(
    client: AsyncClient, app: FastAPI
) -> None:
    item = await create(client, quantity=1)
    await client.get(ITEMS)  # cached with quantity 1
    guard = app_state(app).redis
    reachable, guard.client = guard.client, Redis.from_url(UNREACHABLE_REDIS)
    guard.cooldown = 0  # back to Redis at the next call, to read what the write left there

    try:
        patched = await client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 2})
    finally:
        await guard.client.aclose()
        guard.client = reachable
    listed = await client.get(ITEMS)

    assert patched.status_code == 200
    assert listed.json()["items"][0]["quantity"] == 2


async def test_an_entry_that_no_longer_decodes_is_read_from_the_database(
    client: AsyncClient, app: FastAPI
) -> None:
    await create(client)
    expected = (await client.get(ITEMS)).json()
    guard = app_state(app).redis
    async for key in guard.client.scan_iter(match=guard.key("cache", "items:list:*")):
        await guard.client.set(key, b'{"items": "an old shape"}', ex=60)

    response = await client.get(ITEMS)

    assert response.json() == expected
    assert app_state(app).cache.stats.invalid == 1
