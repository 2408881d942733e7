"""The app's fixtures: a migrated test database and an app whose every test is rolled back.

The schema is built by running the real Alembic migrations once per session, as the role
that owns the schema; the tests run as the application's role, so that a query the role
may not run in production fails here too. Each test runs inside one outer transaction that
is rolled back at its end; the app's own `get_session` commits and rolls back savepoints
inside it, so commit and rollback paths are exercised for real and no test sees another's
data.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.settings import Settings, get_settings
from app.db.database import Database, session_factory
from app.db.problems import explain
from app.db.reads import Reader
from app.main import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(PROJECT_ROOT / "alembic.ini")
    config.attributes["configure_logger"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@asynccontextmanager
async def app_client(
    app: FastAPI, headers: dict[str, str] | None = None
) -> AsyncIterator[AsyncClient]:
    """An HTTP client for the app, with its lifespan run as a server would."""
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test", headers=headers) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def settings() -> Settings:
    settings = get_settings()
    return settings.model_copy(
        update={"environment": "test", "database_url": settings.tests_database_url}
    )


async def usable(url: str, variable: str) -> None:
    """Stop the session, with the reason in one line, if `url`'s database cannot be used:
    a database left out of the setup would otherwise fail every test."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")
    except (DBAPIError, OSError) as error:
        if (reason := explain(error, url, variable)) is None:
            raise
        pytest.exit(reason, returncode=pytest.ExitCode.INTERRUPTED)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def schema_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The test database as the role that owns its schema, built with the real
    migrations; the tests themselves run as the application's role (`engine`)."""
    # The tests' own URL first: the schema role's URL takes its database from it, so what
    # is wrong there is named as TEST_DATABASE_URL's fault.
    await usable(settings.database_url, "TEST_DATABASE_URL")
    variable = "MIGRATION_DATABASE_URL" if settings.migration_database_url else "TEST_DATABASE_URL"
    await usable(settings.tests_schema_database_url, variable)
    engine = create_async_engine(settings.tests_schema_database_url, poolclass=NullPool)
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "heads"))
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def engine(settings: Settings, schema_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(settings.database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@asynccontextmanager
async def rolled_back(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with rolled_back(engine) as connection:
        yield connection


@pytest.fixture
async def schema_connection(schema_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as the role that owns the schema, rolled back too: for the tests that
    change the schema, which the application's role may not."""
    async with rolled_back(schema_engine) as connection:
        yield connection


def joined_database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    """The app's database, inside the transaction `connection` holds."""
    # Sessions join the test's transaction, which is rolled back: reads too, so they see
    # the test's rows (no autocommit here) and still refuse to write. The reader runs on
    # the same connection, for the same reason.
    sessionmaker, read_sessionmaker = (
        session_factory(connection, read_only=read_only) for read_only in (False, True)
    )
    for factory in (sessionmaker, read_sessionmaker):
        factory.configure(join_transaction_mode="create_savepoint")
    return Database(engine, sessionmaker, read_sessionmaker, Reader(connection))


@pytest.fixture
def database(engine: AsyncEngine, connection: AsyncConnection) -> Database:
    return joined_database(engine, connection)


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """The settings of one test's app: the session's, unless a plugin makes them its own."""
    return settings


@pytest.fixture
def app(app_settings: Settings, database: Database) -> FastAPI:
    return create_app(app_settings, database=database)


@pytest.fixture
async def anonymous_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """A client that sends no credentials."""
    async with app_client(app) as client:
        yield client


@pytest.fixture
def client(anonymous_client: AsyncClient) -> AsyncClient:
    """The client most tests use; a plugin may sign it in."""
    return anonymous_client
