"""Reads that go straight into a response, without a session.

An ORM session earns its cost when objects change: a unit of work, an identity map,
instances to track. A row read only to be sent back needs none of it, and on the hottest
endpoints that machinery costs more than the query. `Reader` runs a SELECT that
SQLAlchemy built from the models, compiled once for asyncpg, on a connection from the
engine's own pool (same settings, same statement timeout), and hands back the row. The
connection is taken with `AsyncEngine.raw_connection()` and given back synchronously: one
hop into SQLAlchemy's greenlet for the checkout instead of an `AsyncConnection`'s three.

Errors come out as SQLAlchemy's `DBAPIError`, as from a session, so the app's error
handlers answer them the same way (a server that cannot be reached, or does not answer
within DB_COMMAND_TIMEOUT, is a 503); a connection the error broke is invalidated, so the
pool does not hand it out again. Values come back as asyncpg decodes them: SQLAlchemy's
own type processing (Enum, JSON, custom types) is not applied, so validate rows into a
schema, as `ItemReads` does.
"""

from collections.abc import Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
# Errors after which the session is gone: connection exceptions, and the server ending it.
_SESSION_ENDED_SQLSTATES = ("08", "57P")
AnySelect = Select[*tuple[Any, ...]]


class CompiledRead:
    """A SELECT compiled for the driver, with its bound parameters in positional order."""

    def __init__(self, statement: AnySelect, bind: AsyncEngine | AsyncConnection) -> None:
        compiled: SQLCompiler = statement.compile(dialect=bind.dialect)
        if any(b.expanding for b in compiled.binds.values()):
            msg = "IN with a list of bound values is rendered per call: read it in a session."
            raise ValueError(msg)
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        # Values the statement carries itself (literals SQLAlchemy binds, like the 2 in x * 2).
        binds = compiled.binds.items()
        self.fixed = {name: bind.effective_value for name, bind in binds if not bind.required}

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        merged = {**self.fixed, **values}
        if missing := [name for name in self.names if name not in merged]:
            msg = f"No value for {', '.join(missing)}."
            raise TypeError(msg)
        return [merged[name] for name in self.names]


class Reader:
    """Runs reads on the engine's pool, or (in tests) on one connection and its transaction."""

    def __init__(self, bind: AsyncEngine | AsyncConnection) -> None:
        self.bind = bind
        self._compiled: dict[AnySelect, CompiledRead] = {}

    async def one_or_none(self, statement: AnySelect, **values: Any) -> Mapping[str, Any] | None:
        """The row, or None. `statement` should be built once (a module constant): it is
        compiled on first use and the result kept for the process."""
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = CompiledRead(statement, self.bind)
        arguments = compiled.arguments(values)
        if isinstance(self.bind, AsyncConnection):
            return await self._read_in_transaction(self.bind, compiled.sql, arguments)
        try:
            pooled = await self.bind.raw_connection()
        except self.bind.dialect.loaded_dbapi.Error as exc:
            # Unlike `engine.connect()`, `raw_connection()` lets the driver's error through
            # (a server that cannot be reached): wrapped the same way, it is a 503 as well.
            dbapi_error = self.bind.dialect.loaded_dbapi.Error
            raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
        try:
            row = await _fetch_row(pooled.driver_connection, compiled.sql, arguments)
        except BaseException as exc:
            if _breaks_the_connection(exc, pooled.driver_connection):
                # Closed for good (the driver's terminate, no await): the pool connects anew.
                pooled.invalidate(exc)
            else:
                pooled.close()
            raise
        # Back to the pool without an await: nothing to roll back, the read began no
        # transaction.
        pooled.close()
        return row

    @staticmethod
    async def _read_in_transaction(
        connection: AsyncConnection, sql: str, arguments: list[Any]
    ) -> Mapping[str, Any] | None:
        driver = (await connection.get_raw_connection()).driver_connection
        try:
            return await _fetch_row(driver, sql, arguments)
        except BaseException as exc:
            if _breaks_the_connection(exc, driver):
                await connection.invalidate(exc)
            raise


async def _fetch_row(driver: Any, sql: str, arguments: list[Any]) -> Mapping[str, Any] | None:
    # `driver` is asyncpg's connection (the package has no type hints, hence Any).
    try:
        row: Mapping[str, Any] | None = await driver.fetchrow(sql, *arguments)
    except DRIVER_ERRORS as exc:
        broken = _breaks_the_connection(exc, driver)
        raise DBAPIError(sql, arguments, exc, connection_invalidated=broken) from exc
    return row


def _breaks_the_connection(exc: BaseException, driver: Any) -> bool:
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated
    if driver.is_closed() or not isinstance(exc, asyncpg.PostgresError):
        # Closed, failed on the client's side, or cancelled mid-query: the protocol's
        # state is unknown.
        return True
    return str(exc.sqlstate).startswith(_SESSION_ENDED_SQLSTATES)
