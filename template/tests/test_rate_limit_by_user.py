"""With auth: signed-in callers are counted per account; logins are throttled."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.core.settings import Settings
from app.db.database import Database
from tests.auth_helpers import PASSWORD, bearer, create_user


async def items_statuses(app: FastAPI, token: str, times: int) -> list[int]:
    transport = ASGITransport(app=app, client=("10.0.0.9", 1234))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        return [
            (await client.get("/api/v1/items", headers={"Authorization": token})).status_code
            for _ in range(times)
        ]


async def test_users_behind_one_address_have_their_own_budgets(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    ada = bearer(await create_user(database, "ada@example.com"), settings)
    bob = bearer(await create_user(database, "bob@example.com"), settings)

    assert (await items_statuses(app, ada, 121))[-1] == 429
    assert await items_statuses(app, bob, 3) == [200, 200, 200]


async def test_logins_are_throttled(anonymous_client: AsyncClient, database: Database) -> None:
    await create_user(database, "ada@example.com")
    form = {"username": "ada@example.com", "password": "wrong " + PASSWORD}

    answers = [(await anonymous_client.post("/api/v1/auth/token", data=form)) for _ in range(11)]

    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert answers[-1].headers["retry-after"]


async def test_an_invalid_token_is_counted_by_address_and_the_read_still_answered(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    ada = bearer(await create_user(database, "ada@example.com"), settings)

    # Up to the limit with a token nobody signed: the address's budget, and open reads
    # answer as they would without a token.
    assert await items_statuses(app, "Bearer not-a-token", 120) == [200] * 120
    # The same address is now spent; a signed-in user behind it is not.
    assert await items_statuses(app, "Bearer forged.but.wellformed", 1) == [429]
    assert await items_statuses(app, ada, 1) == [200]
