"""A read after a write is never stale, whatever Redis does meanwhile.

The all-modules service runs as real processes against a redis-server of the test's own,
which the test freezes (SIGSTOP) mid-write or slows down with load. Each test counts the
list reads that still show an item as it was before a write that had already answered.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project
from tests.ports import free_port
from tests.redis_server import RedisProcess
from tests.test_real_process import http_request, new_member, serve

# Longer than any back-off a client of Redis may take after a failure (the service's
# guard leaves Redis alone for 5 s): a dropped invalidation shows once Redis is used again.
WATCH_SECONDS = 7.0
LIST = "/api/v1/items?limit=100&sort=id"
# Under load a request may wait long, and slow is not what these tests are about.
PATIENCE_SECONDS = 60


def call(
    method: str,
    url: str,
    body: object = None,
    token: str | None = None,
    form: dict[str, str] | None = None,
) -> Any:
    """The JSON of a 200 or 201 answer; anything else fails the test."""
    req = http_request(method, url, body, form=form, token=token)
    with urllib.request.urlopen(req, timeout=PATIENCE_SECONDS) as response:
        assert response.status in (200, 201)
        return json.loads(response.read())


@dataclass
class Service:
    project: Project
    redis: RedisProcess
    env: dict[str, str]
    base: str
    token: str | None

    @contextmanager
    def paused_redis(self, at_least: float) -> Iterator[None]:
        """Redis frozen (SIGSTOP) for the block, and for `at_least` seconds."""
        until = time.monotonic() + at_least
        os.kill(self.redis.process.pid, signal.SIGSTOP)
        try:
            yield
            time.sleep(max(0.0, until - time.monotonic()))
        finally:
            os.kill(self.redis.process.pid, signal.SIGCONT)

    def create(self, count: int) -> list[int]:
        url = f"{self.base}/api/v1/items"
        new = [{"name": f"item {n} {uuid.uuid4().hex[:6]}", "quantity": 0} for n in range(count)]
        return [call("POST", url, item, self.token)["id"] for item in new]

    def patch(self, item_id: int, quantity: int, base: str | None = None) -> None:
        url = f"{base or self.base}/api/v1/items/{item_id}"
        call("PATCH", url, {"quantity": quantity}, self.token)

    def quantities(self, base: str | None = None) -> dict[int, int]:
        page = call("GET", f"{base or self.base}{LIST}")
        return {item["id"]: item["quantity"] for item in page["items"]}


@pytest.fixture
def service(variant: Callable[[str], Project], tmp_path: Path) -> Iterator[Service]:
    project = variant("everything")
    url = project.new_database()
    project.run("alembic", "upgrade", "heads", database_url=url)
    redis = RedisProcess(tmp_path / "redis")
    env = project.env(
        url,
        REDIS_URL=redis.url,
        CELERY_BROKER_URL=redis.url,
        # The test's own traffic would exceed the items budget; limits are tested elsewhere.
        RATE_LIMIT_ENABLED="false",
    )
    try:
        with serve(project, env, free_port()) as base:
            yield Service(project, redis, env, base, new_member(project, base))
    finally:
        redis.stop()


def stale_reads(
    read: Callable[[], dict[int, int]], expected: dict[int, int], seconds: float
) -> tuple[int, int]:
    """(stale, total): item reads that differ from `expected`, over `seconds` of reading."""
    stale = total = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = read()
        stale += sum(seen[item_id] != quantity for item_id, quantity in expected.items())
        total += len(expected)
        time.sleep(0.25)
    return stale, total


def test_writes_while_redis_is_frozen_are_not_lost(service: Service) -> None:
    ids = service.create(20)
    assert set(service.quantities()) == set(ids)  # the list is now cached
    assert set(service.quantities()) == set(ids)

    with service.paused_redis(at_least=0.75):
        for item_id in ids:
            service.patch(item_id, 7)
    stale, total = stale_reads(service.quantities, dict.fromkeys(ids, 7), WATCH_SECONDS)

    print(f"frozen Redis: {stale} stale of {total} item reads")
    assert stale == 0


def test_writes_under_load_are_not_lost(service: Service) -> None:
    ids = service.create(60)
    assert set(service.quantities()) == set(ids)
    email, password = f"{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase"
    call("POST", f"{service.base}/api/v1/auth/signup", {"email": email, "password": password})
    form = {"username": email, "password": password}
    done = threading.Event()

    def log_in_until_done() -> None:
        # Argon2 logins: CPU the service's Redis calls then wait behind.
        while not done.is_set():
            call("POST", f"{service.base}/api/v1/auth/token", form=form)

    def write_then_read(item_id: int) -> int:
        service.patch(item_id, item_id)
        return int(service.quantities()[item_id] != item_id)

    with ThreadPoolExecutor(max_workers=12) as pool:
        logins = [pool.submit(log_in_until_done) for _ in range(6)]
        try:
            stale_at_once = sum(pool.map(write_then_read, ids))
        finally:
            done.set()
        for login in logins:
            login.result()
    stale_later, total = stale_reads(
        service.quantities, {item_id: item_id for item_id in ids}, WATCH_SECONDS
    )

    print(f"under load: {stale_at_once} of {len(ids)} reads just after their write stale,")
    print(f"  then {stale_later} stale of {total} item reads")
    assert (stale_at_once, stale_later) == (0, 0)


def test_a_write_through_one_process_is_seen_by_another(service: Service) -> None:
    ids = service.create(10)
    with serve(service.project, service.env, free_port()) as other:
        assert set(service.quantities(other)) == set(ids)  # cached, read through the other
        assert set(service.quantities(other)) == set(ids)

        # The writer's Redis calls time out; the reader's, after the resume, do not.
        with service.paused_redis(at_least=0.5):
            for item_id in ids:
                service.patch(item_id, 3)
        seen = service.quantities(other)

    stale = sum(seen[item_id] != 3 for item_id in ids)
    print(f"two processes: {stale} of {len(ids)} item reads stale")
    assert stale == 0
