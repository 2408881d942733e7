"""Fixtures: a migrated test database and an app whose every test is rolled back.

The schema is built by running the real Alembic migrations once per session. Each test
then runs inside one outer transaction that is rolled back at its end; the app's own
`get_session` commits and rolls back savepoints inside it, so commit and rollback paths
are exercised for real and no test sees another's data.
"""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.settings import Settings, get_settings
from app.db.database import Database, session_factory
from app.main import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@pytest.fixture(scope="session")
def settings() -> Settings:
    settings = get_settings()
    return settings.model_copy(
        update={"environment": "test", "database_url": settings.tests_database_url}
    )


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    sessionmaker = session_factory(engine)
    sessionmaker.configure(bind=connection, join_transaction_mode="create_savepoint")
    return Database(engine=engine, sessionmaker=sessionmaker)


@pytest.fixture
async def client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, database=database)
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client
