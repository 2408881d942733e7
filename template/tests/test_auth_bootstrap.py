"""The first administrator is created from the settings, once."""

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.bootstrap import ensure_first_superuser
from app.auth.passwords import hasher
from app.core.settings import Settings
from app.db.database import Database
from app.models.user import User

PASSWORD = "the first admin's passphrase"


def configured(settings: Settings, password: str = PASSWORD) -> Settings:
    return settings.model_copy(
        update={
            "first_superuser_email": "Root@Example.com",
            "first_superuser_password": SecretStr(password),
        }
    )


async def test_created_once_however_often_it_runs(
    settings: Settings, database: Database, connection: AsyncConnection
) -> None:
    first = await ensure_first_superuser(configured(settings), database)
    second = await ensure_first_superuser(configured(settings), database)

    admins = (
        await connection.execute(select(User.email, User.hashed_password).where(User.is_admin))
    ).all()
    assert (first, second) == (True, False)
    assert [email for email, _ in admins] == ["root@example.com"]
    assert hasher.verify(PASSWORD, admins[0].hashed_password)


async def test_nothing_happens_without_configuration(
    settings: Settings, database: Database, connection: AsyncConnection
) -> None:
    created = await ensure_first_superuser(settings, database)

    assert created is False
    assert (await connection.execute(select(func.count()).select_from(User))).scalar_one() == 0


async def test_a_weak_configured_password_stops_the_start_up(
    settings: Settings, database: Database
) -> None:
    with pytest.raises(ValidationError, match="password"):
        await ensure_first_superuser(configured(settings, "short"), database)
