"""Concurrent migrations: replicas that all run the migrate step at once on an empty database
take turns, and the ones after the first find nothing to do."""

from __future__ import annotations

import asyncio
import re
import shlex
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import asyncpg
import yaml
from sqlalchemy.engine import make_url

from tests.conftest import Project

PROCESSES = 6


def migrate_command(project: Project) -> list[str]:
    """The `alembic upgrade ...` the compose migrate service runs, as it spells it."""
    services = yaml.safe_load(project.read("docker-compose.yml"))["services"]
    command = services["migrate"]["command"]
    text = command if isinstance(command, str) else shlex.join(command)
    found = re.search(r"alembic upgrade [\w@+-]+", text)
    assert found, f"no alembic upgrade in the migrate service's command: {command}"
    return found.group().split()


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@contextmanager
def starting_gate(host: str, port: int, clients: int) -> Iterator[int]:
    """A TCP relay to PostgreSQL that holds every connection until `clients` have arrived,
    then lets them all through at once: processes that import at different speeds still
    reach the database together, as replicas of a deployment do."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(90)
    held: list[socket.socket] = []

    def relay() -> None:
        try:
            while len(held) < clients:
                held.append(listener.accept()[0])
        except OSError:
            return
        for client in held:
            upstream = socket.create_connection((host, port))
            for pair in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=pair, daemon=True).start()

    thread = threading.Thread(target=relay, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


async def version_rows(url: str) -> list[str]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        return [row[0] for row in await connection.fetch("SELECT version_num FROM alembic_version")]
    finally:
        await connection.close()


def test_concurrent_upgrades_on_an_empty_database_all_succeed_once(
    variant: Callable[[str], Project],
) -> None:
    project = variant("everything")
    url = project.new_database()
    heads = [line.split()[0] for line in project.run("alembic", "heads").stdout.splitlines()]
    command = [project.interpreter, "-m", *migrate_command(project)]
    server = make_url(url)

    with starting_gate(server.host or "127.0.0.1", server.port or 5432, PROCESSES) as port:
        gated = server.set(port=port).render_as_string(hide_password=False)
        processes = [
            subprocess.Popen(
                command,
                cwd=project.path,
                env=project.env(gated),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(PROCESSES)
        ]
        outputs = [process.communicate(timeout=120)[0] for process in processes]

    failed = [out for process, out in zip(processes, outputs, strict=True) if process.returncode]
    assert failed == [], f"{len(failed)} of {PROCESSES} failed; the first:\n{failed[0]}"
    assert sorted(asyncio.run(version_rows(url))) == sorted(heads)
    # One run did the work; every other one found the schema at head.
    assert sum("Running upgrade" in out for out in outputs) == 1
