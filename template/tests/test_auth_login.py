"""Sign-up and login through the OAuth2 password flow, and every way they refuse."""

from typing import Any

import pytest
from httpx import AsyncClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import passwords
from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import PASSWORD, create_user

SIGNUP = "/api/v1/auth/signup"
TOKEN = "/api/v1/auth/token"


async def count_users(connection: AsyncConnection) -> int:
    return (await connection.execute(select(func.count()).select_from(User))).scalar_one()


async def log_in(client: AsyncClient, email: str, password: str = PASSWORD) -> Any:
    return await client.post(TOKEN, data={"username": email, "password": password})


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_sign_up_then_log_in(anonymous_client: AsyncClient) -> None:
    signed_up = await anonymous_client.post(
        SIGNUP, json={"email": "Ada@Example.com", "password": PASSWORD, "full_name": "Ada"}
    )
    logged_in = await log_in(anonymous_client, "ada@example.com")

    assert signed_up.status_code == 201
    assert signed_up.json()["email"] == "ada@example.com"
    assert signed_up.json()["is_admin"] is False
    assert "password" not in signed_up.text
    assert "hashed" not in signed_up.text
    assert logged_in.status_code == 200
    assert logged_in.json()["token_type"] == "bearer"
    assert logged_in.json()["expires_in"] == 15 * 60
    me = await anonymous_client.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {logged_in.json()['access_token']}"},
    )
    assert me.json()["email"] == "ada@example.com"


async def test_duplicate_email_is_a_conflict_whatever_its_case(
    anonymous_client: AsyncClient, connection: AsyncConnection
) -> None:
    await anonymous_client.post(SIGNUP, json={"email": "ada@example.com", "password": PASSWORD})

    response = await anonymous_client.post(
        SIGNUP, json={"email": "ADA@example.com", "password": PASSWORD}
    )

    assert_error(response, 409, "conflict")
    assert await count_users(connection) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"email": "ada@example.com", "password": "short"},
        {"email": "ada@example.com", "password": "x" * 129},
        {"email": "ada@example.com", "password": "password1234"},
        {"email": "ada@example.com", "password": "aaaaaaaaaaaaaaaa"},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "ada@example.com"},
        {"email": "ada@example.com", "password": PASSWORD, "is_admin": True},
    ],
)
async def test_bad_sign_ups_are_refused_and_write_nothing(
    anonymous_client: AsyncClient, connection: AsyncConnection, body: dict[str, Any]
) -> None:
    response = await anonymous_client.post(SIGNUP, json=body)

    assert_error(response, 422, "validation_error")
    assert PASSWORD not in response.text
    assert await count_users(connection) == 0


async def test_wrong_password_and_unknown_user_get_the_same_answer(
    anonymous_client: AsyncClient, database: Database
) -> None:
    await create_user(database, "ada@example.com")

    wrong = await log_in(anonymous_client, "ada@example.com", "not the password at all")
    unknown = await log_in(anonymous_client, "nobody@example.com")

    assert_error(wrong, 401, "unauthorized")
    assert_error(unknown, 401, "unauthorized")
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_unknown_users_cost_a_password_check_too(
    anonymous_client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Timing is not measured here (that is a benchmark's job); the work done is.
    checked: list[str] = []
    real_verify = passwords.hasher.verify

    def counting_verify(password: str, hashed: str) -> bool:
        checked.append(hashed)
        return real_verify(password, hashed)

    monkeypatch.setattr(passwords.hasher, "verify", counting_verify)

    await log_in(anonymous_client, "nobody@example.com")

    assert len(checked) == 1
    assert checked[0].startswith("$argon2")


@pytest.mark.parametrize(
    "form",
    [
        {"username": "ada@example.com"},
        {"password": PASSWORD},
        {"username": "ada@example.com", "password": "x" * 129},
        {"username": "x" * 321, "password": PASSWORD},
    ],
)
async def test_malformed_login_forms_are_refused(
    anonymous_client: AsyncClient, form: dict[str, str]
) -> None:
    response = await anonymous_client.post(TOKEN, data=form)

    assert_error(response, 422, "validation_error")


async def test_a_disabled_account_answers_like_a_wrong_password(
    anonymous_client: AsyncClient, database: Database
) -> None:
    await create_user(database, "gone@example.com", is_active=False)

    right = await log_in(anonymous_client, "gone@example.com")
    wrong = await log_in(anonymous_client, "gone@example.com", "not the password at all")

    # Refusing the right password differently would confirm it to whoever guessed it.
    assert_error(right, 401, "unauthorized")
    assert_error(wrong, 401, "unauthorized")
    assert right.json()["error"]["message"] == wrong.json()["error"]["message"]


async def test_outdated_hashes_are_upgraded_on_login(
    anonymous_client: AsyncClient, database: Database, connection: AsyncConnection
) -> None:
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8 * 1024),))
    async with database.sessionmaker() as session:
        session.add(User(email="old@example.com", hashed_password=weak.hash(PASSWORD)))
        await session.commit()

    response = await log_in(anonymous_client, "old@example.com")

    stored = (
        await connection.execute(
            select(User.hashed_password).where(User.email == "old@example.com")
        )
    ).scalar_one()
    assert response.status_code == 200
    assert "t=1," not in stored
    assert passwords.hasher.verify(PASSWORD, stored)
