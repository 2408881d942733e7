"""Concurrent migrations: replicas that all run the migrate step at once on an empty database,
or start with MIGRATE_ON_START, take turns, and the ones after the first find nothing to do."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import asyncpg
from sqlalchemy.engine import make_url

from tests.conftest import Project
from tests.ports import free_port
from tests.test_real_process import (
    dockerfile_command,
    migrate_command,
    new_member,
    request,
    wait_until_healthy,
)

PROCESSES = 6


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
    then lets them all through at once, and every later one at once: processes that import
    at different speeds still reach the database together, as replicas of a deployment do."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(90)
    held: list[socket.socket] = []

    def connect(client: socket.socket) -> None:
        upstream = socket.create_connection((host, port))
        for pair in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=pair, daemon=True).start()

    def relay() -> None:
        try:
            while len(held) < clients:
                held.append(listener.accept()[0])
            for client in held:
                connect(client)
            while True:
                connect(listener.accept()[0])
        except OSError:
            return

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
    command = migrate_command(project)
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
    assert sum("schema_at_head" in out for out in outputs) == PROCESSES - 1


SERVERS = 3


def test_servers_started_together_with_migrate_on_start_migrate_once_and_all_serve(
    variant: Callable[[str], Project],
) -> None:
    project = variant("default")
    url = project.new_database()
    heads = [line.split()[0] for line in project.run("alembic", "heads").stdout.splitlines()]
    server = make_url(url)
    ports = [free_port() for _ in range(SERVERS)]

    with starting_gate(server.host or "127.0.0.1", server.port or 5432, SERVERS) as gate:
        gated = server.set(port=gate).render_as_string(hide_password=False)
        env = project.env(gated, MIGRATE_ON_START="true", SHUTDOWN_DRAIN_SECONDS="0")
        processes = [
            subprocess.Popen(
                server_command(project, port),
                cwd=project.path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for port in ports
        ]
        try:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base, process in zip(bases, processes, strict=True):
                wait_until_healthy(base, process, timeout=90)
            # A write through one, read back through each of the others.
            token = new_member(project, bases[0])
            status, item = request(f"{bases[0]}/api/v1/items", {"name": "bolt"}, token=token)
            assert status == 201, item
            for base in bases[1:]:
                assert request(f"{base}/api/v1/items/{item['id']}", token=token) == (200, item)
        finally:
            for process in processes:
                process.terminate()
            outputs = [process.communicate(timeout=60)[0] for process in processes]

    assert sorted(asyncio.run(version_rows(url))) == sorted(heads)
    assert sum("Running upgrade" in out for out in outputs) == 1, outputs
    assert sum("schema_at_head" in out for out in outputs) == SERVERS - 1, outputs


def server_command(project: Project, port: int) -> list[str]:
    """The image's entrypoint and CMD, on loopback and `port`."""
    command = dockerfile_command(project)
    assert command[0] == "python"
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    return [project.interpreter, *command[1:]]
