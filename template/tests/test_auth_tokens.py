"""Access tokens are checked strictly; refresh tokens rotate and can be revoked."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth import tokens
from app.auth.tokens import ALGORITHM, create_access_token
from app.core.settings import Settings
from app.db.database import Database
from app.models.refresh_token import RefreshToken
from app.models.user import User
from tests.auth_helpers import PASSWORD, create_user, session_of

ME = "/api/v1/users/me"
# Digits to `str.isdigit` and `int` too (U+0660 to U+0669), but not how an id is written.
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "".join(map(chr, range(0x660, 0x66A))))


@pytest.fixture
async def ada(database: Database) -> User:
    return await create_user(database, "ada@example.com")


async def tokens_for(client: AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def me(client: AsyncClient, token: str) -> Any:
    return await client.get(ME, headers={"Authorization": f"Bearer {token}"})


def forge(settings: Settings, user: User, **changes: Any) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "sid": str(session_of(user)),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "typ": "access",
    }
    key = changes.pop("key", settings.secret_key.get_secret_value())
    algorithm = changes.pop("algorithm", ALGORITHM)
    claims.update(changes)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm=algorithm)


async def test_a_valid_token_is_accepted(
    anonymous_client: AsyncClient, settings: Settings, ada: User
) -> None:
    for token in (create_access_token(ada.id, session_of(ada), settings), forge(settings, ada)):
        response = await me(anonymous_client, token)

        assert response.status_code == 200
        assert response.json()["id"] == ada.id


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": datetime(2000, 1, 1, tzinfo=UTC)},
        {"exp": None},
        {"iat": None},
        {"iss": "someone-else"},
        {"iss": None},
        {"aud": "someone-else"},
        {"aud": ["someone-else", "{audience}"]},
        {"aud": None},
        {"typ": "refresh"},
        {"typ": None},
        {"sub": "not-a-number"},
        {"sub": "{id}.0"},
        {"sub": " {id}"},
        {"sub": "0{id}"},
        {"sub": "+{id}"},
        {"sub": "{id}\n"},
        {"sub": "{arabic_id}"},
        {"sub": 1},
        {"sub": None},
        {"sid": None},
        {"sid": "not-a-session"},
        {"sid": "{session_upper}"},
        {"sid": "{other_session}"},
        {"key": "another key, another key, another key"},
        {"algorithm": "HS512"},
        {"algorithm": "none", "key": None},
    ],
    ids=[
        "expired",
        "no-exp",
        "no-iat",
        "issuer",
        "no-issuer",
        "audience",
        "audience-list",
        "no-audience",
        "type",
        "no-type",
        "subject",
        "subject-decimal",
        "subject-space",
        "subject-leading-zero",
        "subject-sign",
        "subject-newline",
        "subject-arabic-digit",
        "subject-number",
        "no-subject",
        "no-session",
        "session-malformed",
        "session-uppercase",
        "session-unknown",
        "signature",
        "hs512",
        "none",
    ],
)
# Forging the HS512 token with the service's (HS256-sized) key makes PyJWT warn.
@pytest.mark.filterwarnings("ignore:The HMAC key is")
async def test_bad_access_tokens_are_refused(
    anonymous_client: AsyncClient, settings: Settings, ada: User, changes: dict[str, Any]
) -> None:
    # Placeholders for what depends on the test's user; made-up sessions belong to nobody.
    values = {
        "id": ada.id,
        "arabic_id": str(ada.id).translate(ARABIC_INDIC_DIGITS),
        "audience": settings.jwt_audience,
        "session_upper": str(session_of(ada)).upper(),
        "other_session": str(uuid.uuid4()),
    }
    for name, value in changes.items():
        if isinstance(value, str):
            changes[name] = value.format(**values)
        elif isinstance(value, list):
            changes[name] = [item.format(**values) for item in value]

    response = await me(anonymous_client, forge(settings, ada, **changes))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_that_passed_is_refused_once_it_expires(
    anonymous_client: AsyncClient,
    settings: Settings,
    ada: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Checked in full once, then remembered: only the expiry is checked again.
    expires = datetime.now(UTC) + timedelta(minutes=5)
    token = forge(settings, ada, exp=expires)
    assert (await me(anonymous_client, token)).status_code == 200

    monkeypatch.setattr(tokens, "_now", lambda: expires.timestamp())
    response = await me(anonymous_client, token)

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_tampered_and_garbage_tokens_are_refused(
    anonymous_client: AsyncClient, settings: Settings, ada: User
) -> None:
    header, payload, signature = create_access_token(ada.id, session_of(ada), settings).split(".")
    tampered = f"{header}.{payload[:-2]}xx.{signature}"

    for token in (tampered, "garbage", ""):
        assert (await me(anonymous_client, token)).status_code == 401
    assert (await anonymous_client.get(ME)).status_code == 401


async def test_tokens_of_deleted_or_disabled_users_are_refused(
    anonymous_client: AsyncClient, settings: Settings, database: Database
) -> None:
    disabled = await create_user(database, "off@example.com", is_active=False)
    session = session_of(disabled)

    for user_id in (disabled.id, 10**12):
        token = create_access_token(user_id, session, settings)
        assert (await me(anonymous_client, token)).status_code == 401
        created = await anonymous_client.post(
            "/api/v1/items", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert created.status_code == 401


@pytest.mark.usefixtures("ada")
async def test_refresh_rotates(anonymous_client: AsyncClient) -> None:
    first = await tokens_for(anonymous_client)

    second = await anonymous_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )

    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert (await me(anonymous_client, second.json()["access_token"])).status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(
    anonymous_client: AsyncClient, connection: AsyncConnection, ada: User
) -> None:
    first = await tokens_for(anonymous_client)
    second = (
        await anonymous_client.post(
            "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
    ).json()

    reused = await anonymous_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    successor = await anonymous_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )

    assert reused.status_code == 401
    assert "already used" in reused.json()["error"]["message"]
    # The thief's copy and the rightful successor are both dead now.
    assert successor.status_code == 401
    # (The session `create_user` opened is another login, untouched.)
    login = select(RefreshToken.revoked_at).where(RefreshToken.family != session_of(ada))
    revoked = (await connection.execute(login)).scalars().all()
    assert revoked
    assert None not in revoked


@pytest.mark.usefixtures("ada")
async def test_logout_revokes_the_refresh_token(anonymous_client: AsyncClient) -> None:
    pair = await tokens_for(anonymous_client)

    logout = await anonymous_client.post(
        "/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]}
    )
    refreshed = await anonymous_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )

    assert logout.status_code == 204
    assert refreshed.status_code == 401


@pytest.mark.parametrize("body", [{"refresh_token": "made-up"}, {"refresh_token": ""}, {}])
async def test_bad_refresh_requests_are_refused(
    anonymous_client: AsyncClient, body: dict[str, str]
) -> None:
    response = await anonymous_client.post("/api/v1/auth/refresh", json=body)

    assert response.status_code in {401, 422}
    assert response.json()["error"]["code"] in {"unauthorized", "validation_error"}


@pytest.mark.usefixtures("ada")
async def test_expired_refresh_tokens_are_refused(
    anonymous_client: AsyncClient, connection: AsyncConnection
) -> None:
    pair = await tokens_for(anonymous_client)
    await connection.execute(
        update(RefreshToken).values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
    )

    response = await anonymous_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_tokens_and_passwords_never_reach_the_logs(
    anonymous_client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await anonymous_client.post(
        "/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD}
    )
    pair = await tokens_for(anonymous_client)
    await anonymous_client.post("/api/v1/auth/token", data={"username": "x@y.z", "password": "p"})

    logs = capsys.readouterr().out

    assert "request" in logs
    assert PASSWORD not in logs
    assert pair["access_token"] not in logs
    assert pair["refresh_token"] not in logs
