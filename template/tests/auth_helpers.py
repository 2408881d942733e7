"""Users and tokens for tests, made directly rather than through the API."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta

from app.auth.passwords import hash_password
from app.auth.tokens import create_access_token
from app.core.settings import Settings
from app.db.database import Database
from app.models.refresh_token import RefreshToken
from app.models.user import User

PASSWORD = "correct horse battery staple"
# Argon2 is slow on purpose; hash each test password once per session.
_hashes: dict[str, str] = {}
# The login each created user starts with: access tokens are accepted only in a live one.
_sessions: dict[int, uuid.UUID] = {}


async def create_user(
    database: Database,
    email: str,
    *,
    password: str = PASSWORD,
    is_admin: bool = False,
    is_active: bool = True,
) -> User:
    """A user, signed in once (as a login would): `bearer` makes tokens of that session."""
    if password not in _hashes:
        _hashes[password] = await hash_password(password)
    async with database.sessionmaker() as session:
        user = User(
            email=email, hashed_password=_hashes[password], is_admin=is_admin, is_active=is_active
        )
        session.add(user)
        await session.flush()
        family = uuid.uuid4()
        session.add(
            RefreshToken(
                user_id=user.id,
                family=family,
                token_hash=secrets.token_hex(32),
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
        await session.commit()
    _sessions[user.id] = family
    return user


def session_of(user: User) -> uuid.UUID:
    return _sessions[user.id]


def bearer(user: User, settings: Settings) -> str:
    return f"Bearer {create_access_token(user.id, session_of(user), settings)}"
