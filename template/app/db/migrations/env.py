"""Alembic environment: async engine, URL from the app settings, metadata from the models."""

import asyncio
import hashlib
from logging.config import fileConfig

from alembic import context
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.core.about import NAME
from app.core.settings import get_settings
from app.db.problems import explain
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


def database_url() -> tuple[str, str]:
    """The URL to migrate, and where it comes from, for the message when it fails."""
    # An explicit URL (tests, scripts) wins over the settings, which are then not read: this
    # module is Alembic's entry point, the one place the migrations get them from.
    if url := config.get_main_option("sqlalchemy.url"):
        return url, "sqlalchemy.url"
    settings = get_settings()
    source = "MIGRATION_DATABASE_URL" if settings.migration_database_url else "DATABASE_URL"
    return settings.schema_database_url, source


# The template's own revisions are numbered 0001 to 0999 (an update may bring more);
# the project's own take the numbers from 1001 on, so the two never collide.
FIRST_PROJECT_REVISION = 1001
# Set when an autogenerate found nothing to write.
NO_CHANGES: list[str] = []


def next_revision_id() -> str:
    numbers = [
        int(script.revision)
        for script in ScriptDirectory.from_config(config).walk_revisions()
        if script.revision.isdigit()
    ]
    return f"{max([FIRST_PROJECT_REVISION - 1, *numbers]) + 1:04d}"


def process_revision_directives(
    _: MigrationContext, __: object, directives: list[MigrationScript]
) -> None:
    options = config.cmd_opts
    script = directives[0]
    autogenerate = options is not None and getattr(options, "autogenerate", False)
    if autogenerate and script.upgrade_ops is not None and script.upgrade_ops.is_empty():
        # An empty revision is noise at best, a hidden mistake at worst (a model that is
        # not imported in app/models/__init__.py): write nothing, and say so.
        directives[:] = []
        NO_CHANGES.append(str(script.message))
        return
    if options is None or not getattr(options, "rev_id", None):
        # Named like the shipped ones: 1001_add_orders.py, not 3f2a9c1b7e4d_add_orders.py.
        script.rev_id = next_revision_id()


def run_migrations_offline() -> None:
    url, _ = database_url()
    context.configure(
        url=url,
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
        process_revision_directives=process_revision_directives,
    )
    with context.begin_transaction():
        # Concurrent runs (several replicas starting at once) queue here; each reads the
        # version table only once it holds the lock, so the later ones find nothing to do.
        # Released with the transaction, or with a caller's transaction that encloses it.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_migrations_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
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
    url, source = database_url()
    try:
        asyncio.run(run_migrations_online(url))
    except (DBAPIError, OSError) as error:
        # A missing database or a stopped server is a setup step left out, not a bug:
        # one line on what to do instead of the driver's traceback.
        if (reason := explain(error, url, source)) is None:
            raise
        raise SystemExit(reason) from None
if NO_CHANGES:
    raise SystemExit(
        f"No changes between the models and the migrations: no revision {NO_CHANGES[0]!r} "
        "written (a new model must be imported in app/models/__init__.py)."
    )
