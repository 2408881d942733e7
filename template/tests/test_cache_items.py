"""Items reads are cached in Redis, and a read after a write is never stale."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from app.cache.keys import default_key_builder
from app.cache.service import CacheService

ITEMS = "/api/v1/items"


async def create(client: AsyncClient, name: str = "bolt", quantity: int = 1) -> dict[str, Any]:
    response = await client.post(ITEMS, json={"name": name, "quantity": quantity})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def stats(app: FastAPI) -> tuple[int, int]:
    cache: CacheService = app.state.cache
    return cache.stats.hits, cache.stats.misses


async def test_repeated_reads_are_cache_hits(client: AsyncClient, app: FastAPI) -> None:
    item = await create(client)

    first = await client.get(f"{ITEMS}/{item['id']}")
    second = await client.get(f"{ITEMS}/{item['id']}")

    assert first.json() == second.json() == item
    assert stats(app) == (1, 1)


async def test_a_read_after_an_update_is_fresh(client: AsyncClient) -> None:
    item = await create(client, quantity=1)
    await client.get(f"{ITEMS}/{item['id']}")  # cached with quantity 1
    await client.get(ITEMS)  # the list too

    await client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 2})

    assert (await client.get(f"{ITEMS}/{item['id']}")).json()["quantity"] == 2
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
    await client.get(f"{ITEMS}/{item['id']}")

    conflict = await client.patch(f"{ITEMS}/{item['id']}", json={"name": "taken"})
    again = await client.get(f"{ITEMS}/{item['id']}")

    assert conflict.status_code == 409
    assert again.json()["name"] == "bolt"
    assert stats(app) == (1, 1)


async def test_an_entry_that_no_longer_decodes_is_read_from_the_database(
    client: AsyncClient, app: FastAPI
) -> None:
    item = await create(client)
    guard = app.state.redis
    key = guard.key("cache", f"items:{default_key_builder(lambda: None, {'item_id': item['id']})}")
    await guard.client.set(key, b'{"id": "an old shape"}', ex=60)

    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.json() == item
    assert app.state.cache.stats.invalid == 1
