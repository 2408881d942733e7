"""SIGTERM against the service started as its Dockerfile starts it: readiness turns 503
first, the listener goes on serving through the drain, the request in flight finishes,
and only then does the listener close and the process exit 0."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import Project
from tests.test_real_process import request, started

DRAIN_SECONDS = 3.0
CLIENTS = 40


class Traffic:
    """Clients that each open one fresh connection after another until `until`."""

    def __init__(self, host: str, port: int, until: float) -> None:
        self.host, self.port, self.until = host, port, until
        self.answered = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def client(self) -> None:
        while time.monotonic() < self.until:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            try:
                connection.request("GET", "/health/live")
                status = connection.getresponse().status
                with self.lock:
                    self.answered += 1
                    if status != 200:
                        self.failures.append(f"status {status}")
            except OSError as error:  # refused, reset, closed without an answer
                with self.lock:
                    self.failures.append(type(error).__name__)
            finally:
                connection.close()


def slow_sign_up(host: str, port: int) -> tuple[http.client.HTTPConnection, bytes]:
    """A request in flight: headers and half the body sent, the other half returned."""
    body = json.dumps(
        {"email": f"{uuid.uuid4().hex[:8]}@example.com", "password": "a long passphrase"}
    ).encode()
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.putrequest("POST", "/api/v1/auth/signup")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(body)))
    half = len(body) // 2
    connection.endheaders(body[:half])
    return connection, body[half:]


def listener_closed(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.stage("process")
def test_sigterm_drains_before_the_listener_closes(variant: Callable[[str], Project]) -> None:
    project = variant("everything")
    env = project.env(project.migrated_database(), SHUTDOWN_DRAIN_SECONDS=str(DRAIN_SECONDS))

    with started(project, env) as (base, process):
        address = urlsplit(base)
        host, port = address.hostname or "", address.port or 0
        assert request(f"{base}/health/ready")[0] == 200
        in_flight, rest_of_body = slow_sign_up(host, port)

        # New connections keep opening from before the signal to just before the drain ends.
        traffic = Traffic(host, port, until=float("inf"))
        clients = [threading.Thread(target=traffic.client) for _ in range(CLIENTS)]
        for thread in clients:
            thread.start()
        deadline = time.monotonic() + 10
        while traffic.answered < CLIENTS:
            assert time.monotonic() < deadline, "the clients got no answers"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        traffic.until = sent + DRAIN_SECONDS - 0.5
        readiness: list[tuple[float, int]] = []
        while time.monotonic() < traffic.until:
            try:
                readiness.append((time.monotonic() - sent, request(f"{base}/health/ready")[0]))
            except OSError as error:
                pytest.fail(f"readiness unreachable during the drain: {error!r}")
            time.sleep(0.05)
        for thread in clients:
            thread.join()

        deadline = time.monotonic() + DRAIN_SECONDS + 5
        while not listener_closed(host, port):
            assert time.monotonic() < deadline, "the listener stayed open after the drain"
            time.sleep(0.05)
        closed_after = time.monotonic() - sent
        # The listener has closed; the request in flight is still answered.
        in_flight.send(rest_of_body)
        response = in_flight.getresponse()
        signed_up = response.status, json.loads(response.read())
        exit_code = process.wait(timeout=30)

    print(f"{traffic.answered} connections answered, {len(traffic.failures)} failed")
    assert traffic.failures == [], f"{len(traffic.failures)} failed: {set(traffic.failures)}"
    assert traffic.answered >= CLIENTS
    first_unready = next((at for at, status in readiness if status == 503), None)
    assert first_unready is not None, readiness
    assert first_unready < 1.0
    assert {status for at, status in readiness if at >= first_unready} == {503}
    assert closed_after >= DRAIN_SECONDS
    assert signed_up[0] == 201, signed_up
    assert exit_code == 0


def worker_processes(pid: int) -> list[int]:
    """The processes `pid` spawned with multiprocessing (not its resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [
        int(child)
        for child in children
        if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]


@pytest.mark.stage("process")
def test_web_concurrency_still_runs_that_many_workers(variant: Callable[[str], Project]) -> None:
    project = variant("everything")
    env = project.env(project.migrated_database(), WEB_CONCURRENCY="2")

    with started(project, env) as (base, process):
        workers = worker_processes(process.pid)
        ready = request(f"{base}/health/ready")[0]
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=30)

    assert len(workers) == 2
    assert ready == 200
    assert exit_code == 0
