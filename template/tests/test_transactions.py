"""The request's transaction: committed when the endpoint succeeds, rolled back otherwise.
A GET or HEAD has none: its queries autocommit, and it cannot write."""

from collections.abc import AsyncIterator

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.errors import ConflictError
from app.core.settings import Settings
from app.db.database import Database, create_database
from app.db.session import SessionDep
from app.main import create_app
from app.models import Item

probe = APIRouter()


@probe.post("/probe/write-then-fail")
async def write_then_fail(session: SessionDep) -> None:
    session.add(Item(name="half-written", quantity=1))
    await session.flush()
    raise ConflictError("refused after writing")


@probe.post("/probe/write-then-crash")
async def write_then_crash(session: SessionDep) -> None:
    session.add(Item(name="half-written", quantity=1))
    await session.flush()
    raise RuntimeError("bug")


@probe.post("/probe/write", status_code=201)
async def write(session: SessionDep) -> None:
    session.add(Item(name="committed", quantity=1))


@probe.get("/probe/write-in-a-read")
async def write_in_a_read(session: SessionDep) -> None:
    session.add(Item(name="written by a GET", quantity=1))
    await session.flush()


@pytest.fixture
async def probe_client(settings: Settings, database: Database) -> AsyncIterator[AsyncClient]:
    app = create_app(settings, database=database)
    app.include_router(probe)
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def names(connection: AsyncConnection) -> list[str]:
    return list((await connection.execute(select(Item.name))).scalars())


async def test_success_commits(probe_client: AsyncClient, connection: AsyncConnection) -> None:
    response = await probe_client.post("/probe/write")

    assert response.status_code == 201
    assert await names(connection) == ["committed"]


async def test_handled_error_rolls_back(
    probe_client: AsyncClient, connection: AsyncConnection
) -> None:
    response = await probe_client.post("/probe/write-then-fail")

    assert response.status_code == 409
    assert await names(connection) == []


async def test_unexpected_error_rolls_back_and_hides_details(
    probe_client: AsyncClient, connection: AsyncConnection
) -> None:
    response = await probe_client.post("/probe/write-then-crash")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["x-request-id"] == response.json()["error"]["request_id"]
    assert "bug" not in response.text
    assert await names(connection) == []


async def test_a_read_request_cannot_write(
    probe_client: AsyncClient, connection: AsyncConnection
) -> None:
    response = await probe_client.get("/probe/write-in-a-read")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert await names(connection) == []


async def test_reads_run_outside_a_transaction(settings: Settings) -> None:
    """Each query of a read commits on its own: no BEGIN and ROLLBACK around them."""
    database = create_database(settings)
    current = text("SELECT txid_current()")
    try:
        async with database.read_sessionmaker() as session:
            read = [await session.scalar(current) for _ in range(2)]
        async with database.sessionmaker() as session:
            written = [await session.scalar(current) for _ in range(2)]
    finally:
        await database.engine.dispose()

    assert read[0] != read[1]
    assert written[0] == written[1]
