"""Each web server the `server` question offers, running the same app as its Dockerfile
starts it: it passes the project's checks, serves health and a write, finishes a request
in flight after SIGTERM, and replaces a worker that was killed."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servers import SERVERS

from tests import pythons
from tests.conftest import Project, render
from tests.ports import free_port
from tests.postgres import Server
from tests.test_real_process import new_member, request, started
from tests.test_shutdown import listener_closed, slow_sign_up


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest,
    copier_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pg: Server,
    redis_url: str,
) -> Iterator[Project]:
    """The default project on one server."""
    destination = tmp_path_factory.mktemp(request.param) / "service"
    path = render(copier_template, destination, http_port=free_port(), server=request.param)
    project = Project(path, pg, redis_url, interpreter=pythons.interpreter("3.12"))
    yield project
    project.drop_databases()


def workers(pid: int) -> set[int]:
    """The worker processes of the server `pid`: its children, but for multiprocessing's
    resource tracker."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {
        int(child)
        for child in children
        if b"resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes()
    }


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.1)


def answers(base: str) -> bool:
    try:
        return request(f"{base}/health/ready")[0] == 200
    except OSError:
        return False


@pytest.mark.stage("process")
def test_the_project_passes_its_static_checks(served: Project) -> None:
    served.run("ruff", "check", ".")
    served.run("mypy")


@pytest.mark.stage("process")
def test_it_serves_health_and_a_write(served: Project) -> None:
    with started(served, served.env(served.migrated_database())) as (base, _):
        assert request(f"{base}/health/ready")[0] == 200
        token = new_member(served, base)
        status, item = request(f"{base}/api/v1/items", {"name": "bolt"}, token=token)
        assert status == 201, item
        assert request(f"{base}/api/v1/items/{item['id']}", token=token) == (200, item)


@pytest.mark.stage("process")
def test_sigterm_lets_the_request_in_flight_finish(served: Project) -> None:
    # One worker: it reads the connections in the order they came.
    env = served.env(served.migrated_database(), WEB_CONCURRENCY="1")

    with started(served, env) as (base, process):
        address = urlsplit(base)
        host, port = address.hostname or "", address.port or 0
        in_flight, rest_of_body = slow_sign_up(host, port)
        # Answered after the worker has read the head of the request that came before.
        assert request(f"{base}/health/live")[0] == 200
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: listener_closed(host, port), 30, "the listener closed")
        in_flight.send(rest_of_body)
        response = in_flight.getresponse()
        signed_up = response.status, json.loads(response.read())
        exit_code = process.wait(timeout=30)

    assert signed_up[0] == 201, signed_up
    assert exit_code == 0


@pytest.mark.stage("process")
def test_a_killed_worker_is_replaced(served: Project) -> None:
    env = served.env(served.migrated_database(), WEB_CONCURRENCY="2")

    with started(served, env) as (base, process):
        wait_for(lambda: len(workers(process.pid)) == 2, 30, "two workers")
        before = workers(process.pid)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(workers(process.pid) - {victim}) == 2, 30, "a new worker")
        # Once the new worker has started, every request is answered again.
        wait_for(lambda: answers(base), 30, "answers again")
        for _ in range(20):
            assert request(f"{base}/health/ready")[0] == 200
