"""Items belong to whoever made them: only the owner or an administrator changes them."""

from httpx import AsyncClient

from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import bearer, create_user

ITEMS = "/api/v1/items"


async def test_new_items_belong_to_their_creator(client: AsyncClient, member: User) -> None:
    response = await client.post(ITEMS, json={"name": "bolt"})

    assert response.json()["owner_id"] == member.id


async def test_anonymous_callers_read_but_do_not_write(
    client: AsyncClient, anonymous_client: AsyncClient
) -> None:
    item = (await client.post(ITEMS, json={"name": "bolt"})).json()

    assert (await anonymous_client.get(f"{ITEMS}/{item['id']}")).status_code == 200
    assert (await anonymous_client.get(ITEMS)).status_code == 200
    for response in (
        await anonymous_client.post(ITEMS, json={"name": "nut"}),
        await anonymous_client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 2}),
        await anonymous_client.delete(f"{ITEMS}/{item['id']}"),
    ):
        assert response.status_code == 401


async def test_others_may_not_change_an_item(
    client: AsyncClient, database: Database, settings: Settings
) -> None:
    item = (await client.post(ITEMS, json={"name": "bolt", "quantity": 1})).json()
    stranger = await create_user(database, "stranger@example.com")
    headers = {"Authorization": bearer(stranger, settings)}

    patched = await client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 9}, headers=headers)
    deleted = await client.delete(f"{ITEMS}/{item['id']}", headers=headers)
    unchanged = await client.get(f"{ITEMS}/{item['id']}")

    assert patched.status_code == deleted.status_code == 403
    assert patched.json()["error"]["code"] == "forbidden"
    assert unchanged.json()["quantity"] == 1


async def test_owner_and_admin_may_change_an_item(
    client: AsyncClient, database: Database, settings: Settings
) -> None:
    item = (await client.post(ITEMS, json={"name": "bolt", "quantity": 1})).json()
    admin = await create_user(database, "root@example.com", is_admin=True)

    by_owner = await client.patch(f"{ITEMS}/{item['id']}", json={"quantity": 2})
    by_admin = await client.delete(
        f"{ITEMS}/{item['id']}", headers={"Authorization": bearer(admin, settings)}
    )

    assert by_owner.json()["quantity"] == 2
    assert by_admin.status_code == 204
