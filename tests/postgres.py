"""Where the template's tests find PostgreSQL, and a database of its own for each project.

Order of preference: the server in TEST_DATABASE_URL (CI sets it); a PostgreSQL on
127.0.0.1:5432 as `postgres`; else a throwaway server from the `pgserver` wheel, so that
the suite passes on a machine with nothing running.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Server:
    url: URL

    def database_url(self, name: str, *, driver: str = "postgresql+asyncpg") -> str:
        url = self.url.set(drivername=driver, database=name)
        return url.render_as_string(hide_password=False)

    def admin(self, sql: str) -> None:
        asyncio.run(_execute(self.database_url("postgres", driver="postgresql"), sql))

    def create_database(self, prefix: str = "tpl", *, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        self.admin(f'CREATE DATABASE "{name}"{copy}')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def can_create_roles(self) -> bool:
        return bool(
            asyncio.run(
                _fetchval(
                    self.database_url("postgres", driver="postgresql"),
                    "SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user",
                )
            )
        )


async def _execute(dsn: str, sql: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(dsn))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _fetchval(dsn: str, sql: str) -> object:
    connection = await asyncpg.connect(_asyncpg_dsn(dsn))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _reachable(url: str) -> bool:
    try:
        asyncio.run(_execute(url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError):
        return False
    return True


def find_server(scratch: Path) -> Server:
    if configured := os.environ.get("TEST_DATABASE_URL"):
        return Server(url=make_url(configured))
    if _reachable(LOCAL_SERVER):
        return Server(url=make_url(LOCAL_SERVER))
    import pgserver

    server = pgserver.get_server(scratch / "pgdata", cleanup_mode="stop")
    return Server(url=make_url(server.get_uri()))
