"""The entrypoint's checks (app/prestart.py) and the example data (app/seed.py). Whatever
a test changes, it changes inside its own transaction, which is rolled back."""

import socket

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.core.settings import Settings
from app.db.database import Database
from app.prestart import NotReady, check, check_schema, wait_for_database
from app.seed import EXAMPLES, add_examples
from tests.plugins.app import alembic_config


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_migrated_database_passes(engine: AsyncEngine, settings: Settings) -> None:
    # `engine` is there for its fixture's work: the test database, migrated.
    await check(settings.database_url)


async def test_an_empty_schema_is_told_to_migrate(
    schema_connection: AsyncConnection, settings: Settings
) -> None:
    await schema_connection.execute(text("CREATE SCHEMA prestart_empty"))
    await schema_connection.execute(text("SET LOCAL search_path TO prestart_empty"))

    with pytest.raises(NotReady, match="has no schema yet: run the migrations"):
        await schema_connection.run_sync(check_schema, settings.database_url)


async def test_a_schema_behind_the_code_names_both_revisions(
    schema_connection: AsyncConnection, settings: Settings
) -> None:
    def downgrade(connection: Connection) -> str | None:
        """Down to the newest revision that is no head, if there is one."""
        config = alembic_config(connection)
        scripts = ScriptDirectory.from_config(config)
        heads = set(scripts.get_heads())
        older = [s.revision for s in scripts.walk_revisions() if s.revision not in heads]
        if older:
            command.downgrade(config, older[0])
        return older[0] if older else None

    revision = await schema_connection.run_sync(downgrade)
    if revision is None:
        pytest.skip("one migration only: a schema that has it is at head")

    # Other branches stay where they were: the revisions listed include `revision`.
    behind = rf"is at revision [\d, ]*\b{revision}\b[\d, ]* and this code needs \d"
    with pytest.raises(NotReady, match=behind):
        await schema_connection.run_sync(check_schema, settings.database_url)


async def test_a_revision_the_code_does_not_have_is_named(
    schema_connection: AsyncConnection, settings: Settings
) -> None:
    await schema_connection.execute(text("DELETE FROM alembic_version"))
    await schema_connection.execute(text("INSERT INTO alembic_version VALUES ('9001')"))

    with pytest.raises(NotReady, match="at revision 9001, which this code does not have"):
        await schema_connection.run_sync(check_schema, settings.database_url)


async def test_a_missing_database_is_not_waited_for(settings: Settings) -> None:
    missing = make_url(settings.database_url).set(database="prestart_no_such_database")
    url = missing.render_as_string(hide_password=False)

    with pytest.raises(NotReady, match="does not exist: create it with `make db`"):
        await wait_for_database(url, "DATABASE_URL", seconds=60)


async def test_a_server_that_never_answers_is_given_up_on(settings: Settings) -> None:
    nowhere = make_url(settings.database_url).set(host="127.0.0.1", port=unused_port())
    url = nowhere.render_as_string(hide_password=False)

    with pytest.raises(NotReady, match=r"Cannot reach PostgreSQL .* or fix DATABASE_URL"):
        await wait_for_database(url, "DATABASE_URL", seconds=1)


async def test_the_examples_are_added_once(database: Database) -> None:
    async with database.sessionmaker() as session:
        assert await add_examples(session) == len(EXAMPLES)
        assert await add_examples(session) == 0
