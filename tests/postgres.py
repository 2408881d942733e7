"""Where the template's tests find PostgreSQL, and a database of its own for each project.

Order of preference: the server in TEST_DATABASE_URL (CI sets it); a PostgreSQL on
127.0.0.1:5432 as `postgres`; else a throwaway server from the `pgserver` wheel, so that
the suite passes on a machine with nothing running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

from tests.ports import free_port

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# The databases this process's tests created and have not dropped yet: the session checks
# at its end that none is left behind.
CREATED: set[str] = set()


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
        CREATED.add(name)
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        CREATED.discard(name)

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


def _binaries() -> Path:
    """A directory with initdb, pg_ctl and postgres: the system's, else pgserver's."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    if found := shutil.which("pg_ctl"):
        return Path(found).parent
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


class PostgresProcess:
    """A private PostgreSQL cluster on a free loopback port (trust authentication), which a
    test may stop, start again, or freeze with SIGSTOP as a hung server would be."""

    def __init__(self, workdir: Path | None = None) -> None:
        self.bin = _binaries()
        # initdb refuses to run as root: then the cluster belongs to the `postgres` account,
        # in a directory of its own that account can reach (pytest's tmp_path is private).
        self.user = "postgres" if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="pg-", dir=workdir))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.port = free_port()
        self.server = Server(url=make_url(f"postgresql://postgres@127.0.0.1:{self.port}/postgres"))
        if self.user is not None:
            shutil.chown(self.root, self.user)
        self._run(
            "initdb", "--auth=trust", "--username=postgres", "--encoding=UTF8", "-D", str(self.data)
        )
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "fsync": "off",
            "max_connections": "200",
        }
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        self.start()

    def url(self, database: str = "postgres", *, driver: str = "postgresql+asyncpg") -> str:
        return self.server.database_url(database, driver=driver)

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-D", str(self.data), "-l", str(self.root / "log"))

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl's shutdown modes: "smart", "fast" or "immediate" (a crash, as kill -9)."""
        self.thaw()
        self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data))

    def freeze(self) -> None:
        """SIGSTOP the postmaster, then every process it forked: a server that accepts TCP
        connections (the kernel does) and answers nothing."""
        postmaster = self._postmaster()
        assert postmaster is not None, "the cluster is not running"
        os.kill(postmaster, signal.SIGSTOP)
        for pid in _children(postmaster):
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        postmaster = self._postmaster()
        if postmaster is None:
            return
        for pid in [*_children(postmaster), postmaster]:
            os.kill(pid, signal.SIGCONT)

    def destroy(self) -> None:
        if self._postmaster() is not None:
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _postmaster(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            pid = int(pidfile.read_text(encoding="utf-8").split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [str(self.bin / tool), *args],
            user=self.user,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{tool} {' '.join(args)}:\n{result.stdout}{result.stderr}"


def _children(parent: int) -> list[int]:
    """Processes whose parent is `parent` (a postmaster's backends and helpers)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(int(stat.parent.name))
    return children
