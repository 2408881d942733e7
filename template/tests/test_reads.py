"""The reader (app/db/reads.py): reads run on the driver, errors come out as a session's
would, and a connection an error broke is not handed out again."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient
from sqlalchemy import Integer, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.core.errors import sqlstate
from app.core.settings import Settings
from app.db.reads import Reader

BACKEND_PID = select(func.pg_backend_pid().label("pid"))
SLEEP = select(func.pg_sleep(bindparam("seconds")).label("slept"))
NUMBERS = select(
    bindparam("first", type_=Integer).label("first"),
    (bindparam("second", type_=Integer) * 2).label("second_doubled"),
)


@pytest.fixture
async def one_connection_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        settings.database_url,
        pool_size=1,
        max_overflow=0,
        connect_args={"server_settings": {"statement_timeout": "200"}},
    )
    yield engine
    await engine.dispose()


async def test_arguments_are_bound_by_name_in_the_statements_order(
    one_connection_engine: AsyncEngine,
) -> None:
    reader = Reader(one_connection_engine)

    row = await reader.one_or_none(NUMBERS, second=21, first=1)

    assert row is not None
    assert dict(row) == {"first": 1, "second_doubled": 42}


async def test_a_missing_argument_is_refused_before_the_query(
    one_connection_engine: AsyncEngine,
) -> None:
    with pytest.raises(TypeError, match="No value for second"):
        await Reader(one_connection_engine).one_or_none(NUMBERS, first=1)


async def test_an_in_list_is_refused(one_connection_engine: AsyncEngine) -> None:
    statement = BACKEND_PID.where(func.pg_backend_pid().in_([1, 2]))

    with pytest.raises(ValueError, match="IN with a list"):
        await Reader(one_connection_engine).one_or_none(statement)


async def test_the_connection_goes_back_to_the_pool_after_each_read(
    one_connection_engine: AsyncEngine,
) -> None:
    reader = Reader(one_connection_engine)

    first = await reader.one_or_none(BACKEND_PID)
    assert one_connection_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    second = await reader.one_or_none(BACKEND_PID)

    assert first is not None
    assert second is not None
    assert first["pid"] == second["pid"]


async def test_a_read_cancelled_mid_query_leaves_no_busy_connection_in_the_pool(
    one_connection_engine: AsyncEngine,
) -> None:
    reader = Reader(one_connection_engine)
    read = asyncio.create_task(reader.one_or_none(SLEEP, seconds=0.15))
    await asyncio.sleep(0.05)  # the query is on the server

    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read

    assert one_connection_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    # The pool's only connection is usable at once, not still busy with the cancelled query.
    assert await reader.one_or_none(NUMBERS, first=1, second=1) is not None


async def test_a_query_error_is_a_dbapi_error_with_its_sqlstate(
    one_connection_engine: AsyncEngine,
) -> None:
    reader = Reader(one_connection_engine)

    with pytest.raises(DBAPIError) as raised:
        await reader.one_or_none(SLEEP, seconds=2.0)

    assert sqlstate(raised.value) == "57014"  # query_canceled, by the statement timeout
    assert not raised.value.connection_invalidated
    # The connection survived the error and is used again.
    assert await reader.one_or_none(BACKEND_PID) is not None


async def test_a_connection_broken_mid_read_is_not_handed_out_again(
    one_connection_engine: AsyncEngine, connection: AsyncConnection
) -> None:
    reader = Reader(one_connection_engine)
    before = await reader.one_or_none(BACKEND_PID)
    assert before is not None
    # Waits (up to 5 s) until the backend is gone.
    terminate = text("SELECT pg_terminate_backend(:pid, 5000)")
    await connection.execute(terminate, {"pid": before["pid"]})

    with pytest.raises(DBAPIError) as raised:
        await reader.one_or_none(BACKEND_PID)

    assert raised.value.connection_invalidated
    after = await reader.one_or_none(BACKEND_PID)
    assert after is not None
    assert after["pid"] != before["pid"]


async def test_the_app_answers_a_failed_read_in_its_error_schema(
    client: AsyncClient, connection: AsyncConnection
) -> None:
    # The reader shares the test's connection: abort its transaction under it.
    await connection.exec_driver_sql("SAVEPOINT broken")
    with pytest.raises(DBAPIError):
        await connection.exec_driver_sql("SELECT 1 / 0")

    response = await client.get("/api/v1/items/1")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    await connection.exec_driver_sql("ROLLBACK TO SAVEPOINT broken")
