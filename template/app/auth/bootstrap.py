"""The first administrator, from FIRST_SUPERUSER_EMAIL / FIRST_SUPERUSER_PASSWORD.

The migrate step runs it after the migrations (compose's migrate service, `make migrate`),
so the API never holds the password; it can also be run by hand:

    python -m app.auth.bootstrap

It is idempotent: an existing account with that e-mail is left untouched, and concurrent
runs cannot create it twice.
"""

import asyncio

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.auth.passwords import hash_password
from app.core.settings import Settings, get_settings
from app.db.database import Database, create_database
from app.models.user import User
from app.schema.user import UserCreate

log = structlog.get_logger(__name__)


async def ensure_first_superuser(settings: Settings, database: Database) -> bool:
    """Create the configured administrator unless it exists. True if it was created."""
    if not settings.first_superuser_email or settings.first_superuser_password is None:
        return False
    # Validated like any sign-up: a weak configured password stops the migrate step here.
    data = UserCreate(
        email=settings.first_superuser_email,
        password=settings.first_superuser_password.get_secret_value(),
    )
    async with database.sessionmaker() as session, session.begin():
        exists = await session.scalar(select(User.id).where(User.email == data.email))
        if exists is not None:
            return False
        created = await session.scalar(
            insert(User)
            .values(
                email=data.email, hashed_password=await hash_password(data.password), is_admin=True
            )
            .on_conflict_do_nothing(index_elements=[User.email])
            .returning(User.id)
        )
    if created is not None:
        log.info("first_superuser_created", user_id=created)
    return created is not None


async def bootstrap(settings: Settings) -> bool:
    database = create_database(settings)
    try:
        return await ensure_first_superuser(settings, database)
    finally:
        await database.engine.dispose()


def main() -> None:
    created = asyncio.run(bootstrap(get_settings()))
    print("created" if created else "nothing to do")


if __name__ == "__main__":
    main()
