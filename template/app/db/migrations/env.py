"""Alembic environment: async engine, URL from the app settings, metadata from the models."""

import asyncio
import hashlib
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.about import NAME
from app.core.settings import get_settings
from app.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# Advisory locks are per database; the project's name keeps this key apart from other
# software's locks in the same database.
MIGRATION_LOCK_KEY = int.from_bytes(
    hashlib.blake2b(f"{NAME} migrations".encode(), digest_size=8).digest(), signed=True
)


def database_url() -> str:
    # An explicit URL (tests, scripts) wins over the settings.
    return config.get_main_option("sqlalchemy.url") or get_settings().schema_database_url


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_server_default=True,
    )
    with context.begin_transaction():
        # Concurrent runs (several replicas starting at once) queue here; each reads the
        # version table only once it holds the lock, so the later ones find nothing to do.
        # Released with the transaction, or with a caller's transaction that encloses it.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_async_engine(database_url(), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif (connection := config.attributes.get("connection")) is not None:
    # A caller that already holds a connection (the test suite) migrates inside it.
    run_migrations(connection)
else:
    asyncio.run(run_migrations_online())
