"""The caller's own account, and what only administrators may do."""

import asyncio
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.core.settings import Settings
from app.db.database import Database
from app.db.repositories.refresh_tokens import RefreshTokenRepository
from app.db.repositories.users import UserRepository
from app.models.user import User
from app.schema.user import UserUpdateAdmin
from app.services.users import UserService
from tests.auth_helpers import PASSWORD, bearer, create_user

ME = "/api/v1/users/me"
USERS = "/api/v1/users"


@pytest.fixture
async def admin_headers(database: Database, settings: Settings) -> dict[str, str]:
    admin = await create_user(database, "root@example.com", is_admin=True)
    return {"Authorization": bearer(admin, settings)}


async def test_read_and_update_me(client: AsyncClient, member: User) -> None:
    updated = await client.patch(ME, json={"full_name": "Member One"})
    fetched = await client.get(ME)

    assert updated.status_code == 200
    assert fetched.json()["full_name"] == "Member One"
    assert fetched.json()["id"] == member.id


async def test_changing_my_password_lets_me_log_in_with_it(client: AsyncClient) -> None:
    new_password = "a brand new passphrase"

    changed = await client.patch(ME, json={"password": new_password, "current_password": PASSWORD})
    old = await client.post(
        "/api/v1/auth/token", data={"username": "member@example.com", "password": PASSWORD}
    )
    new = await client.post(
        "/api/v1/auth/token", data={"username": "member@example.com", "password": new_password}
    )

    assert changed.status_code == 200
    assert old.status_code == 401
    assert new.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"password": "short"},
        {"email": "nope"},
        {"is_admin": True},
        {"full_name": ""},
    ],
)
async def test_bad_profile_changes_are_refused(client: AsyncClient, body: dict[str, Any]) -> None:
    response = await client.patch(ME, json=body)

    assert response.status_code == 422
    assert (await client.get(ME)).json()["is_admin"] is False


async def test_taking_someone_elses_email_is_a_conflict(
    client: AsyncClient, database: Database
) -> None:
    await create_user(database, "taken@example.com")

    response = await client.patch(
        ME, json={"email": "Taken@example.com", "current_password": PASSWORD}
    )

    assert response.status_code == 409
    assert (await client.get(ME)).json()["email"] == "member@example.com"


async def test_members_may_not_manage_users(client: AsyncClient, member: User) -> None:
    for response in (
        await client.get(USERS),
        await client.get(f"{USERS}/{member.id}"),
        await client.patch(f"{USERS}/{member.id}", json={"is_admin": True}),
    ):
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


async def test_anonymous_callers_are_told_to_log_in(anonymous_client: AsyncClient) -> None:
    for response in (await anonymous_client.get(USERS), await anonymous_client.get(ME)):
        assert response.status_code == 401


async def test_admins_list_and_disable_users(
    client: AsyncClient, member: User, admin_headers: dict[str, str]
) -> None:
    listed = await client.get(USERS, headers=admin_headers, params={"sort": "email"})
    disabled = await client.patch(
        f"{USERS}/{member.id}", json={"is_active": False}, headers=admin_headers
    )
    locked_out = await client.get(ME)

    assert listed.status_code == 200
    assert [u["email"] for u in listed.json()["items"]] == [
        "member@example.com",
        "root@example.com",
    ]
    assert disabled.json()["is_active"] is False
    assert locked_out.status_code == 401


async def test_admin_lookups_of_missing_users_are_not_found(
    client: AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(f"{USERS}/999999", headers=admin_headers)

    assert response.status_code == 404


async def test_user_lists_refuse_unknown_fields(
    client: AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(USERS, headers=admin_headers, params={"sort": "hashed_password"})

    assert response.status_code == 422


async def test_the_last_administrator_cannot_be_removed(
    anonymous_client: AsyncClient, database: Database, settings: Settings
) -> None:
    root = await create_user(database, "root@example.com", is_admin=True)
    headers = {"Authorization": bearer(root, settings)}
    me_as_root = f"{USERS}/{root.id}"

    demoted = await anonymous_client.patch(me_as_root, json={"is_admin": False}, headers=headers)
    disabled = await anonymous_client.patch(me_as_root, json={"is_active": False}, headers=headers)

    for response in (demoted, disabled):
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
    assert (await anonymous_client.get(me_as_root, headers=headers)).json()["is_admin"] is True


async def test_an_administrator_can_step_down_while_another_remains(
    anonymous_client: AsyncClient, database: Database, settings: Settings
) -> None:
    root = await create_user(database, "root@example.com", is_admin=True)
    deputy = await create_user(database, "deputy@example.com", is_admin=True)

    stepped_down = await anonymous_client.patch(
        f"{USERS}/{root.id}",
        json={"is_admin": False},
        headers={"Authorization": bearer(root, settings)},
    )
    deputy_headers = {"Authorization": bearer(deputy, settings)}
    last = await anonymous_client.patch(
        f"{USERS}/{deputy.id}", json={"is_admin": False}, headers=deputy_headers
    )

    assert stepped_down.status_code == 200
    assert stepped_down.json()["is_admin"] is False
    assert last.status_code == 409


async def test_two_administrators_removing_each_other_at_once_leave_one(
    engine: AsyncEngine, settings: Settings
) -> None:
    # Real, committed transactions on two connections: the per-test rollback cannot show
    # two requests racing. The rows are deleted again at the end.
    sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    async with sessionmaker() as session, session.begin():
        admins = [
            User(
                email=f"{name}-{uuid.uuid4().hex[:8]}@example.com",
                hashed_password="-",
                is_admin=True,
            )
            for name in ("ada", "bob")
        ]
        session.add_all(admins)

    async def demote(user_id: int) -> None:
        async with sessionmaker() as session, session.begin():
            users = UserService(UserRepository(session), RefreshTokenRepository(session), settings)
            await users.update(await users.get(user_id), UserUpdateAdmin(is_admin=False))
            # Still in the transaction: the other demotion has read what it reads by now.
            await asyncio.sleep(0.2)

    try:
        outcomes = await asyncio.gather(
            *(demote(admin.id) for admin in admins), return_exceptions=True
        )
        async with sessionmaker() as session:
            left = await session.scalar(
                select(func.count()).where(User.is_admin, User.id.in_([a.id for a in admins]))
            )
    finally:
        async with sessionmaker() as session, session.begin():
            await session.execute(delete(User).where(User.id.in_([a.id for a in admins])))

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ConflictError", "NoneType"]
    assert left == 1
