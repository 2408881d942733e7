"""PostgreSQL outages met by a running service: the database stopped (fast and immediate
shutdown) and frozen (SIGSTOP). Every request that needs the database answers 503 in the
error schema while it is away, none 500 and none hangs; the service is ready again soon
after it returns. The figures are printed (run with -s).

The cache and the rate limits are off, so every request meets the database."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import Project
from tests.postgres import PostgresProcess
from tests.test_real_process import http_request, serve

# Slack for a loaded test machine on top of the bounds the settings promise.
MARGIN = 3.0
# Seconds the database stays stopped, at least.
OUTAGE = 5.0


@dataclass(frozen=True)
class Reply:
    name: str
    sent: float
    received: float
    status: int | None  # None: no answer within the client's own timeout
    headers: dict[str, str]
    body: Any

    @property
    def seconds(self) -> float:
        return self.received - self.sent

    def unavailable(self) -> bool:
        """A 503 in the error schema, or readiness saying so in its own schema."""
        if self.status != 503:
            return False
        if self.name == "ready":
            return bool(self.body["status"] == "unavailable")
        error = self.body.get("error", {})
        return (
            error.get("code") == "service_unavailable"
            and bool(error.get("message"))
            and bool(error.get("request_id"))
            and int(self.headers.get("retry-after", "0")) > 0
        )


def call(
    name: str,
    url: str,
    *,
    method: str = "GET",
    body: dict[str, object] | None = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 60,
) -> Reply:
    req = http_request(method, url, body, form=form, token=token)
    sent = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            status, answer, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, dict(error.headers), error.read()
    except (TimeoutError, ConnectionError, urllib.error.URLError):
        return Reply(name, sent, time.monotonic(), None, {}, None)
    lowered = {key.lower(): value for key, value in answer.items()}
    return Reply(name, sent, time.monotonic(), status, lowered, json.loads(raw or b"{}"))


@dataclass
class Service:
    """The running service, a member with a token, and one of their items."""

    base: str
    email: str
    password: str
    token: str
    item_id: int
    settings: dict[str, Any]

    def requests(self) -> dict[str, Callable[[], Reply]]:
        """One request of each kind that needs the database, by name."""
        base, token = f"{self.base}/api/v1", self.token
        return {
            "read": lambda: call("read", f"{base}/items/{self.item_id}"),
            "list": lambda: call("list", f"{base}/items"),
            "create": lambda: call(
                "create",
                f"{base}/items",
                method="POST",
                body={"name": uuid.uuid4().hex},
                token=token,
            ),
            "me": lambda: call("me", f"{base}/users/me", token=token),
            "login": lambda: call(
                "login",
                f"{base}/auth/token",
                method="POST",
                form={"username": self.email, "password": self.password},
            ),
            "ready": lambda: call("ready", f"{self.base}/health/ready"),
        }

    def burst(self, count: int) -> list[Reply]:
        """`count` requests at once, of every kind in turn."""
        kinds = list(self.requests().values())
        with ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(kinds[i % len(kinds)]) for i in range(count)]
            return [future.result() for future in futures]

    def seconds_to_ready(self, since: float, timeout: float = 60) -> float:
        """Poll until readiness says 200 and an item reads back; seconds since `since`."""
        requests = self.requests()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if requests["ready"]().status == 200 and requests["read"]().status == 200:
                return time.monotonic() - since
            time.sleep(0.05)
        pytest.fail(f"not ready within {timeout}s of the database's return")


@dataclass
class Traffic:
    """Requests of every kind, sent one after another by a few threads until stopped."""

    service: Service
    threads: int = 3
    replies: list[Reply] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Traffic:
        kinds = list(self.service.requests().values())

        def send(offset: int) -> None:
            i = offset
            while not self._stop.is_set():
                self.replies.append(kinds[i % len(kinds)]())
                i += 1

        self._workers = [
            threading.Thread(target=send, args=(n,), daemon=True) for n in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=120)

    def wait_for(self, count: int, after: float, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while sum(r.sent >= after for r in self.replies) < count:
            assert time.monotonic() < deadline, f"fewer than {count} replies in {timeout}s"
            time.sleep(0.05)


def effective_settings(project: Project, env: dict[str, str]) -> dict[str, Any]:
    """The database settings the service runs with, read the way it reads them."""
    code = (
        "import json; from app.core.settings import Settings; "
        "print(json.dumps({k: v for k, v in Settings().model_dump().items() "
        "if k.startswith('db_')}))"
    )
    output = project.python(code, **env).stdout
    settings: dict[str, Any] = json.loads(output.splitlines()[-1])
    return settings


@pytest.fixture
def postgres() -> Iterator[PostgresProcess]:
    server = PostgresProcess()
    try:
        yield server
    finally:
        server.destroy()


@contextmanager
def running(project: Project, postgres: PostgresProcess) -> Iterator[Service]:
    postgres.server.admin("CREATE DATABASE app")
    url = postgres.url("app")
    project.run("alembic", "upgrade", "heads", database_url=url)
    env = project.env(url, CACHE_ENABLED="false", RATE_LIMIT_ENABLED="false")
    settings = effective_settings(project, env)
    with serve(project, env) as base:
        email, password = f"{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase"
        signup = call(
            "signup",
            f"{base}/api/v1/auth/signup",
            method="POST",
            body={"email": email, "password": password},
        )
        assert signup.status == 201, signup
        login = call(
            "login",
            f"{base}/api/v1/auth/token",
            method="POST",
            form={"username": email, "password": password},
        )
        assert login.status == 200, login
        token = login.body["access_token"]
        item = call(
            "create", f"{base}/api/v1/items", method="POST", body={"name": "bolt"}, token=token
        )
        assert item.status == 201, item
        service = Service(base, email, password, token, item.body["id"], settings)
        # Every kind works before the outage: the failures below are the outage's.
        assert all(reply.status in (200, 201) for reply in service.burst(12))
        yield service


def assert_recovered(service: Service) -> None:
    """More requests at once than the pool holds connections: every one succeeds, so no
    connection the outage broke was handed out again."""
    replies = service.burst(service.settings["db_pool_size"] + 10)
    assert [r for r in replies if r.status not in (200, 201)] == []


def counts(replies: list[Reply]) -> dict[str, int]:
    tally: dict[str, int] = {}
    for reply in replies:
        key = str(reply.status)
        tally[key] = tally.get(key, 0) + 1
    return tally


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_stopped_database_answers_503_and_the_service_recovers(
    variant: Callable[[str], Project], postgres: PostgresProcess, mode: str
) -> None:
    with (
        running(variant("everything"), postgres) as service,
        Traffic(service) as traffic,
    ):
        traffic.wait_for(12, after=0)
        stopping = time.monotonic()
        postgres.stop(mode)
        stopped = time.monotonic()
        traffic.wait_for(60, after=stopped)
        while time.monotonic() < stopped + OUTAGE:
            time.sleep(0.1)
        starting = time.monotonic()
        postgres.start()
        started = time.monotonic()
        to_ready = service.seconds_to_ready(since=started)
        traffic.wait_for(12, after=time.monotonic())
        assert_recovered(service)

    during = [r for r in traffic.replies if r.sent >= stopped and r.received <= starting]
    first_503 = min(r.received for r in traffic.replies if r.status == 503) - stopping
    print(
        f"\ndatabase stopped ({mode}): {len(during)} requests during the outage: "
        f"{counts(during)}; whole run: {counts(traffic.replies)}; "
        f"first 503 {first_503:.2f}s after the stop began; "
        f"ready {to_ready:.2f}s after the database was started again"
    )
    assert [
        r for r in traffic.replies if r.status is None or (r.status >= 500 and r.status != 503)
    ] == []
    assert [r for r in during if not r.unavailable()] == []
    assert {r.name for r in during} == set(service.requests())


def test_a_frozen_database_answers_503_within_the_timeouts(
    variant: Callable[[str], Project], postgres: PostgresProcess
) -> None:
    with running(variant("everything"), postgres) as service:
        settings = service.settings
        # A request either waits on a statement the server never answers, or for a pooled
        # connection and then for a new one that never opens.
        bound = (
            max(
                settings["db_command_timeout"],
                settings["db_pool_timeout"] + settings["db_connect_timeout"],
            )
            + MARGIN
        )
        postgres.freeze()
        frozen = time.monotonic()
        try:
            # More at once than the pool has connections: those left waiting must not
            # wait out the timeouts one after another.
            replies = service.burst(settings["db_pool_size"] + 10)
            ready = service.requests()["ready"]()
        finally:
            postgres.thaw()
        thawed = time.monotonic()
        to_ready = service.seconds_to_ready(since=thawed)
        assert_recovered(service)

    slowest = max(r.seconds for r in replies)
    print(
        f"\ndatabase frozen: {len(replies)} requests at once: {counts(replies)}; "
        f"slowest answer {slowest:.2f}s (bound {bound:.1f}s), readiness 503 in "
        f"{ready.seconds:.2f}s; all answered {max(r.received for r in replies) - frozen:.2f}s "
        f"after the freeze; ready {to_ready:.2f}s after the thaw"
    )
    assert [r for r in replies if not r.unavailable()] == []
    assert slowest < bound
    assert ready.unavailable()
    assert ready.seconds < 2 + MARGIN
