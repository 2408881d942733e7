"""Users and tokens for tests, made directly rather than through the API."""

from app.auth.passwords import hash_password
from app.auth.tokens import create_access_token
from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User

PASSWORD = "correct horse battery staple"
# Argon2 is slow on purpose; hash each test password once per session.
_hashes: dict[str, str] = {}


async def create_user(
    database: Database,
    email: str,
    *,
    password: str = PASSWORD,
    is_admin: bool = False,
    is_active: bool = True,
) -> User:
    if password not in _hashes:
        _hashes[password] = await hash_password(password)
    async with database.sessionmaker() as session:
        user = User(
            email=email, hashed_password=_hashes[password], is_admin=is_admin, is_active=is_active
        )
        session.add(user)
        await session.commit()
        return user


def bearer(user: User, settings: Settings) -> str:
    return f"Bearer {create_access_token(user.id, settings)}"
