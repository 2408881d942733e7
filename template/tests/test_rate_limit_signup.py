"""With auth: sign-ups are throttled per client address, so one client cannot create
accounts (nor, with mail, send confirmation mail) without end."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from tests.auth_helpers import PASSWORD


async def sign_ups(app: FastAPI, ip: str, times: int) -> list[int]:
    transport = ASGITransport(app=app, client=(ip, 1234))
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        statuses = []
        for n in range(times):
            email = f"user{n}-{ip}@example.com"
            response = await client.post(
                "/api/v1/auth/signup", json={"email": email, "password": PASSWORD}
            )
            statuses.append(response.status_code)
        assert response.json()["error"]["code"] == "rate_limited"
        assert int(response.headers["retry-after"]) > 0
        return statuses


async def test_sign_ups_are_limited_per_address(app: FastAPI) -> None:
    assert await sign_ups(app, "10.0.0.7", 6) == [201] * 5 + [429]
    # Another address has its own budget.
    assert (await sign_ups(app, "10.0.0.8", 6))[0] == 201
