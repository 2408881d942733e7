"""The tests run as the role the service runs as in production, which may read and write
rows but not change the schema: a query that role may not run fails here, not in
production."""

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.settings import Settings


async def test_the_tests_run_as_the_application_role(
    connection: AsyncConnection, settings: Settings
) -> None:
    migrator = make_url(settings.tests_schema_database_url).username
    if make_url(settings.database_url).username == migrator:
        pytest.skip("TEST_DATABASE_URL's role migrates the test database too")
    superuser = text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")

    assert (await connection.execute(superuser)).scalar_one() is False
    with pytest.raises(ProgrammingError, match="permission denied"):
        await connection.execute(text("CREATE TABLE not_allowed (id integer)"))
