"""Sessions end for real: a new password or e-mail needs the current password and logs
out every other session, and logging out, refresh-token reuse and a password change make
the access tokens of the sessions they end fail at once, not when they expire: on the
routes that load the account (`CurrentUser`) and on those that only check who is calling
(`SignedInCaller`, the item writes)."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import PASSWORD, create_user

ME = "/api/v1/users/me"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def ada(database: Database) -> User:
    return await create_user(database, "ada@example.com")


async def log_in(client: AsyncClient, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": password}
    )
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


def auth(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def me(client: AsyncClient, pair: dict[str, Any]) -> int:
    return (await client.get(ME, headers=auth(pair))).status_code


async def create_item(client: AsyncClient, pair: dict[str, Any]) -> int:
    item = {"name": f"item {uuid.uuid4()}"}
    return (await client.post("/api/v1/items", json=item, headers=auth(pair))).status_code


async def refresh(client: AsyncClient, pair: dict[str, Any]) -> Any:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize("change", [{"password": NEW_PASSWORD}, {"email": "eve@example.com"}])
async def test_credentials_change_only_with_the_current_password(
    anonymous_client: AsyncClient, connection: AsyncConnection, change: dict[str, str]
) -> None:
    pair = await log_in(anonymous_client)

    missing = await anonymous_client.patch(ME, json=change, headers=auth(pair))
    wrong = await anonymous_client.patch(
        ME, json={**change, "current_password": "not the password at all"}, headers=auth(pair)
    )

    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "validation_error"
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "forbidden"
    # Nothing changed, and the wrong guess counts towards the lockout like a failed login.
    row = (await connection.execute(select(User.email, User.failed_logins))).one()
    assert tuple(row) == ("ada@example.com", 1)
    assert (await me(anonymous_client, pair)) == 200
    await log_in(anonymous_client)


@pytest.mark.usefixtures("ada")
@pytest.mark.parametrize(
    "change", [{"password": NEW_PASSWORD}, {"email": "ada@elsewhere.example.com"}]
)
async def test_a_credentials_change_ends_every_other_session(
    anonymous_client: AsyncClient, change: dict[str, str]
) -> None:
    mine, thief = await log_in(anonymous_client), await log_in(anonymous_client)
    assert await me(anonymous_client, thief) == 200

    changed = await anonymous_client.patch(
        ME, json={**change, "current_password": PASSWORD}, headers=auth(mine)
    )

    assert changed.status_code == 200, changed.text
    # The other session is over, its access token at once, not when it expires.
    assert await me(anonymous_client, thief) == 401
    assert (await refresh(anonymous_client, thief)).status_code == 401
    # The session that made the change goes on.
    assert await me(anonymous_client, mine) == 200
    assert (await refresh(anonymous_client, mine)).status_code == 200


@pytest.mark.usefixtures("ada")
async def test_logging_out_ends_the_access_token_at_once(anonymous_client: AsyncClient) -> None:
    pair, other = await log_in(anonymous_client), await log_in(anonymous_client)
    assert await create_item(anonymous_client, pair) == 201

    logout = await anonymous_client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}
    )

    assert logout.status_code == 204
    assert await me(anonymous_client, pair) == 401
    assert await create_item(anonymous_client, pair) == 401
    assert await me(anonymous_client, other) == 200  # another login is another session
    assert await create_item(anonymous_client, other) == 201


@pytest.mark.usefixtures("ada")
async def test_refresh_token_reuse_ends_the_familys_access_tokens_at_once(
    anonymous_client: AsyncClient,
) -> None:
    first = await log_in(anonymous_client)
    second = (await refresh(anonymous_client, first)).json()
    assert await me(anonymous_client, second) == 200

    reused = await refresh(anonymous_client, first)

    assert reused.status_code == 401
    assert await me(anonymous_client, first) == 401
    assert await me(anonymous_client, second) == 401
    assert await create_item(anonymous_client, second) == 401


async def test_disabling_an_account_ends_its_sessions_for_good(
    anonymous_client: AsyncClient, database: Database, ada: User
) -> None:
    root = await create_user(database, "root@example.com", is_admin=True)
    admin = (
        await anonymous_client.post(
            "/api/v1/auth/token", data={"username": root.email, "password": PASSWORD}
        )
    ).json()
    pair = await log_in(anonymous_client)
    users = f"/api/v1/users/{ada.id}"

    await anonymous_client.patch(users, json={"is_active": False}, headers=auth(admin))
    assert await create_item(anonymous_client, pair) == 401
    enabled = await anonymous_client.patch(users, json={"is_active": True}, headers=auth(admin))

    # Enabled again, the account needs a new login: the old one ended with the disabling.
    assert enabled.status_code == 200
    assert await me(anonymous_client, pair) == 401
    assert (await refresh(anonymous_client, pair)).status_code == 401
    assert await me(anonymous_client, await log_in(anonymous_client)) == 200
