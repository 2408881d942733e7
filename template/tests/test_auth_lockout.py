"""Password guessing against one account: after a few wrong passwords in a row the account
is locked, for longer after each further one, and while it is locked every answer is the
one a wrong password or an unknown e-mail gets, so the lock reveals nothing."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User
from tests.auth_helpers import PASSWORD, create_user

WRONG = "not the password at all"


@pytest.fixture
async def ada(database: Database) -> User:
    return await create_user(database, "ada@example.com")


async def log_in(client: AsyncClient, email: str, password: str) -> Any:
    return await client.post("/api/v1/auth/token", data={"username": email, "password": password})


def answer(response: Any) -> tuple[int, str, str, str | None]:
    """What a caller sees, but for the request id that differs on every response."""
    error = response.json()["error"]
    return (
        response.status_code,
        error["code"],
        error["message"],
        response.headers.get("www-authenticate"),
    )


async def lock_state(connection: AsyncConnection) -> tuple[int, timedelta | None]:
    failures, until = (
        await connection.execute(
            select(User.failed_logins, User.locked_until).where(User.email == "ada@example.com")
        )
    ).one()
    return failures, None if until is None else until - datetime.now(UTC)


@pytest.mark.usefixtures("ada")
async def test_wrong_passwords_lock_the_account_for_growing_periods(
    anonymous_client: AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    limit, first = settings.login_lockout_failures, settings.login_lockout_seconds
    unknown = answer(await log_in(anonymous_client, "nobody@example.com", WRONG))

    for _ in range(limit):
        assert answer(await log_in(anonymous_client, "ada@example.com", WRONG)) == unknown
    failures, locked_for = await lock_state(connection)
    locked = await log_in(anonymous_client, "ada@example.com", PASSWORD)
    await log_in(anonymous_client, "ada@example.com", WRONG)
    _, relocked_for = await lock_state(connection)

    assert failures == limit
    assert locked_for is not None
    assert first - 5 < locked_for.total_seconds() <= first
    # Locked, the right password gets exactly what a wrong one or an unknown e-mail gets.
    assert answer(locked) == unknown
    assert relocked_for is not None
    assert 2 * first - 5 < relocked_for.total_seconds() <= 2 * first


@pytest.mark.usefixtures("ada")
async def test_a_lock_ends_and_the_right_password_then_clears_the_count(
    anonymous_client: AsyncClient, connection: AsyncConnection, settings: Settings
) -> None:
    for _ in range(settings.login_lockout_failures):
        await log_in(anonymous_client, "ada@example.com", WRONG)
    # The lock's time has passed (moved back rather than waited out).
    await connection.execute(
        update(User).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
    )

    response = await log_in(anonymous_client, "ada@example.com", PASSWORD)

    assert response.status_code == 200
    assert await lock_state(connection) == (0, None)


@pytest.mark.usefixtures("ada")
async def test_a_run_of_wrong_passwords_answers_like_a_run_of_unknown_emails(
    anonymous_client: AsyncClient, settings: Settings
) -> None:
    attempts = range(settings.login_lockout_failures)
    known = [answer(await log_in(anonymous_client, "ada@example.com", WRONG)) for _ in attempts]
    unknown = [
        answer(await log_in(anonymous_client, "nobody@example.com", WRONG)) for _ in attempts
    ]

    assert known == unknown
    assert {status for status, *_ in known} == {401}


@pytest.mark.usefixtures("ada")
async def test_the_lock_grows_to_an_hour_at_most(
    anonymous_client: AsyncClient, connection: AsyncConnection
) -> None:
    await connection.execute(update(User).values(failed_logins=50))

    await log_in(anonymous_client, "ada@example.com", WRONG)

    failures, locked_for = await lock_state(connection)
    assert failures == 51
    assert locked_for is not None
    assert 3600 - 5 < locked_for.total_seconds() <= 3600
