from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.models import Item

ITEMS = "/api/v1/items"


async def create(client: AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post(ITEMS, json={"name": "bolt", "quantity": 1, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_error(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert body["error"]["request_id"]


async def count_items(connection: AsyncConnection) -> int:
    return (await connection.execute(select(func.count()).select_from(Item))).scalar_one()


async def test_create_then_read(client: AsyncClient) -> None:
    created = await create(client, name="  washer ", description="M6", quantity=40)

    fetched = await client.get(f"{ITEMS}/{created['id']}")

    assert fetched.status_code == 200
    assert fetched.json() == created
    assert created["name"] == "washer"
    assert created["description"] == "M6"
    assert created["created_at"] == created["updated_at"]


async def test_update_changes_only_the_given_fields(client: AsyncClient) -> None:
    created = await create(client, description="keep me")

    response = await client.patch(f"{ITEMS}/{created['id']}", json={"quantity": 7})

    assert response.status_code == 200
    assert response.json()["quantity"] == 7
    assert response.json()["description"] == "keep me"
    assert response.json()["updated_at"] >= created["updated_at"]


async def test_soft_deleted_items_disappear_but_free_their_name(
    client: AsyncClient, connection: AsyncConnection
) -> None:
    created = await create(client)

    deleted = await client.delete(f"{ITEMS}/{created['id']}")
    fetched = await client.get(f"{ITEMS}/{created['id']}")
    listed = await client.get(ITEMS)
    recreated = await client.post(ITEMS, json={"name": "bolt"})

    assert deleted.status_code == 204
    assert fetched.status_code == 404
    assert_error(fetched.json(), "not_found")
    assert listed.json()["total"] == 0
    assert recreated.status_code == 201
    assert await count_items(connection) == 2  # the deleted row is kept


async def test_duplicate_name_is_a_conflict_and_writes_nothing(
    client: AsyncClient, connection: AsyncConnection
) -> None:
    await create(client)

    response = await client.post(ITEMS, json={"name": "bolt"})

    assert response.status_code == 409
    assert_error(response.json(), "conflict")
    assert await count_items(connection) == 1


async def test_renaming_onto_a_taken_name_is_a_conflict(client: AsyncClient) -> None:
    await create(client, name="a")
    second = await create(client, name="b")

    response = await client.patch(f"{ITEMS}/{second['id']}", json={"name": "a"})
    unchanged = await client.get(f"{ITEMS}/{second['id']}")

    assert response.status_code == 409
    assert unchanged.json()["name"] == "b"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "ok", "quantity": -1},
        {"name": "ok", "quantity": 2**31},
        {"name": "ok", "quantity": "many"},
        {"name": "ok", "unknown": 1},
        {"name": None},
    ],
)
async def test_invalid_create_is_refused(
    client: AsyncClient, connection: AsyncConnection, payload: dict[str, Any]
) -> None:
    response = await client.post(ITEMS, json=payload)

    assert response.status_code == 422
    assert_error(response.json(), "validation_error")
    assert response.json()["error"]["details"]
    assert await count_items(connection) == 0


async def test_malformed_json_is_refused(client: AsyncClient) -> None:
    response = await client.post(
        ITEMS, content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert_error(response.json(), "validation_error")


@pytest.mark.parametrize("payload", [{"name": None}, {"quantity": None}, {"id": 5}])
async def test_invalid_update_is_refused(client: AsyncClient, payload: dict[str, Any]) -> None:
    created = await create(client)

    response = await client.patch(f"{ITEMS}/{created['id']}", json=payload)

    assert response.status_code == 422
    assert_error(response.json(), "validation_error")


@pytest.mark.parametrize("item_id", ["0", "-1", "abc", str(2**63)])
async def test_invalid_ids_are_refused(client: AsyncClient, item_id: str) -> None:
    response = await client.get(f"{ITEMS}/{item_id}")

    assert response.status_code == 422
    assert_error(response.json(), "validation_error")


async def test_missing_items_are_not_found(client: AsyncClient) -> None:
    for response in (
        await client.get(f"{ITEMS}/999999"),
        await client.patch(f"{ITEMS}/999999", json={"quantity": 1}),
        await client.delete(f"{ITEMS}/999999"),
    ):
        assert response.status_code == 404
        assert_error(response.json(), "not_found")


async def test_unknown_route_uses_the_error_schema(client: AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert_error(response.json(), "not_found")
