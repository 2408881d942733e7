from typing import Any

import pytest
from httpx import AsyncClient

ITEMS = "/api/v1/items"


@pytest.fixture
async def stock(client: AsyncClient) -> None:
    for name, quantity in [("bolt", 5), ("nut", 50), ("washer", 20), ("hex bolt", 1)]:
        response = await client.post(ITEMS, json={"name": name, "quantity": quantity})
        assert response.status_code == 201


async def names(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get(ITEMS, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.mark.usefixtures("stock")
async def test_pages_carry_the_total(client: AsyncClient) -> None:
    first = (await client.get(ITEMS, params={"limit": 3, "sort": "name"})).json()
    second = (await client.get(ITEMS, params={"limit": 3, "offset": 3, "sort": "name"})).json()
    beyond = (await client.get(ITEMS, params={"limit": 3, "offset": 10})).json()

    assert [i["name"] for i in first["items"]] == ["bolt", "hex bolt", "nut"]
    assert [i["name"] for i in second["items"]] == ["washer"]
    assert first["total"] == second["total"] == beyond["total"] == 4
    assert beyond["items"] == []
    assert (first["limit"], second["offset"]) == (3, 3)


@pytest.mark.usefixtures("stock")
async def test_sorting(client: AsyncClient) -> None:
    assert await names(client, sort="-quantity") == ["nut", "washer", "bolt", "hex bolt"]
    assert await names(client, sort="quantity,name") == ["hex bolt", "bolt", "washer", "nut"]


@pytest.mark.usefixtures("stock")
async def test_filtering(client: AsyncClient) -> None:
    assert await names(client, filter="quantity:gte:20", sort="name") == ["nut", "washer"]
    assert await names(client, filter=["name:contains:BOLT", "quantity:lt:5"]) == ["hex bolt"]
    assert await names(client, filter="name:eq:nut") == ["nut"]
    # LIKE wildcards in the value are matched literally.
    assert await names(client, filter="name:contains:%") == []


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "password"},
        {"sort": "name,-secret"},
        {"filter": "description:eq:x"},
        {"filter": "quantity:between:1"},
        {"filter": "quantity:gte:lots"},
        {"filter": "quantity:contains:1"},
        {"filter": "no-colons"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
    ],
)
async def test_invalid_list_parameters_are_refused(
    client: AsyncClient, params: dict[str, Any]
) -> None:
    response = await client.get(ITEMS, params=params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
